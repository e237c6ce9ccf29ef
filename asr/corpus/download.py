"""Download and unpack LibriSpeech (OpenSLR SLR12) and its LM resources (SLR11) — stage 0 of the recipe.

Stdlib only (urllib, tarfile, gzip) plus tqdm for the progress bar. Every step is restartable:

* :func:`download_file` streams into ``<dest>.part``, resumes a partial file with an HTTP ``Range`` request,
  checks the md5 and renames atomically; a ``<dest>.md5ok`` marker makes re-runs skip the re-hash.
* :func:`extract_tar` refuses absolute / ``..`` members and leaves a ``.<name>.extracted`` marker.
* :func:`download_librispeech` and :func:`download_lm_resources` skip whatever is already in place.

Layout under ``dest``: ``archives/<part>.tar.gz``, ``LibriSpeech/<part>/...``, ``lm/<file>`` (``.arpa.gz`` files
are also gunzipped next to themselves).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from ..errors import AsrError

OPENSLR = "https://www.openslr.org/resources"

# part -> (URL relative to OPENSLR, md5). The md5s are those of openslr.org/resources/12/md5sum.txt, as repeated
# identically by several independent projects (PaddlePaddle DeepSpeech/PaddleSpeech, sdrobert/pytorch-database-prep,
# and others).
LIBRISPEECH_PARTS: dict[str, tuple[str, str | None]] = {
    "dev-clean": ("12/dev-clean.tar.gz", "42e2234ba48799c1f50f24a7926300a1"),
    "dev-other": ("12/dev-other.tar.gz", "c8d0bcc9cca99d4f8b62fcc847357931"),
    "test-clean": ("12/test-clean.tar.gz", "32fa31d27d2e1cad72775fee3f4849a9"),
    "test-other": ("12/test-other.tar.gz", "fb5a50374b501bb3bac4815ee91d3135"),
    "train-clean-100": ("12/train-clean-100.tar.gz", "2a93770f6d5c6c964bc36631d331a522"),
    "train-clean-360": ("12/train-clean-360.tar.gz", "c0e676e450a7ff2f54aeade5171606fa"),
    "train-other-500": ("12/train-other-500.tar.gz", "d1a0fd59409feb2c614ce4d30c387708"),
}

# file -> (URL relative to OPENSLR, md5). OpenSLR publishes no md5sum.txt for SLR11 and no second independent
# source for these checksums was found, so they are None: the files are downloaded without a checksum (with a
# warning). Fill one in only once it has been verified.
LM_RESOURCES: dict[str, tuple[str, str | None]] = {
    "3-gram.arpa.gz": ("11/3-gram.arpa.gz", None),
    "3-gram.pruned.1e-7.arpa.gz": ("11/3-gram.pruned.1e-7.arpa.gz", None),
    "4-gram.arpa.gz": ("11/4-gram.arpa.gz", None),
    "librispeech-lexicon.txt": ("11/librispeech-lexicon.txt", None),
    "librispeech-vocab.txt": ("11/librispeech-vocab.txt", None),
}

# What the recipe's decode stage uses (lm/3-gram.pruned.1e-7.arpa).
DEFAULT_LM_RESOURCES: tuple[str, ...] = ("3-gram.pruned.1e-7.arpa.gz",)

TIMEOUT = 60.0  # seconds without data before a connection counts as failed
RETRY_DELAY = 2.0  # seconds; the n-th retry waits n * RETRY_DELAY (tests set 0)
USER_AGENT = "asr-download/0.1 (+urllib)"


class DownloadError(AsrError):
    """A download, checksum or extraction failed; the message is one line naming the file or URL."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class _Incomplete(Exception):
    """The server closed the connection before the announced length (retried, resumed)."""


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr, flush=True)


