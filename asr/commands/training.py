"""``asr train`` and ``asr export``: a training run from a config and manifests, and the files it ships. Parsed
here and run by :mod:`asr.train`, :mod:`asr.checkpoint` and :mod:`asr.export`."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UsageError
from .common import AddCommand

EXAMPLES = {
    "train": "asr train --config conf/tiny.yaml --train data/train.jsonl --valid data/dev.jsonl --exp-dir exp/tiny train.epochs=30",
    "export": "asr export --model exp/real/best.pt --out model.pt --int8-weights --info recipe=recipes/real/run.sh\n  asr export --model asr/assets/default.pt --out model.ts --torchscript",
}


def add_commands(add: AddCommand) -> None:
    """Add ``train`` and ``export`` through ``add(name, help, example)``, which makes a subparser."""
    t = add("train", "Train a CTC model (resumes from EXP_DIR/last.pt if present).", EXAMPLES["train"])
    t.add_argument("--config", help="YAML file of overrides (conf/*.yaml)")
    t.add_argument("--train", required=True, nargs="+", help="training manifest(s) (JSONL)")
    t.add_argument(
        "--valid", required=True, nargs="+", help="validation manifest(s) (JSONL); the first one picks best.pt"
    )
    t.add_argument("--exp-dir", required=True, help="output folder")
    t.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    t.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides, applied last")

    ex = add(
        "export",
        "Write the inference part of a checkpoint (weights, config, tokenizer, CMVN), or TorchScript.",
        EXAMPLES["export"],
    )
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
    ex.add_argument(
        "--average",
        nargs="+",
        metavar="CKPT",
        default=[],
        help="write the mean of the model's weights and these checkpoints' (earlier snapshots of the same run)",
    )


def cmd_train(args: argparse.Namespace) -> int:
    from ..config import dump_config, load_config
    from ..train import train

    cfg = load_config(args.config, args.overrides)
    if args.print_config:
        print(dump_config(cfg), end="")
        return 0
    train(cfg, args.train, args.valid, args.exp_dir)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..checkpoint import export_model, load_checkpoint_model

    if args.torchscript:
        from ..export import export_torchscript, quantize_int8

        model, tokenizer, _ = load_checkpoint_model(args.model)
        export_torchscript(quantize_int8(model) if args.int8 else model, args.out, tokenizer.state_dict())
        print(
            f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): forward(wav (B, N), lens (B,)) → "
            "(log_probs (B, T, V), lens (B,)); the V tokens are its extra file tokens.json, the units and any "
            "pronunciation lexicon its extra file tokenizer.json"
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
    meta = export_model(args.model, args.out, weights=weights, blend=blend, average=args.average, **info)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB): {meta}")
    return 0


COMMANDS = {"train": cmd_train, "export": cmd_export}
