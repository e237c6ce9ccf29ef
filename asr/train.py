"""Training: ``train(cfg, train_manifest, valid_manifest, exp_dir)``, a plain loop you can read top to bottom.

Writes to ``exp_dir``: ``config.yaml`` (resolved), ``last.pt`` (everything for an exact resume), ``best.pt`` (lowest
validation WER), ``metrics.jsonl`` (the scalar log), ``log.txt``, and ``curves.png`` at the end. Starting the same
command again resumes from ``last.pt``.

Several GPUs or machines: launch the same command with ``torchrun`` (PyTorch DDP; NCCL on CUDA, gloo on CPU). Each
rank trains on every ``world_size``-th batch, gradients are averaged, and rank 0 alone validates and writes files.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .checkpoint import model_state, read_checkpoint, save_atomic
from .config import ExperimentConfig, config_from_dict, config_to_dict, dump_config
from .data import AsrDataset, ChannelOptions, DurationBucketSampler, check_text, collate, read_manifest, seed_everything
from .decode import DecodeOptions, make_decoder
from .errors import AsrError
from .evaluate import infer
from .features import compute_cmvn_stats
from .metrics import cer, wer
from .model import build_model, count_parameters, remap_output, widen_state
from .text import build_tokenizer, tokenizer_from_state

CMVN_MAX_UTTS = 1000  # utterances sampled for the global CMVN statistics


class TrainError(AsrError):
    """Training cannot start; one line saying why."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TrainError(f"device '{name}' requested but CUDA is not available")
    return dev