def _note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def file_md5(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file, read in ``chunk``-byte blocks."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _marker(dest: Path) -> Path:
    return dest.with_name(dest.name + ".md5ok")


def _already_ok(dest: Path, md5: str | None) -> bool:
    """True when ``dest`` exists and is known good (marker with matching md5 and size, or a fresh md5 match)."""
    if not dest.is_file():
        return False
    if md5 is None:
        return True  # nothing to check against: an existing file is taken as is
    marker = _marker(dest)
    if marker.is_file():
        fields = marker.read_text().split()
        if fields[:1] == [md5] and fields[1:2] == [str(dest.stat().st_size)]:
            return True
    actual = file_md5(dest)
    if actual == md5:
        marker.write_text(f"{md5}  {dest.stat().st_size}\n")
        return True
    _warn(f"{dest.name}: existing file has md5 {actual}, expected {md5}; downloading it again")
    dest.unlink()
    marker.unlink(missing_ok=True)
    return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    if isinstance(exc, _Incomplete):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes START-END/TOTAL`` or ``bytes */TOTAL`` -> (START, TOTAL); None where absent."""
    m = re.match(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)", value or "")
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _fetch(url: str, part: Path, chunk: int, desc: str) -> str:
    """One attempt: append the rest of ``url`` to ``part`` (or restart it). Returns the md5 of the whole file."""
    offset = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    if offset:
        req.add_header("Range", f"bytes={offset}-")
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT)
    except urllib.error.HTTPError as e:
        if e.code != 416 or not offset:
            raise
        _, total = _content_range(e.headers.get("Content-Range"))
        if total == offset:  # the .part was already complete
            return file_md5(part, chunk)
        part.unlink()
        raise _Incomplete(f"server rejected the resume at byte {offset}; restarting from zero") from None
    with resp:
        status = getattr(resp, "status", None) or 200
        start, _ = _content_range(resp.headers.get("Content-Range"))
        if offset and not (status == 206 and start == offset):
            _note(f"{desc}: server did not resume at byte {offset} (HTTP {status}); restarting from zero")
            offset = 0
        elif offset:
            _note(f"{desc}: resuming at byte {offset}")
        h = hashlib.md5()
        if offset:
            with open(part, "rb") as f:
                while block := f.read(chunk):
                    h.update(block)
        length = resp.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        interactive = sys.stderr.isatty()
        with (
            open(part, "ab" if offset else "wb") as f,
            tqdm(
                total=total,
                initial=offset,
                desc=desc,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                file=sys.stderr,
                mininterval=0.5 if interactive else 30.0,
            ) as bar,
        ):
            while buf := resp.read(chunk):
                f.write(buf)
                h.update(buf)
                bar.update(len(buf))
        size = part.stat().st_size
        if total is not None and size < total:
            raise _Incomplete(f"connection closed after {size} of {total} bytes")
        return h.hexdigest()


def download_file(url: str, dest: str | Path, md5: str | None, retries: int = 3, chunk: int = 1 << 20) -> Path:
    """Download ``url`` to ``dest`` (resumable, md5-checked, atomic rename); returns ``dest``.

    Skips the transfer when ``dest`` is already there with the right md5. ``md5=None`` skips the check (warning).
    A failed attempt is retried up to ``retries`` times (attempts that made progress are not counted);
    raises :class:`DownloadError` on a network failure or a checksum mismatch (the bad file is deleted).
    """
    dest = Path(dest)
    md5 = md5.lower() if md5 else None
    if _already_ok(dest, md5):
        _note(f"{dest.name}: already downloaded")
        return dest
    if md5 is None:
        _warn(f"{dest.name}: no known md5; downloading without a checksum check")
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    failures = 0
    while True:
        before = part.stat().st_size if part.is_file() else 0
        try:
            actual = _fetch(url, part, chunk, dest.name)
            break
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code not in (408, 429):
                raise DownloadError(f"{url}: {_reason(e)}") from None
            err: BaseException = e
        except (_Incomplete, urllib.error.URLError, http.client.HTTPException, OSError) as e:
            err = e
        after = part.stat().st_size if part.is_file() else 0
        if after <= before:
            failures += 1
        if failures > retries:
            raise DownloadError(f"{url}: {_reason(err)}") from None
        _warn(f"{dest.name}: {_reason(err)}; retrying")
        time.sleep(RETRY_DELAY * max(failures, 1))
    if md5 is not None and actual != md5:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{dest.name}: md5 mismatch (expected {md5}, got {actual}); the download was deleted")
    os.replace(part, dest)
    if md5 is not None:
        _marker(dest).write_text(f"{md5}  {dest.stat().st_size}\n")
    return dest


def _archive_stem(archive: Path) -> str:
    name = archive.name
    for ext in (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _unsafe(name: str) -> bool:
    p = PurePosixPath(name.replace("\\", "/"))
    return p.is_absolute() or ".." in p.parts or bool(re.match(r"^[A-Za-z]:", name))


def extract_tar(archive: str | Path, dest_dir: str | Path) -> Path:
    """Safely extract ``archive`` into ``dest_dir`` once (marker ``dest_dir/.<name>.extracted``); returns ``dest_dir``.

    Members with absolute paths or ``..`` components (or links pointing outside) raise :class:`DownloadError`
    before anything of theirs is written; tarfile's ``data`` filter is used where available.
    """
    archive, dest_dir = Path(archive), Path(dest_dir)
    marker = dest_dir / f".{_archive_stem(archive)}.extracted"
    if marker.is_file():
        return dest_dir
    dest_dir.mkdir(parents=True, exist_ok=True)
    kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    _note(f"{archive.name}: extracting into {dest_dir}")
    try:
        with tarfile.open(archive, "r|*") as tf:  # streamed: one pass over a multi-GB .tar.gz
            for member in tf:
                if _unsafe(member.name):
                    raise DownloadError(f"{archive.name}: unsafe member path {member.name!r}; refusing to extract")
                if member.issym() or member.islnk():
                    target = (
                        member.linkname if member.islnk() else str(PurePosixPath(member.name).parent / member.linkname)
                    )
                    if _unsafe(member.linkname) or _unsafe(target):
                        raise DownloadError(f"{archive.name}: link {member.name!r} points outside the archive")
                elif not (member.isfile() or member.isdir()):
                    continue  # devices, fifos: never needed
                tf.extract(member, dest_dir, **kwargs)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise DownloadError(f"{archive.name}: cannot extract ({_reason(e)})") from None
    marker.write_text(f"{archive.name}\n")
    return dest_dir


def _join(base_url: str, rel: str) -> str:
    return f"{base_url.rstrip('/')}/{rel}"


def _check_names(kind: str, names: list[str], table: dict) -> list[str]:
    unknown = [n for n in names if n not in table]
    if unknown:
        raise DownloadError(f"unknown {kind} {', '.join(unknown)}; known: {', '.join(table)}")
    return list(dict.fromkeys(names))


def download_librispeech(
    parts: list[str], dest: str | Path, base_url: str = OPENSLR, keep_archives: bool = True
) -> Path:
    """Download and extract LibriSpeech ``parts`` under ``dest``; returns ``dest/LibriSpeech``.

    Archives go to ``dest/archives/``; a part already extracted (folder + marker) is skipped without a request.
    """
    parts = _check_names("LibriSpeech part(s)", list(parts), LIBRISPEECH_PARTS)
    dest = Path(dest)
    root = dest / "LibriSpeech"
    for part in parts:
        rel, md5 = LIBRISPEECH_PARTS[part]
        archive_name = PurePosixPath(rel).name
        marker = dest / f".{_archive_stem(Path(archive_name))}.extracted"
        if (root / part).is_dir() and marker.is_file():
            _note(f"{part}: already extracted in {root / part}")
            continue
        marker.unlink(missing_ok=True)  # a folder without marker: extraction was cut short
        archive = download_file(_join(base_url, rel), dest / "archives" / archive_name, md5)
        extract_tar(archive, dest)
        if not (root / part).is_dir():
            marker.unlink(missing_ok=True)
            raise DownloadError(f"{archive.name}: does not contain LibriSpeech/{part}/")
        if not keep_archives:
            archive.unlink()
            _marker(archive).unlink(missing_ok=True)
    return root


def _gunzip(src: Path) -> Path:
    """``x.gz`` -> ``x`` next to it (via ``x.part``); skipped when ``x`` is already newer than ``x.gz``."""
    out = src.with_name(src.name[:-3])
    if out.is_file() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    tmp = out.with_name(out.name + ".part")
    _note(f"{src.name}: decompressing to {out.name}")
    try:
        with gzip.open(src, "rb") as fi, open(tmp, "wb") as fo:
            shutil.copyfileobj(fi, fo, 1 << 20)
    except (OSError, EOFError) as e:
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"{src.name}: cannot decompress ({_reason(e)})") from None
    os.replace(tmp, out)
    return out


def download_lm_resources(names: list[str], dest: str | Path, base_url: str = OPENSLR) -> Path:
    """Download SLR11 files ``names`` into ``dest/lm/`` and gunzip the ``.arpa.gz`` ones; returns ``dest/lm``."""
    names = _check_names("LM resource(s)", list(names), LM_RESOURCES)
    lm = Path(dest) / "lm"
    for name in names:
        rel, md5 = LM_RESOURCES[name]
        path = download_file(_join(base_url, rel), lm / name, md5)
        if name.endswith(".arpa.gz"):
            _gunzip(path)
    return lm
