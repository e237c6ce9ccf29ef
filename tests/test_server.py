"""``asr serve``: started by the tests on 127.0.0.1, driven by WebSocket clients and by headless Chromium."""

import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
import soundfile as sf
from conftest import run_asr

from asr.audio import load_audio

websockets = pytest.importorskip("websockets")
from websockets.sync.client import connect  # noqa: E402


def start_server(*args: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", "asr", "serve", "--port", "0", *args], stderr=subprocess.PIPE, text=True
    )
    line = proc.stderr.readline()
    m = re.search(r"http://([\d.]+):(\d+)/", line)
    if not m:
        proc.kill()
        raise AssertionError(f"server did not start: {line}{proc.stderr.read()}")
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep draining stderr
    return proc, f"{m.group(1)}:{m.group(2)}"


@pytest.fixture(scope="module")
def server():
    proc, addr = start_server()
    yield addr
    proc.terminate()
    proc.wait(10)


def stream_over_ws(
    addr: str, audio: np.ndarray, rate: int = 16000, fmt: str = "pcm_s16le", frame_s: float = 0.1
) -> list[dict]:
    """Send audio as the protocol says; return every message the server sent until it closed."""
    msgs = []
    with connect(f"ws://{addr}/ws", open_timeout=30) as ws:
        ws.send(json.dumps({"sample_rate": rate, "format": fmt}))
        if fmt == "pcm_s16le":  # the inverse of the server's 1/32768: a 16-bit file's samples arrive bit-exact
            data = np.clip(np.round(audio * 32768), -32768, 32767).astype("<i2")
        else:
            data = audio.astype("<f4")
        step = int(frame_s * rate)
        for i in range(0, len(data), step):
            ws.send(data[i : i + step].tobytes())
        ws.send(json.dumps({"eof": True}))
        try:
            while True:
                msgs.append(json.loads(ws.recv(timeout=60)))
        except websockets.exceptions.ConnectionClosedOK:
            pass
    return msgs


def finals(msgs: list[dict]) -> str:
    return " ".join(m["text"] for m in msgs if m["type"] == "final" and m["text"])


@pytest.fixture(scope="module")
def expected(three_utterances) -> str:
    """What `asr stream` prints for the file: the server must give the same."""
    return " ".join(run_asr("stream", three_utterances[0]).stdout.split())


def test_client_gets_the_final_text(server, three_utterances, expected):
    audio = load_audio(three_utterances[0])
    msgs = stream_over_ws(server, audio)
    assert {m["type"] for m in msgs} == {"partial", "final"}
    assert finals(msgs) == expected and len(expected.split()) >= 8
    for m in msgs:
        assert set(m) == {"type", "text", "start", "end"} and 0 <= m["start"] <= m["end"] <= len(audio) / 16000 + 0.01
    assert msgs[-1]["type"] == "final"


def test_float_audio_at_44k(server, three_utterances, expected):
    import soxr

    from asr.metrics import cer

    audio = soxr.resample(load_audio(three_utterances[0]), 16000, 44100)
    got = finals(stream_over_ws(server, audio, rate=44100, fmt="f32le"))
    assert cer([expected], [got]) < 15.0


def test_twenty_concurrent_clients(server, three_utterances):
    audio = load_audio(three_utterances[0])
    gaps = [i for i in range(0, len(audio) - 8000, 160) if np.abs(audio[i : i + 8000]).max() == 0]
    cut = gaps[len(gaps) // 2]  # somewhere in the middle silence
    clips = [audio[:cut], audio[cut:], audio, audio[::-1].copy()]
    want = [finals(stream_over_ws(server, c)) for c in clips]
    assert len(set(want)) == 4
    results: dict[int, str] = {}

    def client(i: int) -> None:
        results[i] = finals(stream_over_ws(server, clips[i % 4], frame_s=0.05 + 0.01 * (i % 5)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert [results.get(i) for i in range(20)] == [want[i % 4] for i in range(20)]


@pytest.mark.parametrize(
    "first, then, reason",
    [
        (b"\x00\x01", None, "must be text"),
        ("not json", None, "not JSON"),
        (json.dumps({"sample_rate": 16000, "format": "mp3"}), None, "format"),
        (json.dumps({"sample_rate": "fast"}), None, "sample_rate"),
        (json.dumps({"sample_rate": 16000}), b"\x00\x01\x02", "whole number"),
        (json.dumps({"sample_rate": 16000}), "hello", "eof"),
        (json.dumps({"sample_rate": 16000}), b"\x00" * (8 << 20), "over the limit"),
    ],
)
def test_malformed_client_gets_an_error_and_the_server_goes_on(server, three_utterances, expected, first, then, reason):
    with connect(f"ws://{server}/ws", max_size=None) as ws:
        ws.send(first)
        if then is not None:
            ws.send(then)
        msg = json.loads(ws.recv(timeout=30))
        assert msg["type"] == "error" and reason in msg["message"]
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            ws.recv(timeout=30)
    assert finals(stream_over_ws(server, load_audio(three_utterances[0]))) == expected


def test_limits_busy_and_idle():
    proc, addr = start_server("--max-sessions", "1", "--idle-timeout", "1")
    try:
        with connect(f"ws://{addr}/ws") as first:
            first.send(json.dumps({"sample_rate": 16000}))
            with connect(f"ws://{addr}/ws") as second:
                msg = json.loads(second.recv(timeout=30))
                assert msg == {"type": "error", "message": "server busy: too many sessions"}
            msg = json.loads(first.recv(timeout=30))  # then the first one idles out
            assert msg["type"] == "error" and "idle" in msg["message"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_page_is_served(server):
    html = urllib.request.urlopen(f"http://{server}/", timeout=30).read().decode()
    assert "getUserMedia" in html and "/ws" in html
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://{server}/nope", timeout=30)


def test_browser_microphone_page(server, three_utterances, expected, tmp_path):
    """Headless Chromium plays a WAV as its microphone; the page streams it and the words appear in the DOM."""
    webdriver = pytest.importorskip("selenium.webdriver")
    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.fail("chromium and chromium-driver are not installed: run `make deps` (the Makefile installs them)")
    wav = tmp_path / "mic.wav"
    audio = load_audio(three_utterances[0])
    sf.write(wav, np.concatenate([audio, np.zeros(16000 * 2, np.float32)]), 16000, subtype="PCM_16")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
        "--autoplay-policy=no-user-gesture-required",
    ):
        opts.add_argument(flag)
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(driver_bin), options=opts)
    try:
        driver.get(f"http://{server}/")
        driver.find_element("id", "start").click()
        want = set(expected.split())
        deadline = time.time() + 60
        seen = ""
        while time.time() < deadline:
            seen = driver.find_element("id", "finals").text + " " + driver.find_element("id", "partial").text
            if len(want & set(seen.split())) >= 0.6 * len(want):
                break
            time.sleep(0.5)
        assert len(want & set(seen.split())) >= 0.6 * len(want), (seen, expected)
        assert "listening" in driver.find_element("id", "status").text
    finally:
        driver.quit()
