"""``asr serve``: live transcription over WebSocket, and a web page that streams the browser's microphone.

Protocol on ``/ws``:

1. client → text ``{"sample_rate": 16000, "format": "pcm_s16le"}`` (or ``"f32le"``), once;
2. client → binary audio frames (mono, that format and rate);
3. client → text ``{"eof": true}``;
4. server → text ``{"type": "partial" | "final", "text": ..., "start": s, "end": s}`` as results come, and after the
   last final it closes the connection.

A malformed message gets ``{"type": "error", "message": ...}`` and that connection closes; other sessions go on.

Vosk's protocol on the same port (``/``, or any path), chosen by the first message, so Vosk's clients work unchanged:

1. client → text ``{"config": {"sample_rate": 8000, "words": 1}}`` (optional: without it, 16 kHz and word times);
2. client → binary frames of 16-bit little-endian mono PCM; each is answered with exactly one message: at an
   endpoint ``{"text": ..., "result": [{"word", "start", "end", "conf"}, ...]}``, otherwise ``{"partial": ...}``;
3. client → text ``{"eof": 1}`` → the final result, then the server closes the connection.

Other config keys (``max_alternatives``, ``phrase_list``) are accepted and ignored; errors are ``{"error": ...}``.
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


VOSK_DEFAULT_RATE = 16000  # Vosk clients that send no config
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


def parse_json(message: str) -> dict:
    try:
        m = json.loads(message)
    except json.JSONDecodeError:
        raise ProtocolError(f"not JSON: {message[:80]!r}") from None
    if not isinstance(m, dict):
        raise ProtocolError(f"not a JSON object: {message[:80]!r}")
    return m


def is_vosk_start(message, path: str) -> bool:
    """Vosk's protocol: a first ``{"config": ...}`` (or eof) anywhere, or audio straight away at ``/``."""
    if isinstance(message, bytes):
        return path == "/"
    try:
        m = json.loads(message)
    except json.JSONDecodeError:
        return False
    return isinstance(m, dict) and ("config" in m or ("eof" in m and "sample_rate" not in m and path == "/"))


def vosk_rate(config) -> int:
    if not isinstance(config, dict):
        raise ProtocolError('config must be an object: {"config": {"sample_rate": 16000}}')
    rate = config.get("sample_rate", VOSK_DEFAULT_RATE)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or rate != int(rate) or not 8000 <= rate <= 192000:
        raise ProtocolError("sample_rate must be a whole number from 8000 to 192000")
    return int(rate)


def vosk_result(events, words: bool) -> dict:
    """The finals among ``events`` as one Vosk result (several, in one long frame, are joined); ``words``: with
    each word's times and confidence."""
    finals = [e for e in events if e.type == "final" and e.text]
    out: dict = {}
    if words and any(e.words for e in finals):
        out["result"] = [
            {"conf": w.confidence, "end": w.end, "start": w.start, "word": w.word} for e in finals for w in e.words
        ]
    out["text"] = " ".join(e.text for e in finals)
    return out


def decode_frame(data: bytes, dtype: np.dtype, scale: float) -> np.ndarray:
    """Binary frame → (N,) float32 samples; raises ProtocolError on a partial sample or non-finite values."""
    if len(data) % dtype.itemsize:
        raise ProtocolError(f"binary frame of {len(data)} bytes is not a whole number of {dtype.itemsize}-byte samples")
    samples = np.frombuffer(data, dtype=dtype).astype(np.float32) * scale
    if not np.all(np.isfinite(samples)):
        raise ProtocolError("audio contains NaN or infinite samples")
    return samples


def describe(recognizer, opts: StreamOptions) -> dict:
    """What ``/info`` tells the page: the model, its decoding and how it streams."""
    look = f", {opts.right_context:g} s look-ahead" if recognizer.model.cfg.bidirectional else ""
    return {**recognizer.describe(), "streaming": f"{opts.chunk:g} s chunks{look}"}