def init_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """Join the process group torchrun describes in the environment. Returns (rank, world size, this rank's device)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    import torch.distributed as dist

    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world, device


def lr_lambda(step: int, warmup: int, total: int, final_ratio: float) -> float:
    """Linear warm-up to 1, then cosine decay to ``final_ratio`` at ``total``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final_ratio + (1 - final_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def _rng_state() -> dict:
    """The random generators' states as tensors and plain values (checkpoints load with ``weights_only``)."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached))
    state = {"python": random.getstate(), "numpy": numpy_state, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.int64).astype(np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class Logger:
    """Lines to stderr and ``log.txt``; scalars to ``metrics.jsonl``."""

    def __init__(self, exp_dir: Path, history: list[dict], enabled: bool = True) -> None:
        self.history, self.enabled = history, enabled
        if not enabled:  # DDP ranks other than 0
            return
        self.log_file = open(exp_dir / "log.txt", "a")
        self.metrics_path = exp_dir / "metrics.jsonl"
        # Rewrite the scalar log from the checkpoint's history, dropping entries logged after it was saved.
        self.metrics_path.write_text("".join(json.dumps(h) + "\n" for h in history))

    def line(self, msg: str) -> None:
        from tqdm import tqdm

        if not self.enabled:
            return
        msg = f"[{time.strftime('%H:%M:%S')}] {msg}"
        tqdm.write(msg, file=sys.stderr)
        self.log_file.write(msg + "\n")
        self.log_file.flush()

    def scalars(self, **kv) -> None:
        self.history.append(kv)
        if not self.enabled:
            return
        with open(self.metrics_path, "a") as f:
            f.write(json.dumps(kv) + "\n")


def plot_curves(history: list[dict], path: Path) -> None:
    """PNG of training loss, validation loss and validation WER against steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tr = [h for h in history if h.get("kind") == "train"]
    va = [h for h in history if h.get("kind") == "valid"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot([h["step"] for h in tr], [h["loss"] for h in tr], label="train")
    a.plot([h["step"] for h in va], [h["loss"] for h in va], "o-", label="valid")
    a.set(xlabel="step", ylabel="CTC loss per target token", title="loss")
    a.legend()
    b.plot([h["step"] for h in va], [h["wer"] for h in va], "o-", label="WER")
    b.plot([h["step"] for h in va], [h["cer"] for h in va], "s-", label="CER")
    b.set(xlabel="step", ylabel="%", title="validation (greedy)")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def train(
    cfg: ExperimentConfig, train_manifest: str | Path | list, valid_manifest: str | Path, exp_dir: str | Path
) -> Path:
    """Train (or resume) a CTC model on one or more training manifests. Returns the path of ``best.pt``."""
    exp_dir = Path(exp_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    tc = cfg.train
    rank, world, device = init_distributed(resolve_device(tc.device))
    main_rank = rank == 0
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    seed_everything(tc.seed)
    use_amp = tc.amp == "bf16" or (tc.amp == "auto" and device.type == "cuda")

    # ---- data ----
    manifests = train_manifest if isinstance(train_manifest, (list, tuple)) else [train_manifest]
    train_utts = [u for m in manifests for u in read_manifest(m)]
    last = exp_dir / "last.pt"
    ckpt = read_checkpoint(last) if last.exists() else None
    if ckpt is not None:  # a resumed run keeps the tokenizer it started with
        tokenizer = tokenizer_from_state(ckpt["tokenizer"])
    else:
        tokenizer = build_tokenizer(cfg.model.word_pieces, (u.text for u in train_utts))
    valid_utts = read_manifest(valid_manifest)[: tc.valid_max_utts]
    bad = check_text(train_utts, tokenizer)
    if bad:
        raise TrainError(f"{manifests[0]}: {len(bad)} utterances have no usable text (first: {bad[0]})")
    sampler = DurationBucketSampler(
        [u.duration for u in train_utts],
        tc.max_batch_seconds,
        tc.max_batch_size,
        seed=tc.seed,
        jitter=tc.bucket_jitter,
        max_duration=tc.max_duration,
        min_duration=tc.min_duration,
        rank=rank,
        world_size=world,
    )
    if len(sampler) == 0:
        raise TrainError(f"{manifests[0]}: no utterance fits the duration limits")
    channel = ChannelOptions(tc.reverb_prob, tc.noise_prob, tc.lowpass_prob, tc.gain_prob, tc.hum_prob)
    dataset = AsrDataset(train_utts, tokenizer, tc.speed_perturb, tc.narrowband_prob, tc.seed, channel)
    total_steps = min(tc.max_steps, tc.epochs * len(sampler)) if tc.max_steps else tc.epochs * len(sampler)

    # ---- model and optimiser ----
    model = build_model(cfg, len(tokenizer)).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.optim.lr, betas=cfg.optim.betas, weight_decay=cfg.optim.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_lambda(s, cfg.optim.warmup_steps, total_steps, cfg.optim.final_lr_ratio)
    )
    step, epoch, position, best_wer, history = 0, 0, 0, float("inf"), []
    warm_start_notes = []
    if ckpt is not None:
        saved = config_to_dict(config_from_dict(ckpt["config"]))  # fills in keys added since it was written
        for section in ("features", "model"):
            if saved[section] != config_to_dict(cfg)[section]:
                raise TrainError(f"{exp_dir}: holds a run with a different '{section}' config; use a new --exp-dir")
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        step, best_wer, history = ckpt["step"], ckpt["best_wer"], ckpt["history"]
        epoch, position = ckpt["sampler"]["epoch"], ckpt["sampler"]["position"]
        _set_rng_state(ckpt["rng"])
        resumed = True
    elif tc.init_from:
        ckpt = read_checkpoint(tc.init_from)
        saved = config_from_dict(ckpt["config"]).model
        if dataclasses.replace(saved, hidden=cfg.model.hidden, word_pieces=cfg.model.word_pieces) != cfg.model:
            raise TrainError(
                f"{tc.init_from}: its model config differs from this run's "
                "(other than model.hidden and model.word_pieces)"
            )
        state = ckpt["model"]
        old_tokens = tokenizer_from_state(ckpt["tokenizer"]).tokens
        if old_tokens != tokenizer.tokens:
            state = remap_output(state, old_tokens, tokenizer.tokens)
            shared = len(set(old_tokens) & set(tokenizer.tokens))
            warm_start_notes.append(f"output layer: {shared} of {len(tokenizer)} tokens taken from {tc.init_from}")
        if saved.hidden != cfg.model.hidden:
            try:
                state = widen_state(state, saved.hidden, model)
            except ValueError as e:
                raise TrainError(f"{tc.init_from}: {e}") from None
            warm_start_notes.append(
                f"widened {tc.init_from} from {saved.hidden} to {cfg.model.hidden} units per direction"
            )
        model.load_state_dict(state)
        resumed = False
    else:
        if tc.cmvn:
            stats = torch.load(tc.cmvn, map_location="cpu")
            mean, std = stats["mean"], stats["std"]
            if len(mean) != cfg.features.n_mels:
                raise TrainError(f"{tc.cmvn}: statistics for {len(mean)} mel bins, config has {cfg.features.n_mels}")
        else:
            pick = np.random.default_rng(tc.seed).permutation(len(train_utts))[:CMVN_MAX_UTTS]
            mean, std, _ = compute_cmvn_stats(model.logmel, (dataset[int(i)][0] for i in pick), device)
        model.cmvn.set_stats(mean.to(device), std.to(device))
        resumed = False
    if main_rank:
        (exp_dir / "config.yaml").write_text(dump_config(cfg))
    log = Logger(exp_dir, history, enabled=main_rank)
    for note in warm_start_notes:
        log.line(note)
    log.line(
        f"{'resumed at step ' + str(step) if resumed else 'started'}: {count_parameters(model) / 1e6:.2f}M params, "
        f"{len(train_utts)} train utts ({sum(u.duration for u in train_utts) / 3600:.2f} h), {len(sampler)} "
        f"batches/epoch, {total_steps} steps, device {device}, amp {'bf16' if use_amp else 'off'}"
        + (f", {world} DDP ranks" if world > 1 else "")
    )
    for i in sampler.skipped:
        u = train_utts[i]
        log.line(
            f"warning: skipping {u.id} ({u.duration:.1f} s) — outside [{tc.min_duration}, "
            f"{min(tc.max_duration, tc.max_batch_seconds)}] s"
        )
    fwd_model = model
    if world > 1:
        fwd_model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device] if device.type == "cuda" else None
        )
    if tc.compile and device.type == "cuda":
        fwd_model = torch.compile(fwd_model)
    greedy = make_decoder(tokenizer, DecodeOptions("greedy"))

    def sync() -> None:  # other ranks wait here while rank 0 validates or saves
        if world > 1:
            torch.distributed.barrier()

    def global_sum(*values: float) -> list[float]:
        if world == 1:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def save_last() -> None:
        if not main_rank:
            return
        state = model_state(model, cfg, tokenizer)
        state.update(
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
            step=step,
            best_wer=best_wer,
            history=history,
            rng=_rng_state(),
            sampler={"epoch": epoch, "position": position},
        )
        save_atomic(state, last)

    def validate() -> None:
        nonlocal best_wer
        if not main_rank:
            return
        hyps, vloss = infer(model, valid_utts, tokenizer, greedy, device, tc.max_batch_seconds, amp=use_amp)
        refs, hs = [u.text for u in valid_utts], [h.text for h in hyps]
        w, c = wer(refs, hs), cer(refs, hs)
        log.scalars(kind="valid", step=step, epoch=epoch, loss=vloss, wer=w, cer=c)
        log.line(f"valid step {step}: loss {vloss:.3f} WER {w:.2f}% CER {c:.2f}%")
        if w < best_wer or not (exp_dir / "best.pt").exists():
            best_wer = min(best_wer, w)
            save_atomic(
                model_state(model, cfg, tokenizer) | {"step": step, "valid_wer": w, "valid_cer": c}, exp_dir / "best.pt"
            )
        model.train()

    # ---- the loop ----
    from tqdm import tqdm

    bar = tqdm(
        total=total_steps,
        initial=step,
        desc="train",
        unit="step",
        dynamic_ncols=True,
        disable=None if main_rank else True,
    )
    loader_gen = torch.Generator()  # keeps DataLoader seeding off the global RNG, so resume replays it exactly
    t0, audio_s, win_loss, win_n = time.time(), 0.0, torch.zeros((), device=device), 0
    model.train()
    while step < total_steps and (tc.max_steps > 0 or epoch < tc.epochs):
        sampler.load_state_dict({"epoch": epoch, "position": position})
        dataset.epoch = epoch
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=collate,
            num_workers=tc.num_workers,
            pin_memory=device.type == "cuda",
            generator=loader_gen,
            persistent_workers=False,
        )
        for batch in loader:
            wav = batch["wav"].to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                log_probs, out_lens = fwd_model(wav, batch["wav_lens"].to(device))
            loss = torch.nn.functional.ctc_loss(
                log_probs.float().transpose(0, 1),
                batch["targets"].to(device),
                out_lens,
                batch["target_lens"].to(device),
                blank=tokenizer.blank,
                reduction="mean",
                zero_infinity=True,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
            optimizer.step()
            scheduler.step()
            step, position = step + 1, position + 1
            audio_s += float(batch["wav_lens"].sum()) / 16000
            win_loss, win_n = win_loss + loss.detach(), win_n + 1  # no sync with the device until logging
            bar.update(1)
            if step % tc.log_every == 0 or step == total_steps:
                all_audio, all_loss, all_n = global_sum(audio_s, win_loss.item(), win_n)
                speed = all_audio / (time.time() - t0)
                log.scalars(
                    kind="train",
                    step=step,
                    epoch=epoch,
                    loss=all_loss / all_n,
                    lr=scheduler.get_last_lr()[0],
                    grad_norm=float(grad_norm),
                    audio_per_s=speed,
                )
                log.line(
                    f"step {step}/{total_steps} epoch {epoch} loss {all_loss / all_n:.3f} "
                    f"lr {scheduler.get_last_lr()[0]:.2e} {speed:.1f} s audio/s"
                )
                win_loss, win_n = torch.zeros((), device=device), 0
            if step % tc.valid_every == 0:
                validate()
                sync()
            if step % tc.save_every == 0 or step == total_steps:
                save_last()
                sync()
            if step >= total_steps:
                break
        else:
            epoch, position = epoch + 1, 0
            save_last()
            sync()
            continue
        break
    bar.close()
    if not history or history[-1].get("kind") != "valid":
        validate()
        save_last()
    sync()
    if main_rank:
        plot_curves(history, exp_dir / "curves.png")
    log.line(f"done: step {step}, best valid WER {best_wer:.2f}% → {exp_dir / 'best.pt'}")
    if world > 1:
        torch.distributed.destroy_process_group()
    return exp_dir / "best.pt"
