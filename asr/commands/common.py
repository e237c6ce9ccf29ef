"""Option groups that several commands share, each default read from the dataclass that owns it."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable

from .. import bundled
from ..options import DEFAULT_BOOST, MAX_BOOST, MAX_WORD_BONUS, DecodeOptions, StreamOptions, parse_speeds

AddCommand = Callable[[str, str, str], argparse.ArgumentParser]  # add(name, help, example) → a subparser


def option_default(cls, name: str):
    """The default of option ``name`` from the dataclass that owns it."""
    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def batch_args(p: argparse.ArgumentParser, batch_help: str, batch_size: int) -> None:
    """--batch-size and --threads (checked by TranscribeOptions)."""
    p.add_argument("--batch-size", type=int, default=batch_size, help=batch_help)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: half the cores, at least 1; never slower than 1 on a busy machine)",
    )


def decode_args(p: argparse.ArgumentParser) -> None:
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
        help=f"default {option_default(DecodeOptions, 'beam_size')}; with the bundled LM {bundled.BUNDLED_BEAM_SIZE}",
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
    p.add_argument(
        "--speeds",
        metavar="S,…",
        default=None,
        help="playback speeds each recording is tried at before it keeps the best-scoring one (default "
        f"{','.join(f'{s:g}' for s in bundled.BUNDLED_SPEEDS)} with the bundled LM, else 1; 1 = as recorded)",
    )
    p.add_argument("--int8", action="store_true", help="int8-quantised RNN and linear layers (faster on CPU)")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    p.add_argument(
        "--no-vad", action="store_true", help="decode each input whole, without cutting it at pauses (short clips)"
    )


def decode_options(args: argparse.Namespace) -> DecodeOptions:
    """The decoding the user asked for with :func:`decode_args`' flags (:func:`asr.bundled.decode_options`)."""
    return bundled.decode_options(
        bundled=bundled.resolve_model(args.model) == bundled.DEFAULT_MODEL,
        decoder=args.decoder,
        no_lm=args.no_lm,
        lm=args.lm,
        lexicon=args.lexicon,
        hotwords=args.hotwords,
        hotword_boost=args.hotword_boost,
        beam_size=args.beam_size,
        lm_weight=args.lm_weight,
        word_score=args.word_score,
        speeds=parse_speeds(args.speeds) if args.speeds is not None else None,
    )


def stream_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="checkpoint (default: the bundled model, streamed as an LC-BLSTM)")
    p.add_argument(
        "--chunk",
        type=float,
        default=option_default(StreamOptions, "chunk"),
        help="seconds of audio per step and between partials",
    )
    p.add_argument(
        "--right-context",
        type=float,
        default=option_default(StreamOptions, "right_context"),
        help="look-ahead in seconds for bidirectional models (LC-BLSTM)",
    )
    p.add_argument(
        "--endpoint",
        type=float,
        default=StreamOptions().vad.min_gap,
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


def stream_setup(args: argparse.Namespace):
    from ..transcribe import load_model

    opts = StreamOptions(
        chunk=args.chunk,
        right_context=args.right_context,
        vad=dataclasses.replace(StreamOptions().vad, min_gap=args.endpoint),
    )
    rec = load_model(args.model, args.device, threads=args.threads, streaming=True, int8=args.int8)
    rec.stream(opts)  # fails now, not per session, if the model cannot stream
    return rec, opts
