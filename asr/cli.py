"""Command-line interface: ``asr train | evaluate | transcribe | lm``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import AsrError, UsageError
from .options import CMVN_MAX_UTTS, EVAL_BATCH_SIZE, DecodeOptions, ServerOptions, StreamOptions, TranscribeOptions

EXAMPLES = {
    "train": "asr train --config conf/tiny.yaml --train data/train.jsonl --valid data/dev.jsonl --exp-dir exp/tiny "
    "train.epochs=30",
    "evaluate": "asr evaluate --model exp/tiny/best.pt --manifest data/test.jsonl --out exp/tiny/test_beam "
    "--decoder beam --lm lm/lm.arpa --lexicon lm/lexicon.txt",
    "transcribe": "asr transcribe meeting.mp3 --format srt --output-dir subs/\n"
    "  asr transcribe recordings/ --glob '*.flac' --format json --output-dir out/ --verbose\n"
    "  asr transcribe call.wav --hotwords kubernetes:3 grafana",
    "stream": "asr stream --mic\n  asr stream talk.wav --realtime --partials",
    "serve": "asr serve --port 8765   # then open http://127.0.0.1:8765/",
    "export": "asr export --model exp/real/best.pt --out model.pt --int8-weights --info recipe=recipes/real/run.sh\n"
    "  asr export --model asr/assets/default.pt --out model.ts --torchscript",
    "lm": "asr lm --text sentences.txt books.txt.xz --order 3 --min-count 2 --max-vocab 100000 --out-dir lm/",
    "report": "asr report --exp-dir exp/tiny",
    "download": "asr download --dest downloads/librispeech --parts dev-clean test-clean train-clean-100 --lm",
    "cmvn": "asr cmvn --manifest data/train.jsonl --out data/cmvn.pt",
    "synth": "asr synth --text sentences.txt --out-dir corpus --split train --voices train --num-utts 2000",
    "prepare": "asr prepare --root corpus --split train --out data/train.jsonl\n"
    "  asr prepare --root ../shared/data/fsdd --fsdd-out-dir data/fsdd --test-speakers george\n"
    "  asr prepare --root ../shared/data/real --real-out-dir data/real",
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="asr", description="BiLSTM/GRU-CTC speech recognition.")
    p.add_argument("--debug", action="store_true", help="show a traceback for errors in the input too")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {EXAMPLES[name]}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    t = add("train", "Train a CTC model (resumes from EXP_DIR/last.pt if present).")
    t.add_argument("--config", help="YAML file of overrides (conf/*.yaml)")
    t.add_argument("--train", required=True, nargs="+", help="training manifest(s) (JSONL)")
    t.add_argument("--valid", required=True, help="validation manifest (JSONL)")
    t.add_argument("--exp-dir", required=True, help="output folder")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    t.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides, applied last")

    e = add("evaluate", "Decode a manifest, write hyp.jsonl and errors.txt, print WER/CER.")
    e.add_argument("--model", help="checkpoint, or a bundled model's name (default: the bundled model, 'default')")
    e.add_argument("--manifest", required=True)
    e.add_argument("--out", required=True, help="output folder")
    _batch_args(e, "utterances decoded together (sorted by length)", EVAL_BATCH_SIZE)
    _decode_args(e)

    r = add("transcribe", "Transcribe audio files, folders or stdin (-): text, JSON with word times, SRT, VTT.")
    r.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files, folders (searched recursively), or -")
    r.add_argument("--model", help="checkpoint, or a bundled model's name (default: the bundled model, 'default')")
    r.add_argument("--glob", default=None, help="file pattern inside folders (default: common audio extensions)")
    r.add_argument("--format", choices=["txt", "json", "srt", "vtt", "all"], default="txt")
    r.add_argument(
        "--output-dir", help="write DIR/<path>.<ext> per input, mirroring the input folders, instead of printing"
    )
    r.add_argument("--overwrite", action="store_true", help="replace output files that exist already")
    _batch_args(r, "segments decoded together (across files too)", _default(TranscribeOptions, "batch_size"))
    r.add_argument("--verbose", action="store_true", help="print duration, processing time and real-time factor")
    _decode_args(r)
    r.set_defaults(device="cpu")

    st = add("stream", "Live transcription of the microphone or a file: partial results, a final line per utterance.")
    st.add_argument("input", nargs="?", help="audio file (instead of --mic)")
    st.add_argument("--mic", action="store_true", help="listen to the microphone until Ctrl-C (needs asr[mic])")
    st.add_argument("--mic-device", default=None, help="input device name or number (default: the system's)")
    st.add_argument("--realtime", action="store_true", help="feed the file at real-time pace")
    st.add_argument("--partials", action="store_true", help="also show partial results (on stderr)")
    st.add_argument("--timestamps", action="store_true", help="prefix finals with [start - end] seconds")
    _stream_args(st)

    sv = add(
        "serve",
        "WebSocket server (/ws; Vosk's protocol at /) and a web page (/) for live transcription from the browser "
        "microphone.",
    )
    sv.add_argument(
        "--host", default=_default(ServerOptions, "host"), help="interface to bind (default: localhost only)"
    )
    sv.add_argument("--port", type=int, default=_default(ServerOptions, "port"), help="0 picks a free port")
    sv.add_argument("--max-sessions", type=int, default=_default(ServerOptions, "max_sessions"))
    sv.add_argument("--max-frame-bytes", type=int, default=_default(ServerOptions, "max_frame_bytes"))
    sv.add_argument(
        "--idle-timeout",
        type=float,
        default=_default(ServerOptions, "idle_timeout"),
        help="seconds without a message before closing",
    )
    _stream_args(sv)

    ex = add("export", "Write the inference part of a checkpoint (weights, config, tokenizer, CMVN), or TorchScript.")
    ex.add_argument("--model", required=True, help="checkpoint (best.pt, last.pt or an exported one)")
    ex.add_argument("--out", required=True)
    ex.add_argument("--torchscript", action="store_true", help="write a traced TorchScript module instead")
    ex.add_argument("--int8", action="store_true", help="with --torchscript: quantise to int8 first")
    store = ex.add_mutually_exclusive_group()
    store.add_argument(
        "--fp16",
        action="store_true",
        help="store the weight matrices as float16 (half the file; loaded back as float32)",
    )
    store.add_argument(
        "--int8-weights",
        action="store_true",
        help="store the weight matrices as int8 with a scale per row (a quarter of the file; loaded back as float32)",
    )
    ex.add_argument("--info", nargs="*", default=[], metavar="KEY=VALUE", help="notes stored in the checkpoint")
    ex.add_argument(
        "--blend",
        nargs=2,
        metavar=("CKPT", "A"),
        default=None,
        help="write A x the model + (1 - A) x CKPT's weights (same shape), e.g. to pull a fine-tuned "
        "model back towards its start",
    )

    lm = add("lm", "Build a word n-gram LM (ARPA) and a lexicon from a text file.")
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

    dl = add(
        "download", "Download and extract LibriSpeech parts (and LM resources) from openslr; md5-checked, resumable."
    )
    dl.add_argument("--dest", required=True, help="extracts to DEST/LibriSpeech/<part>; LM files to DEST/lm")
    dl.add_argument("--parts", nargs="+", required=True, help="e.g. train-clean-100 dev-clean test-clean")
    dl.add_argument("--lm", action="store_true", help="also fetch the pruned 3-gram ARPA LM (openslr 11)")
    dl.add_argument("--base-url", default=None, help="mirror (default: openslr.org)")

    rp = add("report", "Collect EXP_DIR/decode/*/errors.txt into EXP_DIR/RESULTS.md.")
    rp.add_argument("--exp-dir", required=True)

    cm = add("cmvn", "Compute global CMVN statistics over a manifest (used by train.cmvn=PATH).")
    cm.add_argument("--manifest", required=True, nargs="+")
    cm.add_argument("--out", required=True)
    cm.add_argument("--max-utts", type=int, default=CMVN_MAX_UTTS, help="random sample size")

    s = add("synth", "Synthesise a speech corpus in LibriSpeech layout with offline TTS engines.")
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

    pr = add("prepare", "Write JSONL manifests: one split of a LibriSpeech-layout corpus, or FSDD by speaker.")
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
    return p


def _default(cls, name: str):
    """The default of option ``name`` from the dataclass that owns it."""
    import dataclasses

    return next(f.default for f in dataclasses.fields(cls) if f.name == name)


def _batch_args(p: argparse.ArgumentParser, batch_help: str, batch_size: int) -> None:
    """--batch-size and --threads (checked by TranscribeOptions)."""
    p.add_argument("--batch-size", type=int, default=batch_size, help=batch_help)
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads (default: half the cores, at least 1; never slower than 1 on a busy machine)",
    )


def _decode_args(p: argparse.ArgumentParser) -> None:
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
        help=f"default {_default(DecodeOptions, 'beam_size')}; with the bundled LM 128",
    )
    p.add_argument("--lm", help="ARPA (or KenLM binary) word LM; needs --lexicon")
    p.add_argument("--lexicon", help="lexicon file (asr lm writes one)")
    p.add_argument("--lm-weight", type=float, default=None)
    p.add_argument("--word-score", type=float, default=None)
    p.add_argument(
        "--hotwords",
        nargs="+",
        metavar="WORD[:BOOST]",
        default=[],
        help="bias the beam search towards these words (BOOST: log-prob bonus per character)",
    )
    p.add_argument("--hotword-boost", type=float, default=2.0, help="BOOST of hotwords given without one")
    p.add_argument("--int8", action="store_true", help="int8-quantised RNN and linear layers (faster on CPU)")
    p.add_argument("--device", default="cpu", help="auto, cpu, cuda or cuda:N")
    p.add_argument(
        "--no-vad", action="store_true", help="decode each input whole, without cutting it at pauses (short clips)"
    )


def _stream_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="checkpoint (default: the bundled model, streamed as an LC-BLSTM)")
    p.add_argument(
        "--chunk",
        type=float,
        default=_default(StreamOptions, "chunk"),
        help="seconds of audio per step and between partials",
    )
    p.add_argument(
        "--right-context",
        type=float,
        default=_default(StreamOptions, "right_context"),
        help="look-ahead in seconds for bidirectional models (LC-BLSTM)",
    )
    p.add_argument(
        "--endpoint",
        type=float,
        default=_default(StreamOptions, "min_gap"),
        help="seconds of non-speech that end an utterance",
    )
    p.add_argument("--threads", type=int, default=1, help="CPU threads for the model")
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    p.add_argument(
        "--int8",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="int8-quantised RNN and linear layers (default: on for the CPU, where it streams 3x faster at the same WER)",
    )


def _stream_setup(args: argparse.Namespace):
    from .transcribe import load_model

    opts = StreamOptions(chunk=args.chunk, right_context=args.right_context, min_gap=args.endpoint)
    rec = load_model(args.model, args.device, threads=args.threads, streaming=True, int8=args.int8)
    rec.stream(opts)  # fails now, not per session, if the model cannot stream
    return rec, opts


def cmd_stream(args: argparse.Namespace) -> int:
    from .live import TerminalDisplay, file_blocks, microphone_blocks, run_stream

    if bool(args.mic) == bool(args.input):
        raise UsageError("give an audio file or --mic")
    blocks = microphone_blocks(args.mic_device) if args.mic else file_blocks(args.input, args.realtime)
    rec, opts = _stream_setup(args)  # after the microphone check: a missing device is reported at once
    if args.mic:
        print("listening; Ctrl-C to stop", file=sys.stderr)
    run_stream(rec.stream(opts), blocks, TerminalDisplay(partials=args.partials or args.mic, times=args.timestamps))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from .server import Server, ServerOptions

    rec, opts = _stream_setup(args)
    sopts = ServerOptions(
        host=args.host,
        port=args.port,
        max_sessions=args.max_sessions,
        max_frame_bytes=args.max_frame_bytes,
        idle_timeout=args.idle_timeout,
    )

    def ready(host: str, port: int) -> None:
        print(
            f"asr serve: listening on http://{host}:{port}/ (WebSocket: ws://{host}:{port}/ws; "
            f"Vosk clients: ws://{host}:{port}/)",
            file=sys.stderr,
            flush=True,
        )

    asyncio.run(Server(rec, sopts, opts).run(ready))
    return 0


def _decode_options(args: argparse.Namespace):
    from .decode import decode_options
    from .transcribe import DEFAULT_MODEL, resolve_model

    return decode_options(
        bundled=resolve_model(args.model) == DEFAULT_MODEL,
        decoder=args.decoder,
        no_lm=args.no_lm,
        lm=args.lm,
        lexicon=args.lexicon,
        hotwords=args.hotwords,
        hotword_boost=args.hotword_boost,
        beam_size=args.beam_size,
        lm_weight=args.lm_weight,
        word_score=args.word_score,
    )


def cmd_train(args: argparse.Namespace) -> int:
    from .config import dump_config, load_config
    from .train import train

    cfg = load_config(args.config, args.overrides)
    if args.print_config:
        print(dump_config(cfg), end="")
        return 0
    train(cfg, args.train, args.valid, args.exp_dir)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate
    from .transcribe import load_model
    from .vad import VadOptions

    topts = TranscribeOptions(batch_size=args.batch_size, threads=args.threads)
    rec = load_model(args.model, args.device, _decode_options(args), topts.threads, int8=args.int8)
    result = evaluate(
        rec, args.manifest, args.out, vad=None if args.no_vad else VadOptions(), batch_size=topts.batch_size
    )
    print(f"hypotheses: {Path(args.out) / 'hyp.jsonl'}, alignments: {Path(args.out) / 'errors.txt'}")
    print(result.summary())
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from .formats import FORMATS
    from .inputs import expand_inputs, output_paths
    from .transcribe import load_model

    topts = TranscribeOptions(batch_size=args.batch_size, threads=args.threads)  # checks the numbers first
    rec = load_model(args.model, args.device, _decode_options(args), topts.threads, int8=args.int8)  # fails first

    formats = FORMATS if args.format == "all" else (args.format,)
    inputs = expand_inputs(args.inputs, args.glob)
    try:
        for e in inputs.errors:
            print(f"asr: error: {e}", file=sys.stderr)
        files = inputs.files
        if not args.output_dir and (args.format == "all" or (len(files) > 1 and args.format in ("srt", "vtt"))):
            raise UsageError(f"--format {args.format} with several inputs needs --output-dir")
        outputs = output_paths(inputs, args.output_dir, formats, args.overwrite) if args.output_dir else {}
        return _transcribe_files(args, rec, inputs, outputs, formats, topts, len(inputs.errors))
    finally:
        inputs.cleanup()


def _transcribe_files(args: argparse.Namespace, rec, inputs, outputs: dict, formats: tuple, topts, failed: int) -> int:
    import time

    from tqdm import tqdm

    from .audio import audio_duration
    from .formats import WRITERS
    from .vad import VadOptions

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
            bar.write(f"asr: error: {result}", file=sys.stderr)
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
        elif args.format == "txt":
            print(result.text if len(files) == 1 else f"{inputs.display(path)}: {result.text}", flush=True)
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


def cmd_export(args: argparse.Namespace) -> int:
    from .checkpoint import export_model, load_checkpoint_model

    if args.torchscript:
        from .export import export_torchscript, quantize_int8

        model, tokenizer, _ = load_checkpoint_model(args.model)
        export_torchscript(quantize_int8(model) if args.int8 else model, args.out, tokenizer.tokens)
        print(
            f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): forward(wav (B, N), lens (B,)) → "
            "(log_probs (B, T, V), lens (B,)); the V tokens are its extra file tokens.json"
        )
        return 0
    info = dict(kv.split("=", 1) for kv in args.info if "=" in kv)
    if len(info) != len(args.info):
        raise UsageError("--info takes KEY=VALUE pairs")
    weights = "float16" if args.fp16 else "int8" if args.int8_weights else "float32"
    blend = None
    if args.blend:
        try:
            blend = (args.blend[0], float(args.blend[1]))
        except ValueError:
            raise UsageError(f"--blend: A must be a number, got {args.blend[1]!r}") from None
    meta = export_model(args.model, args.out, weights=weights, blend=blend, **info)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): {meta}")
    return 0


def cmd_lm(args: argparse.Namespace) -> int:
    from .lm import build_lm, lexicon_from_arpa

    if args.lexicon_from_arpa:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
        n = lexicon_from_arpa(args.lexicon_from_arpa, Path(args.out_dir) / "lexicon.txt")
        print(f"wrote {Path(args.out_dir) / 'lexicon.txt'} ({n} words)")
        return 0
    if not args.text:
        raise UsageError("--text is required (or --lexicon-from-arpa)")
    arpa, lexicon = build_lm(
        args.text,
        args.out_dir,
        args.order,
        args.exclude_held_out,
        args.min_count,
        args.max_vocab,
        log=lambda msg: print(f"asr lm: {msg}", file=sys.stderr, flush=True),
    )
    print(f"wrote {arpa} and {lexicon}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from .corpus.download import DEFAULT_LM_RESOURCES, OPENSLR, download_librispeech, download_lm_resources

    base = args.base_url or OPENSLR
    root = download_librispeech(args.parts, args.dest, base_url=base)
    print(f"{root}: {', '.join(args.parts)}")
    if args.lm:
        print(f"{download_lm_resources(list(DEFAULT_LM_RESOURCES), args.dest, base_url=base)}: LM resources")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .evaluate import write_results

    out = write_results(args.exp_dir)
    print(out.read_text(), end="")
    return 0


def cmd_cmvn(args: argparse.Namespace) -> int:
    from .features import save_cmvn_stats

    mean, std, frames = save_cmvn_stats(args.manifest, args.out, args.max_utts)
    print(f"{args.out}: {frames} frames, mean log-mel {float(mean.mean()):.2f}, std {float(std.mean()):.2f}")
    return 0


def cmd_synth(args: argparse.Namespace) -> int:
    from .corpus.synth import make_split, parse_engine_share, pick_sentences, select_voices

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
    from .corpus.prepare import prepare_fsdd, prepare_librispeech

    if args.real_out_dir:
        from .corpus.prepare import prepare_real

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
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "transcribe": cmd_transcribe,
    "lm": cmd_lm,
    "synth": cmd_synth,
    "prepare": cmd_prepare,
    "report": cmd_report,
    "cmvn": cmd_cmvn,
    "download": cmd_download,
    "stream": cmd_stream,
    "serve": cmd_serve,
    "export": cmd_export,
}


def main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    # argparse takes positionals in one run: overrides after a later option (`--exp-dir X a.b=1`) end up here.
    if (
        extra
        and getattr(args, "overrides", None) is not None
        and all("=" in e and not e.startswith("-") for e in extra)
    ):
        args.overrides += extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        code = COMMANDS[args.command](args)
    except (AsrError, OSError) as e:  # the user's input or files; anything else is a bug and keeps its traceback
        if args.debug:
            raise
        print(f"asr: error: {e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("asr: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
