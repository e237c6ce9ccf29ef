"""Training: ``train(cfg, train_manifest, valid_manifest, exp_dir)``, a plain loop you can read top to bottom.

Writes to ``exp_dir``: ``config.yaml`` (resolved), ``last.pt`` (everything for an exact resume), ``best.pt`` (lowest
validation WER), ``metrics.jsonl`` (the scalar log), ``log.txt``, and ``curves.png`` at the end. Starting the same
command again resumes from ``last.pt``.

Several GPUs or machines: launch the same command with ``torchrun`` (PyTorch DDP; NCCL on CUDA, gloo on CPU). Each
rank trains on every ``world_size``-th batch, gradients are averaged, and rank 0 alone validates and writes files.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .checkpoint import model_state, read_checkpoint, save_atomic
from .config import ExperimentConfig, config_from_dict, config_to_dict, dump_config
from .data import (
    AsrDataset,
    ChannelOptions,
    DurationBucketSampler,
    Utterance,
    check_text,
    collate,
    read_manifest,
    seed_everything,
)
from .decode import DecodeOptions, Decoder, make_decoder
from .errors import TrainError
from .evaluate import infer
from .features import compute_cmvn_stats
from .metrics import cer, wer
from .model import CTCModel, build_model, count_parameters, ctc_loss, resolve_device
from .options import CMVN_MAX_UTTS
from .text import Tokenizer, build_tokenizer, lexicon_spelling, tokenizer_from_state
from .warm_start import warm_start


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
    """PNG of training loss, validation loss and validation WER against steps (skipped without matplotlib, the
    [train] extra)."""
    try:
        import matplotlib
    except ImportError:
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tr = [h for h in history if h.get("kind") == "train"]
    va = [h for h in history if h.get("kind") == "valid"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot([h["step"] for h in tr], [h["loss"] for h in tr], label="train")
    a.plot([h["step"] for h in va], [h["loss"] for h in va], "o-", label="valid")
    a.set(xlabel="step", ylabel="CTC loss per target token", title="loss")
    a.legend()
    x_key = "audio_h" if va and all("audio_h" in h for h in va) else "step"
    for key in sorted({k for h in va for k in h if k == "wer" or k.endswith(("_wer", "wer_default"))}):
        points = [(h[x_key], h[key]) for h in va if key in h]
        b.plot(*zip(*points), "o-", label=key.replace("wer", "WER").replace("_", " ").strip() or "WER")
    b.set(xlabel="hours of audio trained" if x_key == "audio_h" else "step", ylabel="WER %", title="validation")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


@dataclass
class Progress:
    """Where a run stands; saved in ``last.pt`` and restored on resume."""

    step: int = 0
    epoch: int = 0
    position: int = 0  # batches of this epoch already trained on
    audio_s: float = 0.0  # seconds of (augmented) audio trained on so far, all ranks
    best_wer: float = float("inf")
    history: list[dict] = field(default_factory=list)


@dataclass
class Data:
    train_utts: list[Utterance]
    valid_sets: dict[str, list[Utterance]]  # name (the manifest's stem) → utterances; the first one picks best.pt
    tokenizer: Tokenizer
    sampler: DurationBucketSampler
    dataset: AsrDataset


@dataclass(frozen=True)
class Run:
    """What one training run works with: everything the step, validation and saving functions need. Set up once by
    :func:`start_run`; as it trains, only ``progress`` (the counters ``last.pt`` saves) and the model's, optimiser's and
    schedule's own states change."""

    cfg: ExperimentConfig
    exp_dir: Path
    data: Data
    model: CTCModel
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    device: torch.device
    use_amp: bool
    world: int  # DDP ranks (1: one process)
    main_rank: bool  # rank 0: the one that validates and writes files
    total_steps: int  # the schedule's length
    log: Logger
    progress: Progress
    decoders: dict[str, Decoder]  # validation's decodings by name: greedy, and "default" (beam search + bundled LM)


