"""Decode a manifest and score it: ``asr evaluate`` (through the transcription path). Also the batched loop that
validation during training uses, which also needs the CTC loss."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .audio import AudioError
from .data import AsrDataset, DurationBucketSampler, Utterance, collate, read_manifest
from .decode import DecodeOptions, Decoder, Hypothesis
from .metrics import ErrorStats, write_error_report
from .model import CTCModel, ctc_loss
from .options import EVAL_BATCH_SIZE
from .text import Tokenizer
from .vad import VadOptions

if TYPE_CHECKING:
    from .transcribe import Recognizer


@dataclass(frozen=True)
class EvalResult:
    wer: ErrorStats
    cer: ErrorStats
    num_utts: int

    def summary(self) -> str:
        """``WER x% CER y% (N utterances; words: s% substituted, d% deleted, i% inserted)``."""
        w, n = self.wer, max(self.wer.ref_len, 1)
        return (
            f"WER {w.rate:.2f}% CER {self.cer.rate:.2f}% ({self.num_utts} utterances; words: "
            f"{100 * w.substitutions / n:.1f}% substituted, {100 * w.deletions / n:.1f}% deleted, "
            f"{100 * w.insertions / n:.1f}% inserted)"
        )


@torch.no_grad()
def infer(
    model: CTCModel,
    utts: list[Utterance],
    tokenizer: Tokenizer,
    decoders: dict[str, Decoder],
    device: torch.device | str = "cpu",
    max_batch_seconds: float = 200.0,
    num_workers: int = 0,
    amp: bool = False,
) -> tuple[dict[str, list[Hypothesis]], float]:
    """Decode ``utts`` in duration-sorted batches, each batch's log-probs by every decoder of ``decoders``.

    Returns:
        ``{name: one hypothesis per utterance (in input order)}`` and the CTC loss per target token averaged over
        utterances (the unit of the training loss, ``reduction="mean"``).
    """
    model.eval()
    sampler = DurationBucketSampler([u.duration for u in utts], max_batch_seconds, max_size=64, jitter=0.0)
    # Utterances longer than a batch go alone.
    batches = list(iter(sampler)) + [[i] for i in sampler.skipped]
    loader = torch.utils.data.DataLoader(
        AsrDataset(utts, tokenizer), batch_sampler=batches, collate_fn=collate, num_workers=num_workers
    )
    device = torch.device(device)
    hyps: dict[str, list] = {name: [None] * len(utts) for name in decoders}
    loss_sum = 0.0
    for batch in loader:
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            log_probs, lens = model(batch["wav"].to(device), batch["wav_lens"].to(device))
        loss = ctc_loss(log_probs, lens, batch["targets"].to(device), batch["target_lens"].to(device), tokenizer.blank)
        loss_sum += float(loss.sum())
        for name, decoder in decoders.items():
            for i, h in zip(batch["index"].tolist(), decoder(log_probs.float().cpu(), lens.cpu())):
                hyps[name][i] = h
    return hyps, loss_sum / max(len(utts), 1)


def evaluate(
    rec: Recognizer,
    manifest: str | Path,
    out_dir: str | Path,
    decode: DecodeOptions | None = None,
    vad: VadOptions | None = VadOptions(),
    batch_size: int = EVAL_BATCH_SIZE,
) -> EvalResult:
    """Transcribe every utterance of ``manifest`` exactly as ``asr transcribe`` would (the same
    :meth:`Recognizer.transcribe_many`; ``vad=None`` decodes each clip whole) and score it; write
    ``out_dir/hyp.jsonl`` and ``out_dir/errors.txt``.

    Raises:
        AudioError: an utterance's audio cannot be read (the manifest and the file are named).
    """
    utts = read_manifest(manifest, check_audio=True)
    order = sorted(range(len(utts)), key=lambda i: utts[i].duration)  # similar lengths batch together
    hyps = [""] * len(utts)
    results = rec.transcribe_many([utts[i].audio for i in order], batch_size, vad, decode=decode)
    for i, (_, result) in zip(order, results):
        if isinstance(result, Exception):
            raise AudioError(f"{manifest}: utterance {utts[i].id}: {result}")
        hyps[i] = result.text
    return write_decoded(out_dir, [u.id for u in utts], [u.text for u in utts], hyps)


def write_decoded(out_dir: str | Path, ids: list[str], refs: list[str], hyps: list[str]) -> EvalResult:
    """Write ``out_dir/hyp.jsonl`` (id, ref, hyp per line) and ``out_dir/errors.txt``; return the scores."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "hyp.jsonl", "w") as f:
        for i, r, h in zip(ids, refs, hyps):
            f.write(json.dumps({"id": i, "ref": r, "hyp": h}) + "\n")
    w, c = write_error_report(out / "errors.txt", ids, refs, hyps)
    return EvalResult(w, c, len(ids))


def write_results(exp_dir: str | Path, out: str | Path | None = None) -> Path:
    """Collect ``exp_dir/decode/<set>_<decoder>/errors.txt`` summaries into a Markdown WER/CER table (RESULTS.md)."""
    exp_dir = Path(exp_dir)
    rows = []
    for errors in sorted((exp_dir / "decode").glob("*/errors.txt")):
        head = errors.read_text().splitlines()[:3]
        wer_pct, cer_pct = head[0].split()[1], head[1].split()[1]
        name = errors.parent.name
        test_set, _, decoder = name.rpartition("_")
        rows.append(f"| {test_set} | {decoder} | {wer_pct} | {cer_pct} | {head[2].split()[0]} |")
    if not rows:
        raise FileNotFoundError(f"{exp_dir / 'decode'}: no decoding results (*/errors.txt)")
    out = Path(out) if out else exp_dir / "RESULTS.md"
    model = exp_dir / "best.pt"
    out.write_text(
        "\n".join(
            [
                f"# Results: {exp_dir}",
                "",
                f"Model: `{model}`",
                "",
                "| set | decoder | WER | CER | utterances |",
                "|---|---|---|---|---|",
                *rows,
                "",
            ]
        )
    )
    return out
