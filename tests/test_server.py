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
    proc.log = []  # its stderr, drained as it comes, for failure messages
    threading.Thread(target=lambda: proc.log.extend(proc.stderr), daemon=True).start()
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
    info = json.loads(urllib.request.urlopen(f"http://{server}/info", timeout=30).read())
    assert info["model"] == "default.pt" and "LSTM" in info["architecture"] and "LM" in info["decoder"]
    assert urllib.request.urlopen(f"http://{server}/favicon.ico", timeout=30).status == 204
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"http://{server}/nope", timeout=30)


def vosk_client(addr: str, wav, frame_s: float = 0.2, config: dict | None = None, path: str = "/"):
    """A client written from the public description of Vosk's WebSocket protocol, in the manner of its test.py:
    the config, then 16-bit PCM frames, reading one reply after each, then ``{"eof" : 1}`` and the final reply."""
    import asyncio
    import wave

    from websockets.asyncio.client import connect as aconnect

    async def run() -> list[dict]:
        replies = []
        async with aconnect(f"ws://{addr}{path}", open_timeout=30) as ws:
            with wave.open(str(wav), "rb") as wf:
                if config is not None:
                    await ws.send(json.dumps({"config": config}))
                frames = int(wf.getframerate() * frame_s)
                while data := wf.readframes(frames):
                    await ws.send(data)
                    replies.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
            await ws.send('{"eof" : 1}')
            replies.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
        return replies

    return asyncio.run(run())


def vosk_text(replies: list[dict]) -> str:
    return " ".join(r["text"] for r in replies if r.get("text"))