def load_data(
    cfg: ExperimentConfig, manifests: list, valid_manifests: list, resume: dict | None, rank: int, world: int
) -> Data:
    """Read the manifests, build (or, resuming, restore) the tokenizer, the batch sampler and the dataset."""
    tc = cfg.train
    train_utts = [u for m in manifests for u in read_manifest(m)]
    if resume is not None:  # a resumed run keeps the tokenizer it started with
        tokenizer = tokenizer_from_state(resume["tokenizer"])
    else:
        tokenizer = build_tokenizer(
            cfg.model.word_pieces, (u.text for u in train_utts), cfg.model.units, lexicon_words(cfg.model.lexicon)
        )
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
    valid_sets: dict[str, list[Utterance]] = {}
    for m in valid_manifests:
        name = Path(m).stem if Path(m).stem not in valid_sets else str(m)
        valid_sets[name] = read_manifest(m)[: tc.valid_max_utts]
    return Data(train_utts, valid_sets, tokenizer, sampler, dataset)


def lexicon_words(path: str) -> list[str]:
    """The words (first column) of a lexicon or word-list file, in file order; [] for no file."""
    if not path:
        return []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise TrainError(f"{path}: cannot read the lexicon ({e.strerror})") from None
    return [w for w in (lexicon_spelling(line.split()[0]) for line in lines if line.strip()) if w]


def resolve_amp(amp: str, device: torch.device, rnn_type: str = "lstm") -> bool:
    """Whether to train under bf16 autocast. ``auto``: where it is fast, a CUDA GPU with bf16, or a CPU with AVX-512
    bf16 or AMX for an LSTM (oneDNN's bf16 kernel; a GRU has none on the CPU, and bf16 makes its loop slower).
    ``bf16`` insists (an error where the device has no bf16 at all); ``off`` never."""
    if amp == "off":
        return False
    if device.type == "cuda":
        supported, what = torch.cuda.is_bf16_supported(), "this GPU"
    else:
        supported, what = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()), "this CPU (no AVX-512 bf16 or AMX)"
    if amp == "bf16" and not supported:
        raise TrainError(f"train.amp=bf16: {what} has no bf16 support; use train.amp=auto or train.amp=off")
    return supported and (amp == "bf16" or device.type == "cuda" or rnn_type == "lstm")


def _mean_batch_seconds(data: Data) -> float:
    return sum(u.duration for u in data.train_utts) / max(len(data.sampler), 1)


def resume_run(ckpt: dict, cfg: ExperimentConfig, exp_dir: Path, states: tuple, data: Data) -> Progress:
    """Restore the (model, optimiser, schedule) ``states`` and the random states from ``last.pt``; returns its
    progress."""
    saved = config_to_dict(config_from_dict(ckpt["config"]))  # fills in keys added since it was written
    for section in ("features", "model"):
        if saved[section] != config_to_dict(cfg)[section]:
            raise TrainError(f"{exp_dir}: holds a run with a different '{section}' config; use a new --exp-dir")
    for obj, key in zip(states, ("model", "optimizer", "scheduler")):
        obj.load_state_dict(ckpt[key])
    _set_rng_state(ckpt["rng"])
    audio_s = ckpt.get(
        "audio_s", ckpt["step"] * _mean_batch_seconds(data)
    )  # estimated for runs saved before it was kept
    return Progress(
        ckpt["step"], ckpt["sampler"]["epoch"], ckpt["sampler"]["position"], audio_s, ckpt["best_wer"], ckpt["history"]
    )


def init_cmvn(cfg: ExperimentConfig, model: CTCModel, data: Data, device: torch.device) -> None:
    """A fresh model's CMVN statistics: from ``train.cmvn``, or from a sample of the (augmented) training audio."""
    tc = cfg.train
    if tc.cmvn:
        stats = torch.load(tc.cmvn, map_location="cpu")
        mean, std = stats["mean"], stats["std"]
        if len(mean) != cfg.features.n_mels:
            raise TrainError(f"{tc.cmvn}: statistics for {len(mean)} mel bins, config has {cfg.features.n_mels}")
    else:
        pick = np.random.default_rng(tc.seed).permutation(len(data.train_utts))[:CMVN_MAX_UTTS]
        mean, std, _ = compute_cmvn_stats(model.logmel, (data.dataset[int(i)][0] for i in pick), device)
    model.cmvn.set_stats(mean.to(device), std.to(device))


