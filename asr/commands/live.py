"""``asr stream`` and ``asr serve``: live transcription in the terminal, and a WebSocket server with a web page.
Parsed here and run by :mod:`asr.live` and :mod:`asr.server`."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from ..errors import UsageError
from ..options import ServerOptions
from .common import AddCommand, option_default, stream_args, stream_setup

EXAMPLES = {
    "stream": "asr stream --mic\n  asr stream talk.wav --realtime --partials",
    "serve": "asr serve --port 8765   # then open http://127.0.0.1:8765/",
}


def add_commands(add: AddCommand) -> None:
    """Add ``stream`` and ``serve`` through ``add(name, help, example)``, which makes a subparser."""
    st = add(
        "stream",
        "Live transcription of the microphone or a file: partial results, a final line per utterance.",
        EXAMPLES["stream"],
    )
    st.add_argument("input", nargs="?", help="audio file (instead of --mic)")
    st.add_argument("--mic", action="store_true", help="listen to the microphone until Ctrl-C (needs the [mic] extra)")
    st.add_argument("--mic-device", default=None, help="input device name or number (default: the system's)")
    st.add_argument("--realtime", action="store_true", help="feed the file at real-time pace")
    st.add_argument("--partials", action="store_true", help="also show partial results (on stderr)")
    st.add_argument("--timestamps", action="store_true", help="prefix finals with [start - end] seconds")
    stream_args(st)

    sv = add(
        "serve",
        "WebSocket server (/ws; Vosk's protocol at /) and a web page (/) for live transcription from the browser "
        "microphone.",
        EXAMPLES["serve"],
    )
    sv.add_argument(
        "--host", default=option_default(ServerOptions, "host"), help="interface to bind (default: localhost only)"
    )
    sv.add_argument("--port", type=int, default=option_default(ServerOptions, "port"), help="0 picks a free port")
    sv.add_argument("--max-sessions", type=int, default=option_default(ServerOptions, "max_sessions"))
    sv.add_argument(
        "--workers",
        type=int,
        default=option_default(ServerOptions, "workers"),
        help="threads running the model for sessions",
    )
    sv.add_argument("--max-frame-bytes", type=int, default=option_default(ServerOptions, "max_frame_bytes"))
    sv.add_argument(
        "--idle-timeout",
        type=float,
        default=option_default(ServerOptions, "idle_timeout"),
        help="seconds without a message before closing",
    )
    stream_args(sv)


def cmd_stream(args: argparse.Namespace) -> int:
    from ..live import TerminalDisplay, file_blocks, microphone_blocks, run_stream

    if bool(args.mic) == bool(args.input):
        raise UsageError("give an audio file or --mic")
    blocks = microphone_blocks(args.mic_device) if args.mic else file_blocks(args.input, args.realtime)
    rec, opts = stream_setup(args)  # after the microphone check: a missing device is reported at once
    if args.mic:
        print("listening; Ctrl-C to stop", file=sys.stderr)
    run_stream(rec.stream(opts), blocks, TerminalDisplay(partials=args.partials or args.mic, times=args.timestamps))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from ..server import Server

    rec, opts = stream_setup(args)
    sopts = ServerOptions(**{f.name: getattr(args, f.name) for f in dataclasses.fields(ServerOptions)})

    def ready(host: str, port: int) -> None:
        print(
            f"asr serve: listening on http://{host}:{port}/ (WebSocket: ws://{host}:{port}/ws; "
            f"Vosk clients: ws://{host}:{port}/)",
            file=sys.stderr,
            flush=True,
        )

    asyncio.run(Server(rec, sopts, opts).run(ready))
    return 0


COMMANDS = {"stream": cmd_stream, "serve": cmd_serve}