def test_vosk_client_connects_unchanged(server, three_utterances, expected):
    path, _ = three_utterances
    replies = vosk_client(server, path, config={"sample_rate": 16000})
    frames = -(-sf.info(path).frames // 3200)
    assert len(replies) == frames + 1  # one reply per audio frame, and one to eof
    assert all(set(r) == {"partial"} or set(r) <= {"text", "result"} for r in replies)
    assert any(r.get("partial") for r in replies)
    assert vosk_text(replies) == expected
    words = [w for r in replies for w in r.get("result", [])]
    assert [w["word"] for w in words] == expected.split()
    assert all(set(w) == {"word", "start", "end", "conf"} and 0 <= w["conf"] <= 1 for w in words)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and all(w["start"] < w["end"] for w in words)
    assert words[-1]["end"] <= sf.info(path).duration + 0.01


def test_vosk_client_at_8k_without_words_and_without_config(server, three_utterances, expected, tmp_path):
    import soxr

    from asr.metrics import cer

    path, _ = three_utterances
    narrow = tmp_path / "8k.wav"
    sf.write(narrow, soxr.resample(load_audio(path), 16000, 8000), 8000, subtype="PCM_16")
    replies = vosk_client(
        server, narrow, frame_s=0.5, config={"sample_rate": 8000.0, "words": 0, "max_alternatives": 0}
    )
    assert not any("result" in r for r in replies) and cer([expected], [vosk_text(replies)]) < 25.0
    # no config at all: 16 kHz audio straight away at /
    assert vosk_text(vosk_client(server, path)) == expected


@pytest.mark.parametrize(
    "config, reason", [({"sample_rate": "fast"}, "sample_rate"), ({"sample_rate": 100}, "sample_rate"), ([], "object")]
)
def test_vosk_bad_config_gets_an_error(server, config, reason):
    with connect(f"ws://{server}/") as ws:
        ws.send(json.dumps({"config": config}))
        ws.send(b"\x00\x00" * 160)
        msg = json.loads(ws.recv(timeout=30))
        assert set(msg) == {"error"} and reason in msg["error"]
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            ws.recv(timeout=30)


def chrome(mic_wav=None, downloads=None, allow_mic: bool = True):
    """Headless Chromium; ``mic_wav`` plays as its microphone (a fake device, which pages may use without asking
    unless ``allow_mic`` is false), ``downloads`` receives downloads."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    chromium, driver_bin = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_bin:
        pytest.fail("chromium and chromium-driver are not installed: run `make deps` (the Makefile installs them)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"]
    if mic_wav is not None:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-audio-capture={mic_wav}"]
        flags += ["--use-fake-ui-for-media-stream"] if allow_mic else []
    for flag in flags:
        opts.add_argument(flag)
    if downloads is not None:
        opts.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_bin), options=opts)


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    return predicate()


def ink(png: bytes) -> float:
    """Fraction of a screenshot's pixels that are dark (text)."""
    import io

    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return float((grey < 128).mean())


@pytest.fixture
def mic_wav(three_utterances, tmp_path):
    wav = tmp_path / "mic.wav"
    audio = load_audio(three_utterances[0])
    sf.write(wav, np.concatenate([audio, np.zeros(16000 * 2, np.float32)]), 16000, subtype="PCM_16")
    return wav


def test_browser_microphone_page(server, expected, mic_wav, tmp_path):
    """Headless Chromium plays a WAV as its microphone; the page streams it: the level meter moves, the words appear
    as final lines with their times (in the DOM and on screen), the model is named, copy and download give the
    transcript, and the console stays clean (no favicon 404)."""
    driver = chrome(mic_wav, downloads=tmp_path)
    try:
        driver.get(f"http://{server}/")
        assert wait_for(lambda: "default.pt" in driver.find_element("id", "model").text, 30)
        empty = ink(driver.find_element("id", "transcript").screenshot_as_png)
        driver.find_element("id", "start").click()
        want = set(expected.split())
        levels = []

        def enough():
            levels.append(float(driver.find_element("id", "level").get_attribute("data-db") or -120))
            seen = driver.find_element("id", "finals").text + " " + driver.find_element("id", "partial").text
            return (
                len(want & set(seen.split())) >= 0.6 * len(want)
                and len(driver.find_elements("css selector", "#finals p")) >= 2
            )

        assert wait_for(enough), (driver.find_element("id", "finals").text, expected)
        assert "listening" in driver.find_element("id", "status").text
        assert max(levels) > -40  # speech moved the meter
        lines = driver.find_elements("css selector", "#finals p")
        times = [p.find_element("class name", "time").text for p in lines]
        assert all(re.fullmatch(r"\d+:\d\d", t) for t in times) and times == sorted(times) and times[0] != times[-1]
        assert ink(driver.find_element("id", "transcript").screenshot_as_png) > empty + 0.005  # text drawn on screen
        driver.find_element("id", "stop").click()
        driver.find_element("id", "download").click()
        got = wait_for(lambda: [p for p in tmp_path.glob("transcript-*.txt")], 20)
        text = got[0].read_text()
        lines = driver.find_elements("css selector", "#finals p")  # a final may have arrived since (stop flushes)
        assert [line.split("] ", 1)[1] for line in text.splitlines()] == [
            p.find_element("class name", "text").text for p in lines
        ]
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
    finally:
        driver.quit()


def test_browser_page_when_the_microphone_is_refused(server, mic_wav):
    driver = chrome(mic_wav, allow_mic=False)
    try:
        driver.get(f"http://{server}/")
        driver.execute_cdp_cmd(
            "Browser.setPermission",
            {"permission": {"name": "microphone"}, "setting": "denied", "origin": f"http://{server}"},
        )
        driver.find_element("id", "start").click()
        status = driver.find_element("id", "status")
        assert wait_for(lambda: "refused" in status.text, 20), status.text
        assert "error" in status.get_attribute("class") and driver.find_element("id", "start").is_enabled()
    finally:
        driver.quit()


def test_browser_page_reconnects_when_the_server_comes_back(mic_wav):
    proc, addr = start_server()
    driver = chrome(mic_wav)
    try:
        driver.get(f"http://{addr}/")
        driver.find_element("id", "start").click()
        status = driver.find_element("id", "status")
        assert wait_for(lambda: "listening" in status.text, 30), status.text
        proc.terminate()
        proc.wait(10)
        assert wait_for(lambda: "went away" in status.text and "reconnecting" in status.text, 30), status.text
        proc, _ = start_server("--port", addr.split(":")[1])
        assert wait_for(lambda: "listening" in status.text, 60), status.text
    finally:
        driver.quit()
        proc.terminate()
        proc.wait(10)


def test_more_clients_than_sessions_on_a_busy_cpu(three_utterances):
    """Ten clients at once against six sessions while two other processes keep both cores busy: each client gets its
    text, or the busy error with close code 1013; none is dropped (no 1011) and none waits forever."""
    proc, addr = start_server("--max-sessions", "6")
    spin = "import time\nt = time.time()\nwhile time.time() - t < 120: pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
    audio = load_audio(three_utterances[0])
    outcomes: dict[int, object] = {}

    def client(i: int) -> None:
        data = np.clip(np.round(audio * 32768), -32768, 32767).astype("<i2")
        msgs: list = []
        try:
            with connect(f"ws://{addr}/ws", open_timeout=60) as ws:
                try:  # a busy server closes at once: sending may fail, its message is still there to read
                    ws.send(json.dumps({"sample_rate": 16000}))
                    for k in range(0, len(data), 1600):
                        ws.send(data[k : k + 1600].tobytes())
                    ws.send(json.dumps({"eof": True}))
                except websockets.exceptions.ConnectionClosed:
                    pass
                try:
                    while True:
                        msgs.append(json.loads(ws.recv(timeout=120)))
                except websockets.exceptions.ConnectionClosed as e:
                    outcomes[i] = (e.rcvd.code if e.rcvd else None, msgs)
        except Exception as e:  # a client that could not connect, or waited past the timeout
            outcomes[i] = e

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    finally:
        for h in hogs:
            h.kill()
        proc.terminate()
        proc.wait(10)
    assert len(outcomes) == 10, outcomes
    served = busy = 0
    for i, outcome in outcomes.items():
        assert isinstance(outcome, tuple), (i, outcome)
        code, msgs = outcome
        if code == 1013:
            assert msgs == [{"type": "error", "message": "server busy: too many sessions"}]
            busy += 1
        else:
            assert code == 1000 and finals(msgs), (i, code, msgs[-3:], "".join(proc.log[-10:]))
            served += 1
    assert served >= 6 and served + busy == 10
