"""asr.corpus.download against a local HTTP server (127.0.0.1, port 0) that supports Range and can drop a transfer."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import re
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.corpus import download as dl


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.root``; honours ``Range: bytes=N-`` unless ``server.honor_range`` is False; when
    ``server.drop_after`` is set, sends only that many body bytes once and closes the connection."""

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        srv = self.server
        rng = self.headers.get("Range")
        srv.requests.append((self.path, rng))
        path = srv.root / self.path.lstrip("/")
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and srv.honor_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.drop_after is not None:
            n, srv.drop_after = srv.drop_after, None
            self.wfile.write(body[:n])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A threaded server over ``tmp/served``; yields it (``.url``, ``.root``, ``.requests``, ``.drop_after``)."""
    monkeypatch.setattr(dl, "RETRY_DELAY", 0.0)
    monkeypatch.setattr(dl, "TIMEOUT", 10.0)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    srv.daemon_threads = True
    srv.root = tmp_path / "served"
    srv.root.mkdir()
    srv.requests = []
    srv.drop_after = None
    srv.honor_range = True
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def dev_clean(server, tmp_path, monkeypatch) -> tuple[Path, str]:
    """A tiny LibriSpeech-layout ``12/dev-clean.tar.gz`` served by ``server``; the part table points at its md5."""
    src = tmp_path / "src"
    chapter = src / "LibriSpeech" / "dev-clean" / "1" / "2"
    chapter.mkdir(parents=True)
    rng = np.random.default_rng(0)
    sf.write(chapter / "1-2-0000.flac", (0.1 * rng.standard_normal(8000)).astype("float32"), 16000)
    (chapter / "1-2.trans.txt").write_text("1-2-0000 HELLO WORLD\n")
    (src / "LibriSpeech" / "README.TXT").write_text("tiny\n")
    archive = server.root / "12" / "dev-clean.tar.gz"
    archive.parent.mkdir()
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(src / "LibriSpeech", arcname="LibriSpeech")
    md5 = _md5(archive)
    monkeypatch.setitem(dl.LIBRISPEECH_PARTS, "dev-clean", ("12/dev-clean.tar.gz", md5))
    return archive, md5


def _check_extracted(root: Path) -> None:
    chapter = root / "dev-clean" / "1" / "2"
    assert (chapter / "1-2.trans.txt").read_text() == "1-2-0000 HELLO WORLD\n"
    audio, sr = sf.read(chapter / "1-2-0000.flac")
    assert sr == 16000 and len(audio) == 8000


def test_download_extract_and_idempotent_rerun(server, dev_clean, tmp_path):
    archive, md5 = dev_clean
    dest = tmp_path / "dl"
    root = dl.download_librispeech(["dev-clean"], dest, base_url=server.url)
    assert root == dest / "LibriSpeech"
    _check_extracted(root)
    assert server.requests == [("/12/dev-clean.tar.gz", None)]
    assert _md5(dest / "archives" / "dev-clean.tar.gz") == md5
    assert (dest / ".dev-clean.extracted").is_file()
    assert not (dest / "archives" / "dev-clean.tar.gz.part").exists()

    assert dl.download_librispeech(["dev-clean", "dev-clean"], dest, base_url=server.url) == root
    assert len(server.requests) == 1  # extracted part: no request at all

    # the archive itself is also skipped (md5ok marker) when only the extraction has to be redone
    (dest / ".dev-clean.extracted").unlink()
    dl.download_librispeech(["dev-clean"], dest, base_url=server.url)
    assert len(server.requests) == 1
    _check_extracted(root)


def test_resume_after_interrupted_transfer(server, dev_clean, tmp_path):
    archive, md5 = dev_clean
    size = archive.stat().st_size
    server.drop_after = size // 2
    dest = tmp_path / "dl"
    dl.download_librispeech(["dev-clean"], dest, base_url=server.url, keep_archives=False)
    assert server.requests == [("/12/dev-clean.tar.gz", None), ("/12/dev-clean.tar.gz", f"bytes={size // 2}-")]
    _check_extracted(dest / "LibriSpeech")
    assert not (dest / "archives" / "dev-clean.tar.gz").exists()  # keep_archives=False


def test_resume_of_leftover_part_and_server_without_range(server, tmp_path):
    payload = bytes(range(256)) * 300
    (server.root / "blob.bin").write_bytes(payload)
    md5 = hashlib.md5(payload).hexdigest()
    dest = tmp_path / "out" / "blob.bin"
    dest.parent.mkdir()
    part = dest.with_name("blob.bin.part")

    part.write_bytes(payload[:1000])  # left over by an earlier, killed run
    assert dl.download_file(f"{server.url}/blob.bin", dest, md5, chunk=4096) == dest
    assert server.requests[-1][1] == "bytes=1000-"
    assert dest.read_bytes() == payload and not part.exists()

    dest.unlink()
    dl._marker(dest).unlink()
    part.write_bytes(b"x" * 1000)  # server answers 200 to Range: restart from zero
    server.honor_range = False
    dl.download_file(f"{server.url}/blob.bin", dest, md5, chunk=4096)
    assert server.requests[-1][1] == "bytes=1000-"
    assert dest.read_bytes() == payload


def test_wrong_md5_raises_and_removes_the_file(server, dev_clean, tmp_path, monkeypatch):
    archive, md5 = dev_clean
    bad = "0" * 32
    monkeypatch.setitem(dl.LIBRISPEECH_PARTS, "dev-clean", ("12/dev-clean.tar.gz", bad))
    dest = tmp_path / "dl"
    with pytest.raises(dl.DownloadError) as exc:
        dl.download_librispeech(["dev-clean"], dest, base_url=server.url)
    msg = str(exc.value)
    assert "dev-clean.tar.gz" in msg and bad in msg and md5 in msg and "\n" not in msg
    assert list((dest / "archives").iterdir()) == []
    assert not (dest / "LibriSpeech").exists()


def test_unknown_part_and_network_errors(server, tmp_path):
    with pytest.raises(dl.DownloadError, match=r"dev-cleen.*known: dev-clean, dev-other"):
        dl.download_librispeech(["dev-clean", "dev-cleen"], tmp_path, base_url=server.url)
    assert server.requests == []

    with pytest.raises(dl.DownloadError, match=r"/missing\.bin: HTTP 404"):
        dl.download_file(f"{server.url}/missing.bin", tmp_path / "missing.bin", None)

    dead = server.url  # nothing listens there once the server is closed
    server.shutdown()
    server.server_close()
    with pytest.raises(dl.DownloadError) as exc:
        dl.download_file(f"{dead}/blob.bin", tmp_path / "blob.bin", None, retries=1)
    assert str(exc.value).startswith(f"{dead}/blob.bin: ")
    assert not (tmp_path / "blob.bin").exists()


def _tar_with(path: Path, name: str) -> None:
    with tarfile.open(path, "w:gz") as tf:
        ok = tarfile.TarInfo("LibriSpeech/ok.txt")
        ok.size = 2
        tf.addfile(ok, io.BytesIO(b"ok"))
        evil = tarfile.TarInfo(name)
        evil.size = 4
        tf.addfile(evil, io.BytesIO(b"evil"))


@pytest.mark.parametrize("name", ["../evil", "LibriSpeech/../../evil", "/tmp/asr-download-test-evil"])
def test_unsafe_tar_members_are_rejected(tmp_path, name):
    archive = tmp_path / "evil.tar.gz"
    _tar_with(archive, name)
    out = tmp_path / "out"
    with pytest.raises(dl.DownloadError, match="unsafe member path"):
        dl.extract_tar(archive, out)
    assert not (tmp_path / "evil").exists() and not Path("/tmp/asr-download-test-evil").exists()
    assert not (out / ".evil.extracted").exists()


def test_lm_resources_gunzip_and_missing_md5_warning(server, tmp_path, capsys):
    arpa = "\\data\\\nngram 1=1\n\n\\1-grams:\n-1.0\tHELLO\n\n\\end\\\n"
    (server.root / "11").mkdir()
    (server.root / "11" / "3-gram.pruned.1e-7.arpa.gz").write_bytes(gzip.compress(arpa.encode()))
    (server.root / "11" / "librispeech-vocab.txt").write_text("HELLO\n")
    names = ["3-gram.pruned.1e-7.arpa.gz", "librispeech-vocab.txt"]
    lm = dl.download_lm_resources(names, tmp_path, base_url=server.url)
    assert lm == tmp_path / "lm"
    assert (lm / "3-gram.pruned.1e-7.arpa").read_text() == arpa
    assert (lm / "librispeech-vocab.txt").read_text() == "HELLO\n"
    assert "no known md5" in capsys.readouterr().err  # SLR11 checksums are unverified (None)
    n = len(server.requests)
    dl.download_lm_resources(names, tmp_path, base_url=server.url)
    assert len(server.requests) == n
    with pytest.raises(dl.DownloadError, match="unknown LM resource"):
        dl.download_lm_resources(["5-gram.arpa.gz"], tmp_path)


def test_tables_are_complete():
    assert set(dl.LIBRISPEECH_PARTS) == {
        "dev-clean",
        "dev-other",
        "test-clean",
        "test-other",
        "train-clean-100",
        "train-clean-360",
        "train-other-500",
    }
    for part, (rel, md5) in dl.LIBRISPEECH_PARTS.items():
        assert rel == f"12/{part}.tar.gz" and re.fullmatch(r"[0-9a-f]{32}", md5)
    assert set(dl.DEFAULT_LM_RESOURCES) <= set(dl.LM_RESOURCES)
    for name, (rel, md5) in dl.LM_RESOURCES.items():
        assert rel == f"11/{name}" and (md5 is None or re.fullmatch(r"[0-9a-f]{32}", md5))
