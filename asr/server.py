"""``asr serve``: live transcription over WebSocket, and a web page that streams the browser's microphone.

Protocol on ``/ws``:

1. client → text ``{"sample_rate": 16000, "format": "pcm_s16le"}`` (or ``"f32le"``), once;
2. client → binary audio frames (mono, that format and rate);
3. client → text ``{"eof": true}``;
4. server → text ``{"type": "partial" | "final", "text": ..., "start": s, "end": s}`` as results come, and after the
   last final it closes the connection.

A malformed message gets ``{"type": "error", "message": ...}`` and that connection closes; other sessions go on.
Limits: ``max_sessions`` at once, ``max_frame_bytes`` per message (a larger one gets the JSON error, then the
connection closes), ``idle_timeout`` seconds between messages.
The model runs in a small thread pool, so sessions interleave while the event loop stays responsive.
"""

from __future__ import annotations

import asyncio
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import numpy as np

from .options import ServerOptions, StreamOptions

PAGE = Path(__file__).parent / "assets" / "index.html"
FORMATS = {"pcm_s16le": (np.dtype("<i2"), 1 / 32768), "f32le": (np.dtype("<f4"), 1.0)}


OVERSIZE_READ = 16  # frames up to this many times max_frame_bytes are read and answered with a JSON error


class ProtocolError(Exception):
    """A client broke the protocol; the message goes back to it."""


def parse_start(message) -> tuple[int, np.dtype, float]:
    """The first message → (sample rate, sample dtype, scale to [-1, 1])."""
    if not isinstance(message, str):
        raise ProtocolError('the first message must be text: {"sample_rate": 16000, "format": "pcm_s16le"}')
    try:
        start = json.loads(message)
    except json.JSONDecodeError:
        raise ProtocolError("the first message is not JSON") from None
    if not isinstance(start, dict):
        raise ProtocolError("the first message must be a JSON object")
    rate, fmt = start.get("sample_rate"), start.get("format", "pcm_s16le")
    if not isinstance(rate, int) or isinstance(rate, bool) or not 8000 <= rate <= 192000:
        raise ProtocolError("sample_rate must be an integer from 8000 to 192000")
    if fmt not in FORMATS:
        raise ProtocolError(f"format must be one of {', '.join(FORMATS)}")
    return (rate, *FORMATS[fmt])


def decode_frame(data: bytes, dtype: np.dtype, scale: float) -> np.ndarray:
    """Binary frame → (N,) float32 samples; raises ProtocolError on a partial sample or non-finite values."""
    if len(data) % dtype.itemsize:
        raise ProtocolError(f"binary frame of {len(data)} bytes is not a whole number of {dtype.itemsize}-byte samples")
    samples = np.frombuffer(data, dtype=dtype).astype(np.float32) * scale
    if not np.all(np.isfinite(samples)):
        raise ProtocolError("audio contains NaN or infinite samples")
    return samples


class Server:
    """Sessions over a shared, read-only model. ``run()`` serves until cancelled."""

    def __init__(
        self, recognizer, opts: ServerOptions = ServerOptions(), stream_opts: StreamOptions = StreamOptions()
    ) -> None:
        self.recognizer, self.opts, self.stream_opts = recognizer, opts, stream_opts
        self.pool = ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix="asr-model")
        self.sessions = 0
        self.page = PAGE.read_bytes()

    def _http(self, connection, request):
        """Plain HTTP: the page at ``/``; ``/ws`` goes on to the WebSocket handshake."""
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        path = request.path.split("?")[0]
        if path == "/ws":
            return None
        if path in ("/", "/index.html"):
            headers = Headers(
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(self.page))),
                    ("Cache-Control", "no-store"),
                ]
            )
            return Response(200, "OK", headers, self.page)
        return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")

    async def _recv(self, ws):
        return await asyncio.wait_for(ws.recv(), self.opts.idle_timeout)

    async def _send_events(self, ws, events) -> None:
        for e in events:
            await ws.send(json.dumps(e.to_dict()))

    async def handle(self, ws) -> None:
        if self.sessions >= self.opts.max_sessions:
            await ws.send(json.dumps({"type": "error", "message": "server busy: too many sessions"}))
            await ws.close(1013, "busy")
            return
        self.sessions += 1
        loop = asyncio.get_running_loop()
        stream = self.recognizer.stream(self.stream_opts)
        try:
            rate, dtype, scale = parse_start(await self._recv(ws))
            while True:
                message = await self._recv(ws)
                if isinstance(message, str):
                    try:
                        eof = json.loads(message).get("eof") is True
                    except (json.JSONDecodeError, AttributeError):
                        eof = False
                    if not eof:
                        raise ProtocolError('text messages after the first must be {"eof": true}')
                    await self._send_events(ws, await loop.run_in_executor(self.pool, stream.finish))
                    await ws.close(1000, "done")
                    return
                if len(message) > self.opts.max_frame_bytes:
                    raise ProtocolError(
                        f"binary frame of {len(message)} bytes is over the limit of {self.opts.max_frame_bytes}"
                    )
                samples = decode_frame(message, dtype, scale)
                await self._send_events(ws, await loop.run_in_executor(self.pool, stream.accept, samples, rate))
        except ProtocolError as e:
            await ws.send(json.dumps({"type": "error", "message": str(e)}))
            await ws.close(1008, "protocol error")
        except asyncio.TimeoutError:
            await ws.send(json.dumps({"type": "error", "message": f"idle for {self.opts.idle_timeout:g} s"}))
            await ws.close(1000, "idle")
        except Exception as e:  # the client went away (ConnectionClosed) or sent something undecodable
            from websockets.exceptions import ConnectionClosed

            if not isinstance(e, ConnectionClosed):
                print(f"asr serve: session error: {e}", file=sys.stderr)
                await ws.close(1011, "internal error")
        finally:
            self.sessions -= 1

    async def run(self, ready=None) -> None:
        """Serve forever. ``ready(host, port)`` is called once listening."""
        from websockets.asyncio.server import serve

        # websockets drops messages over max_size with a bare close frame (1009). Frames up to 16x the limit are read
        # so that the client gets our JSON error naming the limit; only absurd ones meet the bare close.
        async with serve(
            self.handle,
            self.opts.host,
            self.opts.port,
            process_request=self._http,
            max_size=self.opts.max_frame_bytes * OVERSIZE_READ + 1024,
        ) as server:
            host, port = server.sockets[0].getsockname()[:2]
            if ready is not None:
                ready(host, port)
            await server.serve_forever()
