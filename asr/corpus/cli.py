"""The corpus tooling's commands: ``asr download | prepare | synth | lm | cmvn | report``, parsed and run here, next to
the functions they call; ``asr.cli`` registers them beside the commands users run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from ..options import CMVN_MAX_UTTS

EXAMPLES = {
    "lm": "asr lm --text sentences.txt books.txt.xz --order 3 --min-count 2 --max-vocab 100000 --out-dir lm/",
    "report": "asr report --exp-dir exp/tiny",
    "download": "asr download --dest downloads/librispeech --parts dev-clean test-clean train-clean-100 --lm",
    "cmvn": "asr cmvn --manifest data/train.jsonl --out data/cmvn.pt",
    "synth": "asr synth --text sentences.txt --out-dir corpus --split train --voices train --num-utts 2000",
    "prepare": "asr prepare --root corpus --split train --out data/train.jsonl\n"
    "  asr prepare --root ../shared/data/fsdd --fsdd-out-dir data/fsdd --test-speakers george\n"
    "  asr prepare --root ../shared/data/real --real-out-dir data/real",
}


def add_commands(add: Callable[[str, str, str], argparse.ArgumentParser]) -> None:
    """Add the corpus commands through ``add(name, help, example)``, which makes a subparser."""

    def add_(name: str, help: str) -> argparse.ArgumentParser:
        return add(name, help, EXAMPLES[name])

    lm = add_("lm", "Build a word n-gram LM (ARPA) and a lexicon from a text file.")
    lm.add_argument(
        "--text",
        nargs="+",
        help="text files, one sentence per line (plain, .xz, .gz, .bz2), or JSONL manifests (their transcripts)",
    )
    lm.add_argument(
        "--lexicon-from-arpa",
        metavar="ARPA",
        help="instead of building an LM, write OUT_DIR/lexicon.txt for an existing ARPA LM",
    )
    lm.add_argument("--order", type=int, default=3)
    lm.add_argument("--out-dir", required=True, help="writes lm.arpa and lexicon.txt here")
    lm.add_argument(
        "--min-count", type=int, default=1, help="prune n-grams (order >= 2) seen fewer times (1 = keep all)"
    )
    lm.add_argument("--max-vocab", type=int, default=0, help="keep the N most frequent words (0 = all)")
    lm.add_argument(
        "--exclude-held-out",
        action="store_true",
        help="leave out the sentences that `asr synth` reserves for evaluation voices",
    )
    lm.add_argument(
        "--exclude",
        nargs="+",
        default=[],
        metavar="FILE",
        help="leave out every sentence that occurs in these text files or manifests (your dev and test sets)",
    )
    lm.add_argument(
        "--digit-strings",
        type=int,
        default=0,
        metavar="N",
        help="add N random strings of 3-12 digits read one by one (phone numbers; book text has few)",
    )
    lm.add_argument(
        "--spellings",
        type=int,
        default=0,
        metavar="N",
        help="add N of the text's frequent words (one or two) spelt letter by letter (spelled names)",
    )

    dl = add_(
        "download", "Download and extract LibriSpeech parts (and LM resources) from openslr; md5-checked, resumable."
    )
    dl.add_argument("--dest", required=True, help="extracts to DEST/LibriSpeech/<part>; LM files to DEST/lm")
    dl.add_argument("--parts", nargs="+", required=True, help="e.g. train-clean-100 dev-clean test-clean")
    dl.add_argument("--lm", action="store_true", help="also fetch the pruned 3-gram ARPA LM (openslr 11)")
    dl.add_argument("--base-url", default=None, help="mirror (default: openslr.org)")

    rp = add_("report", "Collect EXP_DIR/decode/*/errors.txt into EXP_DIR/RESULTS.md.")
    rp.add_argument("--exp-dir", required=True)

    cm = add_("cmvn", "Compute global CMVN statistics over a manifest (used by train.cmvn=PATH).")
    cm.add_argument("--manifest", required=True, nargs="+")
    cm.add_argument("--out", required=True)
    cm.add_argument("--max-utts", type=int, default=CMVN_MAX_UTTS, help="random sample size")

    s = add_("synth", "Synthesise a speech corpus in LibriSpeech layout with offline TTS engines.")
    s.add_argument("--text", required=True, help="sentences, one per line")
    s.add_argument("--out-dir", required=True)
    s.add_argument("--split", required=True, help="split folder name, e.g. train, dev, test")
    s.add_argument(
        "--voices", choices=["train", "eval"], required=True, help="training voices, or the held-out evaluation voices"
    )
    s.add_argument(
        "--sentences",
        choices=["train", "held-out", "all"],
        default=None,
        help="which part of the text to draw from (default: train for train voices, held-out for eval)",
    )
    s.add_argument("--num-utts", type=int, required=True)
    s.add_argument(
        "--engines", default="espeak,flite", help="comma-separated: espeak, flite, festival, mbrola, pico, piper"
    )
    s.add_argument(
        "--engine-share",
        default="",
        metavar="ENGINE=FRACTION,…",
        help="fraction of utterances per engine, e.g. flite=0.2,festival=0.1 (default: equal per voice)",
    )
    s.add_argument("--max-voices", type=int, default=0, help="use only this many voices (0 = all)")
    s.add_argument("--max-sentences", type=int, default=3, help="sentences joined per utterance (1..N)")
    s.add_argument("--noise-prob", type=float, default=0.0, help="fraction of utterances with added noise")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=2)

    pr = add_("prepare", "Write JSONL manifests: one split of a LibriSpeech-layout corpus, or FSDD by speaker.")
    pr.add_argument("--root", required=True, help="LibriSpeech-layout folder holding the split folders, or FSDD")
    pr.add_argument("--split", help="split folder name (LibriSpeech layout)")
    pr.add_argument("--out", help="manifest path (LibriSpeech layout)")
    pr.add_argument("--fsdd-out-dir", help="FSDD: write train.jsonl and test.jsonl here")
    pr.add_argument("--test-speakers", default="george", help="FSDD: comma-separated held-out speakers")
    pr.add_argument(
        "--real-out-dir",
        help="real speech (folders of manifest.jsonl, e.g. shared/data/real): write "
        "normalised, speaker-disjoint train/dev/test manifests here",
    )


def cmd_lm(args: argparse.Namespace) -> int:
    from ..lm import build_lm, lexicon_from_arpa

    if args.lexicon_from_arpa:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
        n = lexicon_from_arpa(args.lexicon_from_arpa, Path(args.out_dir) / "lexicon.txt")
        print(f"wrote {Path(args.out_dir) / 'lexicon.txt'} ({n} words)")
        return 0
    if not args.text:
        raise UsageError("--text is required (or --lexicon-from-arpa)")
    if args.digit_strings < 0 or args.spellings < 0:
        raise UsageError("--digit-strings and --spellings take a count (0 or more)")
    arpa, lexicon = build_lm(
        args.text,
        args.out_dir,
        args.order,
        args.exclude_held_out,
        args.min_count,
        args.max_vocab,
        log=lambda msg: print(f"asr lm: {msg}", file=sys.stderr, flush=True),
        exclude=args.exclude,
        digit_strings=args.digit_strings,
        spellings=args.spellings,
    )
    print(f"wrote {arpa} and {lexicon}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .download import DEFAULT_LM_RESOURCES, OPENSLR, download_librispeech, download_lm_resources

    base = args.base_url or OPENSLR
    root = download_librispeech(args.parts, args.dest, base_url=base)
    print(f"{root}: {', '.join(args.parts)}")
    if args.lm:
        print(f"{download_lm_resources(list(DEFAULT_LM_RESOURCES), args.dest, base_url=base)}: LM resources")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from ..evaluate import write_results

    out = write_results(args.exp_dir)
    print(out.read_text(), end="")
    return 0


def cmd_cmvn(args: argparse.Namespace) -> int:
    from ..features import save_cmvn_stats

    mean, std, frames = save_cmvn_stats(args.manifest, args.out, args.max_utts)
    print(f"{args.out}: {frames} frames, mean log-mel {float(mean.mean()):.2f}, std {float(std.mean()):.2f}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from .synth import make_split, parse_engine_share, pick_sentences, select_voices

    text = pick_sentences(args.text, args.sentences or ("train" if args.voices == "train" else "held-out"))
    voices = select_voices(args.engines.split(","), args.voices == "eval", args.max_voices, args.seed)
    n = make_split(
        args.out_dir,
        args.split,
        voices,
        text,
        args.num_utts,
        args.seed,
        args.max_sentences,
        args.noise_prob,
        workers=args.workers,
        engine_share=parse_engine_share(args.engine_share) or None,
    )
    print(f"{Path(args.out_dir) / args.split}: {n} utterances from {len(voices)} voices")
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from .prepare import prepare_fsdd, prepare_librispeech

    if args.real_out_dir:
        from .prepare import prepare_real

        counts = prepare_real(args.root, args.real_out_dir)
        print(f"{args.real_out_dir}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return 0
    if args.fsdd_out_dir:
        n_train, n_test = prepare_fsdd(args.root, args.fsdd_out_dir, args.test_speakers.split(","))
        print(f"{args.fsdd_out_dir}: {n_train} train, {n_test} test utterances")
        return 0
    if not (args.split and args.out):
        raise UsageError("--split and --out are required (or --fsdd-out-dir for FSDD)")
    n = prepare_librispeech(args.root, args.split, args.out)
    print(f"{args.out}: {n} utterances")
    return 0


COMMANDS = {
    "lm": cmd_lm,
    "synth": cmd_synth,
    "prepare": cmd_prepare,
    "report": cmd_report,
    "cmvn": cmd_cmvn,
    "download": cmd_download,
}
