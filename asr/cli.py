"""Command-line interface: ``asr train | evaluate | transcribe | lm``."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .errors import AsrError, UsageError
from .options import (
    DEFAULT_BOOST,
    EVAL_BATCH_SIZE,
    MAX_BOOST,
    MAX_WORD_BONUS,
    DecodeOptions,
    ServerOptions,
    StreamOptions,
    TranscribeOptions,
)

EXAMPLES = {
    "train": "asr train --config conf/tiny.yaml --train data/train.jsonl --valid data/dev.jsonl --exp-dir exp/tiny "
    "train.epochs=30",
    "evaluate": "asr evaluate --model exp/tiny/best.pt --manifest data/test.jsonl --out exp/tiny/test_beam "
    "--decoder beam --lm lm/lm.arpa --lexicon lm/lexicon.txt",
    "transcribe": "asr transcribe meeting.mp3 --format srt --output-dir subs/\n"
    "  asr transcribe recordings/ --glob '*.flac' --format json --output-dir out/ --verbose\n"
    "  asr transcribe --hotwords kubernetes:3,grafana call.wav",
    "stream": "asr stream --mic\n  asr stream talk.wav --realtime --partials",
    "serve": "asr serve --port 8765   # then open http://127.0.0.1:8765/",
    "export": "asr export --model exp/real/best.pt --out model.pt --int8-weights --info recipe=recipes/real/run.sh\n"
    "  asr export --model asr/assets/default.pt --out model.ts --torchscript",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="asr", description="BiLSTM/GRU-CTC speech recognition.")
    p.add_argument("--debug", action="store_true", help="show a traceback for errors in the input too")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str, example: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example or EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    t = add("train", "Train a CTC model (resumes from EXP_DIR/last.pt if present).")
    t.add_argument("--config", help="YAML file of overrides (conf/*.yaml)")
    t.add_argument("--train", required=True, nargs="+", help="training manifest(s) (JSONL)")
    t.add_argument(
        "--valid", required=True, nargs="+", help="validation manifest(s) (JSONL); the first one picks best.pt"
    )
    t.add_argument("--exp-dir", required=True, help="output folder")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    t.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides, applied last")

    e = add("evaluate", "Decode a manifest, write hyp.jsonl and errors.txt, print WER/CER.")
    e.add_argument("--model", help="checkpoint, or a bundled model's name (default: the bundled model, 'default')")
    e.add_argument("--manifest", required=True)
    e.add_argument("--out", required=True, help="output folder")
    _batch_args(e, "utterances decoded together (sorted by length)", EVAL_BATCH_SIZE)
    _decode_args(e)

    r = add("transcribe", "Transcribe audio files, folders or stdin (-): text, JSON with word times, SRT, VTT.")
    r.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files, folders (searched recursively), or -")
    r.add_argument("--model", help="checkpoint, or a bundled model's name (default: the bundled model, 'default')")
    r.add_argument("--glob", default=None, help="file pattern inside folders (default: common audio extensions)")
    r.add_argument("--format", choices=["txt", "json", "srt", "vtt", "all"], default="txt")
    r.add_argument(
        "--output-dir", help="write DIR/<path>.<ext> per input, mirroring the input folders, instead of printing"
    )
    r.add_argument("--overwrite", action="store_true", help="replace output files that exist already")
    _batch_args(r, "segments decoded together (across files too)", _default(TranscribeOptions, "batch_size"))
    r.add_argument("--verbose", action="store_true", help="print duration, processing time and real-time factor")
    _decode_args(r)
    r.set_defaults(device="cpu")

    st = add("stream", "Live transcription of the microphone or a file: partial results, a final line per utterance.")
    st.add_argument("input", nargs="?", help="audio file (instead of --mic)")
    st.add_argument("--mic", action="store_true", help="listen to the microphone until Ctrl-C (needs the [mic] extra)")
    st.add_argument("--mic-device", default=None, help="input device name or number (default: the system's)")
    st.add_argument("--realtime", action="store_true", help="feed the file at real-time pace")
    st.add_argument("--partials", action="store_true", help="also show partial results (on stderr)")
    st.add_argument("--timestamps", action="store_true", help="prefix finals with [start - end] seconds")
    _stream_args(st)

    sv = add(
        "serve",
        "WebSocket server (/ws; Vosk's protocol at /) and a web page (/) for live transcription from the browser "
        "microphone.",
    )
    sv.add_argument(
        "--host", default=_default(ServerOptions, "host"), help="interface to bind (default: localhost only)"
    )
    sv.add_argument("--port", type=int, default=_default(ServerOptions, "port"), help="0 picks a free port")
    sv.add_argument("--max-sessions", type=int, default=_default(ServerOptions, "max_sessions"))
    sv.add_argument(
        "--workers", type=int, default=_default(ServerOptions, "workers"), help="threads running the model for sessions"
    )
    sv.add_argument("--max-frame-bytes", type=int, default=_default(ServerOptions, "max_frame_bytes"))
    sv.add_argument(
        "--idle-timeout",
        type=float,
        default=_default(ServerOptions, "idle_timeout"),
        help="seconds without a message before closing",
    )
    _stream_args(sv)

    ex = add("export", "Write the inference part of a checkpoint (weights, config, tokenizer, CMVN), or TorchScript.")
    ex.add_argument("--model", required=True, help="checkpoint (best.pt, last.pt or an exported one)")
    ex.add_argument("--out", required=True)
    ex.add_argument("--torchscript", action="store_true", help="write a traced TorchScript module instead")
    ex.add_argument("--int8", action="store_true", help="with --torchscript: quantise to int8 first")
    store = ex.add_mutually_exclusive_group()
    store.add_argument(
        "--fp16",
        action="store_true",
        help="store the weight matrices as float16 (half the file; loaded back as float32)",
    )
    store.add_argument(
        "--int8-weights",
        action="store_true",
        help="store the weight matrices as int8 with a scale per row (a quarter of the file; loaded back as float32)",
    )
    ex.add_argument("--info", nargs="*", default=[], metavar="KEY=VALUE", help="notes stored in the checkpoint")
    ex.add_argument(
        "--blend",
        nargs=2,
        metavar=("CKPT", "A"),
        default=None,
        help="write A x the model + (1 - A) x CKPT's weights (same shape), e.g. to pull a fine-tuned "
        "model back towards its start",
    )

    from .corpus.cli import add_corpus_commands

    add_corpus_commands(add)
    return p


def _default(cls, name: str):
    """The default of option ``name`` from the dataclass that owns it."""
    import dataclasses

    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _batch_args(p: argparse.ArgumentParser, batch_help: str, batch_size: int) -> None:
    """--batch-size and --threads (checked by TranscribeOptions)."""
    p.add_argument("--batch-size", type=int, default=batch_size, help=batch_help)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: half the cores, at least 1; never slower than 1 on a busy machine)",
    )


def _decode_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--decoder",
        choices=["greedy", "beam"],
        default=None,
        help="default: beam with the bundled LM for the bundled model; otherwise greedy, or beam when "
        "--beam-size/--lm/--lexicon/--hotwords is given",
    )
    p.add_argument("--no-lm", action="store_true", help="the bundled model without the bundled LM")
    p.add_argument(
        "--beam-size",
        type=int,
        default=None,
        help=f"default {_default(DecodeOptions, 'beam_size')}; with the bundled LM 128",
    )
    p.add_argument("--lm", help="ARPA (or KenLM binary) word LM; needs --lexicon")
    p.add_argument("--lexicon", help="lexicon file (asr lm writes one)")
    p.add_argument("--lm-weight", type=float, default=None)
    p.add_argument("--word-score", type=float, default=None)
    p.add_argument(
        "--hotwords",
        action="append",
        metavar="WORD[:BOOST],…",
        default=[],
        help="bias the beam search towards these words, comma-separated; may be repeated and go before or after the "
        f"inputs (BOOST: log-prob bonus per letter, 0-{MAX_BOOST:g}, at most {MAX_WORD_BONUS:g} a word)",
    )
    p.add_argument("--hotword-boost", type=float, default=DEFAULT_BOOST, help="BOOST of hotwords given without one")
    p.add_argument("--int8", action="store_true", help="int8-quantised RNN and linear layers (faster on CPU)")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    p.add_argument(
        "--no-vad", action="store_true", help="decode each input whole, without cutting it at pauses (short clips)"
    )


def _stream_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="checkpoint (default: the bundled model, streamed as an LC-BLSTM)")
    p.add_argument(
        "--chunk",
        type=float,
        default=_default(StreamOptions, "chunk"),
        help="seconds of audio per step and between partials",
    )
    p.add_argument(
        "--right-context",
        type=float,
        default=_default(StreamOptions, "right_context"),
        help="look-ahead in seconds for bidirectional models (LC-BLSTM)",
    )
    p.add_argument(
        "--endpoint",
        type=float,
        default=_default(StreamOptions, "min_gap"),
        help="seconds of non-speech that end an utterance",
    )
    p.add_argument("--threads", type=int, default=1, help="CPU threads for the model")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="int8-quantised RNN and linear layers (default: on for the CPU; speed and WER in docs/streaming.md)",
    )


def _stream_setup(args: argparse.Namespace):
    from .transcribe import load_model

    opts = StreamOptions(chunk=args.chunk, right_context=args.right_context, min_gap=args.endpoint)
    rec = load_model(args.model, args.device, threads=args.threads, streaming=True, int8=args.int8)
    rec.stream(opts)  # fails now, not per session, if the model cannot stream
    return rec, opts


def cmd_stream(args: argparse.Namespace) -> int:
    from .live import TerminalDisplay, file_blocks, microphone_blocks, run_stream

    if bool(args.mic) == bool(args.input):
        raise UsageError("give an audio file or --mic")
    blocks = microphone_blocks(args.mic_device) if args.mic else file_blocks(args.input, args.realtime)
    rec, opts = _stream_setup(args)  # after the microphone check: a missing device is reported at once
    if args.mic:
        print("listening; Ctrl-C to stop", file=sys.stderr)
    run_stream(rec.stream(opts), blocks, TerminalDisplay(partials=args.partials or args.mic, times=args.timestamps))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from .server import Server, ServerOptions

    rec, opts = _stream_setup(args)
    sopts = ServerOptions(
        host=args.host,
        port=args.port,
        max_sessions=args.max_sessions,
        workers=args.workers,
        max_frame_bytes=args.max_frame_bytes,
        idle_timeout=args.idle_timeout,
    )

    def ready(host: str, port: int) -> None:
        print(
            f"asr serve: listening on http://{host}:{port}/ (WebSocket: ws://{host}:{port}/ws; "
            f"Vosk clients: ws://{host}:{port}/)",
            file=sys.stderr,
            flush=True,
        )

    asyncio.run(Server(rec, sopts, opts).run(ready))
    return 0


def _decode_options(args: argparse.Namespace):
    from .bundled import DEFAULT_MODEL, decode_options, resolve_model

    return decode_options(
        bundled=resolve_model(args.model) == DEFAULT_MODEL,
        decoder=args.decoder,
        no_lm=args.no_lm,
        lm=args.lm,
        lexicon=args.lexicon,
        hotwords=args.hotwords,
        hotword_boost=args.hotword_boost,
        beam_size=args.beam_size,
        lm_weight=args.lm_weight,
        word_score=args.word_score,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from .config import dump_config, load_config
    from .train import train

    cfg = load_config(args.config, args.overrides)
    if args.print_config:
        print(dump_config(cfg), end="")
        return 0
    train(cfg, args.train, args.valid, args.exp_dir)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .transcribe import load_model
    from .vad import VadOptions

    topts = TranscribeOptions(batch_size=args.batch_size, threads=args.threads)
    rec = load_model(args.model, args.device, _decode_options(args), topts.threads, int8=args.int8)
    result = evaluate(
        rec, args.manifest, args.out, vad=None if args.no_vad else VadOptions(), batch_size=topts.batch_size
    )
    print(f"hypotheses: {Path(args.out) / 'hyp.jsonl'}, alignments: {Path(args.out) / 'errors.txt'}")
    print(result.summary())
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from .bundled import BUNDLED_MODELS
    from .formats import FORMATS
    from .inputs import expand_inputs, output_paths

    # Everything that can be refused is refused before torch and the model load (a second, not ten).
    topts = TranscribeOptions(batch_size=args.batch_size, threads=args.threads)
    dopts = _decode_options(args)
    if args.model and not Path(args.model).is_file() and args.model not in BUNDLED_MODELS:
        raise UsageError(f"{args.model}: no such model file")
    formats = FORMATS if args.format == "all" else (args.format,)
    if not args.output_dir and args.format == "all":
        raise UsageError("--format all needs --output-dir")
    inputs = expand_inputs(args.inputs, args.glob)
    try:
        for e in inputs.errors:
            print(f"asr: error: {e}", file=sys.stderr)
        files = inputs.files
        if not files:
            return 1
        if not args.output_dir and len(files) > 1 and args.format in ("srt", "vtt"):
            raise UsageError(f"--format {args.format} with several inputs needs --output-dir")
        outputs = output_paths(inputs, args.output_dir, formats, args.overwrite) if args.output_dir else {}
        from .transcribe import load_model

        rec = load_model(args.model, args.device, dopts, topts.threads, int8=args.int8)
        return _transcribe_files(args, rec, inputs, outputs, formats, topts, len(inputs.errors))
    finally:
        inputs.cleanup()


def _transcribe_files(args: argparse.Namespace, rec, inputs, outputs: dict, formats: tuple, topts, failed: int) -> int:
    import json
    import time

    from tqdm import tqdm

    from .audio import audio_duration
    from .formats import WRITERS
    from .vad import VadOptions

    files = inputs.files
    t0, total_audio = time.perf_counter(), 0.0
    if len(files) == 1:  # one (maybe long) file: a bar over seconds of audio, on a terminal only
        try:
            length = audio_duration(files[0])
        except Exception:
            length = None
        bar = tqdm(
            total=round(length, 1) if length else None,
            unit="s",
            unit_scale=False,
            disable=None,
            file=sys.stderr,
            bar_format="{l_bar}{bar}| {n:.0f}/{total_fmt} s audio [{elapsed}<{remaining}]",
        )

        def progress(seconds: float) -> None:
            bar.update(round(seconds - bar.n, 1))
    else:
        bar = tqdm(total=len(files), unit="file", disable=len(files) < 2 or None, file=sys.stderr)
        progress = None
    vad = None if args.no_vad else VadOptions()
    for path, result in rec.transcribe_many(files, topts.batch_size, vad, progress=progress):
        if len(files) > 1:
            bar.update(1)
        if isinstance(result, Exception):
            bar.write(f"asr: error: {str(result).replace(str(path), inputs.display(path))}", file=sys.stderr)
            failed += 1
            continue
        for warning in result.warnings:
            bar.write(f"asr: warning: {inputs.display(path)}: {warning}", file=sys.stderr)
        total_audio += result.duration
        if args.verbose:
            rtf = result.processing_time / max(result.duration, 1e-9)
            bar.write(
                f"{inputs.display(path)}: {result.duration:.1f} s audio in {result.processing_time:.2f} s "
                f"(RTF {rtf:.3f})",
                file=sys.stderr,
            )
        if args.output_dir:
            for fmt in formats:
                out = outputs[path][fmt]
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(WRITERS[fmt](result))
                bar.write(f"{inputs.display(path)} → {out}", file=sys.stdout)
        elif len(files) > 1 and args.format == "json":  # JSON Lines: one object per input, naming it
            print(json.dumps({"file": inputs.display(path)} | result.to_dict(), ensure_ascii=False), flush=True)
        elif len(files) > 1:
            print(f"{inputs.display(path)}: {result.text}", flush=True)
        else:
            print(WRITERS[args.format](result), end="", flush=True)
    bar.close()
    wall = time.perf_counter() - t0
    if args.verbose and total_audio:
        print(
            f"total: {total_audio:.1f} s audio in {wall:.2f} s wall time (RTF {wall / total_audio:.3f})",
            file=sys.stderr,
        )
    return 1 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from .checkpoint import export_model, load_checkpoint_model

    if args.torchscript:
        from .export import export_torchscript, quantize_int8

        model, tokenizer, _ = load_checkpoint_model(args.model)
        export_torchscript(quantize_int8(model) if args.int8 else model, args.out, tokenizer.state_dict())
        print(
            f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): forward(wav (B, N), lens (B,)) → "
            "(log_probs (B, T, V), lens (B,)); the V tokens are its extra file tokens.json, the units and any "
            "pronunciation lexicon its extra file tokenizer.json"
        )
        return 0
    info = dict(kv.split("=", 1) for kv in args.info if "=" in kv)
    if len(info) != len(args.info):
        raise UsageError("--info takes KEY=VALUE pairs")
    weights = "float16" if args.fp16 else "int8" if args.int8_weights else "float32"
    blend = None
    if args.blend:
        try:
            blend = (args.blend[0], float(args.blend[1]))
        except ValueError:
            raise UsageError(f"--blend: A must be a number, got {args.blend[1]!r}") from None
    meta = export_model(args.model, args.out, weights=weights, blend=blend, **info)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): {meta}")
    return 0


COMMANDS = {  # what users run; the corpus tooling's commands come from asr.corpus.cli
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "transcribe": cmd_transcribe,
    "stream": cmd_stream,
    "serve": cmd_serve,
    "export": cmd_export,
}


OVERRIDE = re.compile(r"^[a-z_]+\.[a-z_0-9]+=")  # section.key=value


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    # argparse takes positionals in one run: overrides after a later option (`--exp-dir X a.b=1`) end up here.
    if (
        extra
        and getattr(args, "overrides", None) is not None
        and all("=" in e and not e.startswith("-") for e in extra)
    ):
        args.overrides += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "train":  # section.key=value right after --train/--valid FILE… is an override, not a file
        for name in ("train", "valid"):
            files = getattr(args, name)
            args.overrides += [f for f in files if OVERRIDE.match(f)]
            setattr(args, name, [f for f in files if not OVERRIDE.match(f)])
            if not getattr(args, name):
                parser.error(f"--{name} needs at least one manifest")
    from .corpus.cli import CORPUS_COMMANDS

    try:
        code = (COMMANDS | CORPUS_COMMANDS)[args.command](args)
    except (AsrError, OSError) as e:  # the user's input or files; anything else is a bug and keeps its traceback
        if args.debug:
            raise
        print(f"asr: error: {e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("asr: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
