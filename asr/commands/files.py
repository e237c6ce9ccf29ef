"""``asr transcribe`` and ``asr evaluate``: audio files and manifests in, text out. Parsed here and run by
:mod:`asr.transcribe` and :mod:`asr.evaluate`; nothing heavy is imported until an input has been checked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError
from ..options import EVAL_BATCH_SIZE, TranscribeOptions, VadOptions
from .common import AddCommand, batch_args, decode_args, decode_options, option_default

EXAMPLES = {
    "transcribe": "asr transcribe meeting.mp3 --format srt --output-dir subs/\n  asr transcribe recordings/ --glob '*.flac' --format json --output-dir out/ --verbose\n  asr transcribe --hotwords kubernetes:3,grafana call.wav",
    "evaluate": "asr evaluate --model exp/tiny/best.pt --manifest data/test.jsonl --out exp/tiny/test_beam --decoder beam --lm lm/lm.arpa --lexicon lm/lexicon.txt",
}


def add_commands(add: AddCommand) -> None:
    """Add ``transcribe`` and ``evaluate`` through ``add(name, help, example)``, which makes a subparser."""
    r = add(
        "transcribe",
        "Transcribe audio files, folders or stdin (-): text, JSON with word times, SRT, VTT.",
        EXAMPLES["transcribe"],
    )
    r.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files, folders (searched recursively), or -")
    r.add_argument("--model", help="checkpoint, or a bundled model's name (default: the bundled model, 'default')")
    r.add_argument("--glob", default=None, help="file pattern inside folders (default: common audio extensions)")
    r.add_argument("--format", choices=["txt", "json", "srt", "vtt", "all"], default="txt")
    r.add_argument(
        "--output-dir", help="write DIR/<path>.<ext> per input, mirroring the input folders, instead of printing"
    )
    r.add_argument("--overwrite", action="store_true", help="replace output files that exist already")
    batch_args(r, "segments decoded together (across files too)", option_default(TranscribeOptions, "batch_size"))
    r.add_argument("--verbose", action="store_true", help="print duration, processing time and real-time factor")
    decode_args(r)
    r.set_defaults(device="cpu")

    e = add("evaluate", "Decode a manifest, write hyp.jsonl and errors.txt, print WER/CER.", EXAMPLES["evaluate"])
    e.add_argument("--model", help="checkpoint, or a bundled model's name (default: the bundled model, 'default')")
    e.add_argument("--manifest", required=True)
    e.add_argument("--out", required=True, help="output folder")
    batch_args(e, "utterances decoded together (sorted by length)", EVAL_BATCH_SIZE)
    decode_args(e)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from ..bundled import BUNDLED_MODELS
    from ..formats import FORMATS
    from ..inputs import expand_inputs, output_paths

    # Everything that can be refused is refused before torch and the model load (a second, not ten).
    topts = TranscribeOptions(batch_size=args.batch_size, threads=args.threads)
    dopts = decode_options(args)
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
        from ..transcribe import load_model

        rec = load_model(args.model, args.device, dopts, topts.threads, int8=args.int8)
        return _transcribe_files(args, rec, inputs, outputs, formats, topts, len(inputs.errors))
    finally:
        inputs.cleanup()


def _transcribe_files(args: argparse.Namespace, rec, inputs, outputs: dict, formats: tuple, topts, failed: int) -> int:
    import json
    import time

    from tqdm import tqdm

    from ..audio import audio_duration
    from ..formats import WRITERS

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


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluate import evaluate
    from ..transcribe import load_model

    topts = TranscribeOptions(batch_size=args.batch_size, threads=args.threads)
    rec = load_model(args.model, args.device, decode_options(args), topts.threads, int8=args.int8)
    result = evaluate(
        rec, args.manifest, args.out, vad=None if args.no_vad else VadOptions(), batch_size=topts.batch_size
    )
    print(f"hypotheses: {Path(args.out) / 'hyp.jsonl'}, alignments: {Path(args.out) / 'errors.txt'}")
    print(result.summary())
    return 0


COMMANDS = {"transcribe": cmd_transcribe, "evaluate": cmd_evaluate}
