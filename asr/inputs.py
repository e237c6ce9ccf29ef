"""What ``asr transcribe`` reads and writes: inputs expanded from files, folders and stdin; output paths that
mirror the input folders and never collide or replace a file silently."""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UsageError

AUDIO_EXTS = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aiff", ".aif", ".au", ".wma", ".webm"}
STDIN = "-"


@dataclass
class Inputs:
    """Files to transcribe, in order, with where each came from (for output names) and error lines for the rest."""

    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    relative: dict[str, Path] = field(default_factory=dict)  # file → its output name stem, relative to --output-dir
    spooled: set[str] = field(default_factory=set)  # temp files holding stdin (ours to delete; nothing else is)

    def display(self, path: str) -> str:
        return "stdin" if path in self.spooled else path

    def cleanup(self) -> None:
        """Delete the temp files this run made for stdin, and nothing else."""
        for f in self.spooled:
            Path(f).unlink(missing_ok=True)
        self.spooled.clear()


def expand_inputs(items: list[str], pattern: str | None = None) -> Inputs:
    """Files (folders searched recursively for audio, or for ``pattern``), ``-`` spooled from stdin to a temp file."""
    out = Inputs()
    for item in items:
        if item == STDIN:
            with tempfile.NamedTemporaryFile(prefix="asr-stdin-", suffix=".audio", delete=False) as tmp:
                tmp.write(sys.stdin.buffer.read())
            out.spooled.add(tmp.name)
            out.files.append(tmp.name)
            out.relative[tmp.name] = Path("stdin")
        elif Path(item).is_dir():
            root = Path(item)
            found = sorted(
                p for p in root.rglob(pattern or "*") if p.is_file() and (pattern or p.suffix.lower() in AUDIO_EXTS)
            )
            if not found:
                out.errors.append(f"{item}: no audio files found")
            for p in found:
                out.files.append(str(p))
                out.relative[str(p)] = p.relative_to(root).with_suffix("")
        elif Path(item).exists():
            out.files.append(item)
            out.relative[item] = Path(Path(item).stem)
        else:
            out.errors.append(f"{item}: no such file")
    return out


def output_paths(
    inputs: Inputs, out_dir: str | Path, formats: tuple[str, ...], overwrite: bool = False
) -> dict[str, dict[str, Path]]:
    """``{file: {format: out_dir/<relative path without the audio extension>.<format>}}``, mirroring the input
    folders (``in/a/x.mp3`` → ``out/a/x.txt``; stdin → ``stdin.txt``): one rule, whatever else is in the folder.

    Two inputs that would write the same file (``x.mp3`` beside ``x.ogg``, or the same name from two places on the
    command line) raise UsageError before anything is transcribed. An output file that exists already is an error
    unless ``overwrite``.
    """
    out_dir = Path(out_dir)
    stems = {f: inputs.relative[f] for f in inputs.files}
    owner: dict[Path, str] = {}
    paths: dict[str, dict[str, Path]] = {}
    for f in inputs.files:
        paths[f] = {}
        for fmt in formats:
            p = out_dir / f"{stems[f]}.{fmt}"
            if p in owner:
                raise UsageError(
                    f"{inputs.display(f)} and {inputs.display(owner[p])} would both be written to {p}; "
                    "transcribe them into different --output-dir folders (or pick one with --glob)"
                )
            if p.exists() and not overwrite:
                raise UsageError(f"{p}: exists already (pass --overwrite to replace it)")
            owner[p] = f
            paths[f][fmt] = p
    return paths