def valid_decoders(cfg: ExperimentConfig, tokenizer: Tokenizer, main_rank: bool) -> dict[str, Decoder]:
    """Validation's decodings: greedy, and with ``train.valid_default_decoding`` the bundled model's (beam search +
    bundled LM), built once. None on ranks that do not validate."""
    if not main_rank:
        return {}
    decoders = {"greedy": make_decoder(tokenizer, DecodeOptions("greedy"))}
    if cfg.train.valid_default_decoding:
        from .bundled import default_decode_options

        decoders["default"] = make_decoder(tokenizer, default_decode_options())
    return decoders


def train_step(run: Run, fwd_model: torch.nn.Module, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on ``batch``. Returns the loss (a detached tensor: no sync with the device) and the
    gradient norm before clipping."""
    device = run.device
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=run.use_amp):
        log_probs, out_lens = fwd_model(batch["wav"].to(device, non_blocking=True), batch["wav_lens"].to(device))
    targets, target_lens = batch["targets"].to(device), batch["target_lens"].to(device)
    loss = ctc_loss(log_probs, out_lens, targets, target_lens, run.data.tokenizer.blank).mean()
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.cfg.optim.grad_clip)
    run.optimizer.step()
    run.scheduler.step()
    return loss.detach(), grad_norm


def validate(run: Run) -> None:
    """Loss, WER and CER on each validation set (rank 0): greedy, and with ``train.valid_default_decoding`` also as the
    bundled model decodes (beam search + bundled LM). ``best.pt`` when the first set's WER is the lowest: with the
    default decoding when it is measured (the decoding users get), else greedy."""
    if not run.main_rank:
        return
    p, data = run.progress, run.data
    row: dict = {"kind": "valid", "step": p.step, "epoch": p.epoch, "audio_h": round(p.audio_s / 3600, 2)}
    first = True
    for name, utts in data.valid_sets.items():
        hyps, vloss = infer(
            run.model, utts, data.tokenizer, run.decoders, run.device, run.cfg.train.max_batch_seconds, amp=run.use_amp
        )
        refs = [u.text for u in utts]
        scores = {"loss": vloss}
        for kind, hs in hyps.items():
            texts = [h.text for h in hs]
            suffix = "" if kind == "greedy" else f"_{kind}"
            scores |= {f"wer{suffix}": wer(refs, texts), f"cer{suffix}": cer(refs, texts)}
        row |= scores if first else {f"{name}_{k}": v for k, v in scores.items()}
        shown = ", ".join(f"{k} {v:.2f}" + ("" if k == "loss" else "%") for k, v in scores.items())
        run.log.line(f"valid step {p.step} ({p.audio_s / 3600:.1f} h of audio) {name}: {shown}")
        first = False
    run.log.scalars(**row)
    key = "wer_default" if "wer_default" in row else "wer"
    w = row[key]
    best = run.exp_dir / "best.pt"
    if w < p.best_wer or not best.exists():
        p.best_wer = min(p.best_wer, w)
        scores = {"valid_wer": w, "valid_cer": row[key.replace("wer", "cer")], "valid_decoding": key}
        save_atomic(model_state(run.model, run.cfg, data.tokenizer) | {"step": p.step} | scores, best)
    run.model.train()


def save_last(run: Run) -> None:
    """Everything for an exact resume, to ``last.pt`` (rank 0)."""
    if not run.main_rank:
        return
    p = run.progress
    state = model_state(run.model, run.cfg, run.data.tokenizer)
    state.update(
        optimizer=run.optimizer.state_dict(),
        scheduler=run.scheduler.state_dict(),
        step=p.step,
        audio_s=p.audio_s,
        best_wer=p.best_wer,
        history=p.history,
        rng=_rng_state(),
        sampler={"epoch": p.epoch, "position": p.position},
    )
    save_atomic(state, run.exp_dir / "last.pt")


def keep_snapshot(run: Run) -> None:
    """The weights alone (no optimiser state) to ``snapshots/stepNNNNNN.pt``, for ``asr export --average`` (rank 0)."""
    if not run.main_rank:
        return
    state = model_state(run.model, run.cfg, run.data.tokenizer)
    state.update(step=run.progress.step, audio_s=run.progress.audio_s)
    (run.exp_dir / "snapshots").mkdir(exist_ok=True)
    save_atomic(state, run.exp_dir / "snapshots" / f"step{run.progress.step:06d}.pt")


def sync(run: Run) -> None:
    """Other DDP ranks wait here while rank 0 validates or saves."""
    if run.world > 1:
        torch.distributed.barrier()


def global_sum(run: Run, *values: float) -> list[float]:
    """Sums over the DDP ranks."""
    if run.world == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=run.device)
    torch.distributed.all_reduce(t)
    return t.tolist()


def start_run(cfg: ExperimentConfig, manifests: list, valids: list, exp_dir: Path) -> Run:
    """Data, model, optimiser and schedule of a run: resumed from ``exp_dir/last.pt`` if there is one, else warm
    started from ``train.init_from`` or started fresh. Logs how it starts."""
    tc = cfg.train
    rank, world, device = init_distributed(resolve_device(tc.device))
    if tc.threads > 0:
        torch.set_num_threads(tc.threads)
    seed_everything(tc.seed)
    last = exp_dir / "last.pt"
    resume = read_checkpoint(last) if last.exists() else None
    data = load_data(cfg, manifests, valids, resume, rank, world)
    total_steps = min(tc.max_steps, tc.epochs * len(data.sampler)) if tc.max_steps else tc.epochs * len(data.sampler)
    model = build_model(cfg, len(data.tokenizer)).to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.optim.lr, betas=cfg.optim.betas, weight_decay=cfg.optim.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_lambda(s, cfg.optim.warmup_steps, total_steps, cfg.optim.final_lr_ratio)
    )
    use_amp = resolve_amp(tc.amp, device, cfg.model.rnn_type)
    progress, notes = Progress(), []
    if resume is not None:
        progress = resume_run(resume, cfg, exp_dir, (model, optimizer, scheduler), data)
    elif tc.init_from:
        notes = warm_start(model, cfg.model, data.tokenizer, tc.init_from)
        if tc.cmvn:  # new statistics for the warm-started model (e.g. over real speech too)
            init_cmvn(cfg, model, data, device)
            notes.append(f"CMVN statistics from {tc.cmvn}, not from {tc.init_from}")
    else:
        init_cmvn(cfg, model, data, device)
    if rank == 0:
        (exp_dir / "config.yaml").write_text(dump_config(cfg))
    log = Logger(exp_dir, progress.history, enabled=rank == 0)
    decoders = valid_decoders(cfg, data.tokenizer, rank == 0)
    run = Run(
        cfg,
        exp_dir,
        data,
        model,
        optimizer,
        scheduler,
        device,
        use_amp,
        world,
        rank == 0,
        total_steps,
        log,
        progress,
        decoders,
    )
    for note in notes:
        log.line(note)
    log.line(
        f"{'resumed at step ' + str(progress.step) if resume is not None else 'started'}: "
        f"{count_parameters(model) / 1e6:.2f}M params, {len(data.train_utts)} train utts "
        f"({sum(u.duration for u in data.train_utts) / 3600:.2f} h), {len(data.sampler)} batches/epoch, "
        f"{total_steps} steps, device {device}, {'bf16 autocast' if use_amp else 'float32'} (train.amp={tc.amp})"
        + (f", {world} DDP ranks" if world > 1 else "")
    )
    for i in data.sampler.skipped:
        u = data.train_utts[i]
        log.line(
            f"warning: skipping {u.id} ({u.duration:.1f} s) — outside [{tc.min_duration}, "
            f"{min(tc.max_duration, tc.max_batch_seconds)}] s"
        )
    return run


def forward_model(run: Run) -> torch.nn.Module:
    """The module the training steps call: the model, wrapped for DDP and compiled on CUDA when asked."""
    fwd_model = run.model
    if run.world > 1:
        fwd_model = torch.nn.parallel.DistributedDataParallel(
            run.model, device_ids=[run.device] if run.device.type == "cuda" else None
        )
    if run.cfg.train.compile and run.device.type == "cuda":
        fwd_model = torch.compile(fwd_model)
    return fwd_model


def train(
    cfg: ExperimentConfig, train_manifest: str | Path | list, valid_manifest: str | Path | list, exp_dir: str | Path
) -> Path:
    """Train (or resume) a CTC model on one or more training manifests. Returns the path of ``best.pt``."""
    exp_dir = Path(exp_dir)
    exp_dir.mkdir(parents=True, exist_ok=True)
    manifests = list(train_manifest) if isinstance(train_manifest, (list, tuple)) else [train_manifest]
    valids = list(valid_manifest) if isinstance(valid_manifest, (list, tuple)) else [valid_manifest]
    run = start_run(cfg, manifests, valids, exp_dir)
    tc, data, p, log, total_steps = cfg.train, run.data, run.progress, run.log, run.total_steps
    fwd_model = forward_model(run)

    # ---- the loop ----
    from tqdm import tqdm

    bar = tqdm(
        total=total_steps,
        initial=p.step,
        desc="train",
        unit="step",
        dynamic_ncols=True,
        disable=None if run.main_rank else True,
    )
    loader_gen = torch.Generator()  # keeps DataLoader seeding off the global RNG, so resume replays it exactly
    t0, audio_s, win_loss, win_n = time.time(), 0.0, torch.zeros((), device=run.device), 0
    run.model.train()
    while p.step < total_steps and (tc.max_steps > 0 or p.epoch < tc.epochs):
        data.sampler.load_state_dict({"epoch": p.epoch, "position": p.position})
        data.dataset.epoch = p.epoch
        loader = torch.utils.data.DataLoader(
            data.dataset,
            batch_sampler=data.sampler,
            collate_fn=collate,
            num_workers=tc.num_workers,
            pin_memory=run.device.type == "cuda",
            generator=loader_gen,
            persistent_workers=False,
        )
        for batch in loader:
            loss, grad_norm = train_step(run, fwd_model, batch)
            p.step, p.position = p.step + 1, p.position + 1
            audio_s += float(batch["wav_lens"].sum()) / 16000
            p.audio_s += float(batch["wav_lens"].sum()) / 16000 * run.world
            win_loss, win_n = win_loss + loss, win_n + 1
            bar.update(1)
            if p.step % tc.log_every == 0 or p.step == total_steps:
                log_window(run, audio_s, t0, win_loss, win_n, grad_norm)
                win_loss, win_n = torch.zeros((), device=run.device), 0
            if p.step % tc.valid_every == 0:
                validate(run)
                sync(run)
            if p.step % tc.save_every == 0 or p.step == total_steps:
                save_last(run)
                sync(run)
            if tc.keep_every and p.step % tc.keep_every == 0:
                keep_snapshot(run)
            if p.step >= total_steps:
                break
        else:  # the epoch ran to its end
            p.epoch, p.position = p.epoch + 1, 0
            save_last(run)
            sync(run)
    bar.close()
    if not p.history or p.history[-1].get("kind") != "valid":
        validate(run)
        save_last(run)
    sync(run)
    if run.main_rank:
        plot_curves(p.history, exp_dir / "curves.png")
    log.line(f"done: step {p.step}, best valid WER {p.best_wer:.2f}% → {exp_dir / 'best.pt'}")
    if run.world > 1:
        torch.distributed.destroy_process_group()
    return exp_dir / "best.pt"


def log_window(run: Run, audio_s: float, t0: float, win_loss: torch.Tensor, win_n: int, grad_norm) -> None:
    """Log the steps since the last log line: mean loss, learning rate, gradient norm, seconds of audio per second
    (over all ranks) since ``t0``."""
    p = run.progress
    all_audio, all_loss, all_n = global_sum(run, audio_s, win_loss.item(), win_n)
    speed, lr = all_audio / (time.time() - t0), run.scheduler.get_last_lr()[0]
    run.log.scalars(
        kind="train",
        step=p.step,
        epoch=p.epoch,
        loss=all_loss / all_n,
        lr=lr,
        grad_norm=float(grad_norm),
        audio_per_s=speed,
    )
    run.log.line(
        f"step {p.step}/{run.total_steps} epoch {p.epoch} loss {all_loss / all_n:.3f} lr {lr:.2e} {speed:.1f} s audio/s"
    )