class Server:
    """Sessions over a shared, read-only model. ``run()`` serves until cancelled."""

    def __init__(
        self, recognizer, opts: ServerOptions = ServerOptions(), stream_opts: StreamOptions = StreamOptions()
    ) -> None:
        self.recognizer, self.opts, self.stream_opts = recognizer, opts, stream_opts
        self.pool = ThreadPoolExecutor(max_workers=opts.workers, thread_name_prefix="asr-model")
        self.sessions = 0
        page, info = PAGE.read_bytes(), json.dumps(describe(recognizer, stream_opts)).encode()
        html = (page, "text/html; charset=utf-8")
        self.routes = {"/": html, "/index.html": html, "/info": (info, "application/json")}  # path → (body, type)

    def _http(self, connection, request):
        """Plain HTTP: the page at ``/``, ``/info``; WebSocket upgrades (and ``/ws``) go on to the handshake."""
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        path = request.path.split("?")[0]
        if path == "/ws" or request.headers.get("Upgrade", "").lower() == "websocket":
            return None  # the WebSocket handshake: /ws (this protocol) or / (Vosk's, or this one)
        if path == "/favicon.ico":  # no icon, and no 404 in the browser's console
            return Response(204, "No Content", Headers([("Cache-Control", "max-age=86400")]), b"")
        if path in self.routes:
            data, kind = self.routes[path]
            headers = Headers(
                [("Content-Type", kind), ("Content-Length", str(len(data))), ("Cache-Control", "no-store")]
            )
            return Response(200, "OK", headers, data)
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
        stream = self.recognizer.stream(self.stream_opts)
        vosk = False
        try:
            first = await self._recv(ws)
            vosk = is_vosk_start(first, ws.request.path.split("?")[0])
            await (self._vosk_session if vosk else self._session)(ws, stream, first)
        except ProtocolError as e:
            await ws.send(json.dumps({"error": str(e)} if vosk else {"type": "error", "message": str(e)}))
            await ws.close(1008, "protocol error")
        except asyncio.TimeoutError:
            message = f"idle for {self.opts.idle_timeout:g} s"
            await ws.send(json.dumps({"error": message} if vosk else {"type": "error", "message": message}))
            await ws.close(1000, "idle")
        except Exception as e:  # the client went away (ConnectionClosed) or sent something undecodable
            from websockets.exceptions import ConnectionClosed

            if not isinstance(e, ConnectionClosed):
                print(f"asr serve: session error: {e}", file=sys.stderr)
                await ws.close(1011, "internal error")
        finally:
            self.sessions -= 1

    def _audio(self, message: bytes, dtype: np.dtype, scale: float) -> np.ndarray:
        if len(message) > self.opts.max_frame_bytes:
            raise ProtocolError(
                f"binary frame of {len(message)} bytes is over the limit of {self.opts.max_frame_bytes}"
            )
        return decode_frame(message, dtype, scale)

    async def _run(self, fn, *args):
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def _session(self, ws, stream, first) -> None:
        """This server's protocol (module docstring)."""
        rate, dtype, scale = parse_start(first)
        while True:
            message = await self._recv(ws)
            if isinstance(message, str):
                try:
                    eof = json.loads(message).get("eof") is True
                except (json.JSONDecodeError, AttributeError):
                    eof = False
                if not eof:
                    raise ProtocolError('text messages after the first must be {"eof": true}')
                await self._send_events(ws, await self._run(stream.finish))
                await ws.close(1000, "done")
                return
            await self._send_events(ws, await self._run(stream.accept, self._audio(message, dtype, scale), rate))

    async def _vosk_session(self, ws, stream, message) -> None:
        """Vosk's protocol (module docstring): one reply per audio frame, the final result at eof."""
        dtype, scale = FORMATS["pcm_s16le"]
        rate, words, started = VOSK_DEFAULT_RATE, True, False
        while True:
            if isinstance(message, str):
                m = parse_json(message)
                if "eof" in m:
                    await ws.send(json.dumps(vosk_result(await self._run(stream.finish), words)))
                    await ws.close(1000, "done")
                    return
                if "config" not in m:
                    raise ProtocolError('text messages must be {"config": {...}} or {"eof": 1}')
                new_rate = vosk_rate(m["config"])
                if started and new_rate != rate:
                    raise ProtocolError("sample_rate cannot change once audio has been sent")
                rate, words = new_rate, bool(m["config"].get("words", words))
            else:
                started = True
                result = vosk_result(await self._run(stream.accept, self._audio(message, dtype, scale), rate), words)
                await ws.send(json.dumps(result if result["text"] else {"partial": stream.partial}))
            message = await self._recv(ws)

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
            # While the cores decode, a pong may wait longer than a keepalive timeout would allow; a client that is
            # really gone is found by idle_timeout instead, so no live session is ever dropped with 1011.
            ping_timeout=None,
        ) as server:
            host, port = server.sockets[0].getsockname()[:2]
            if ready is not None:
                ready(host, port)
            await server.serve_forever()
