"""Command-line interface: ``asr COMMAND``. The commands users run are parsed and run by :mod:`asr.commands`, the
corpus tooling's by :mod:`asr.corpus.cli`; this module assembles them and turns the user's errors into one line."""

from __future__ import annotations

import argparse
import re
import sys

from .commands import files, live, training
from .corpus import cli as corpus
from .errors import AsrError

GROUPS = (files, live, training)  # what users run
COMMANDS = {name: cmd for group in GROUPS for name, cmd in group.COMMANDS.items()}
OVERRIDE = re.compile(r"^[a-z_]+\.[a-z_0-9]+=")  # section.key=value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="asr", description="BiLSTM/GRU-CTC speech recognition.")
    p.add_argument("--debug", action="store_true", help="show a traceback for errors in the input too")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name: str, help: str, example: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=f"example:\n  {example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    for group in (*GROUPS, corpus):
        group.add_commands(add)
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """``argv`` parsed; a training run's ``section.key=value`` overrides gathered wherever they stand."""
    p = parser()
    args, extra = p.parse_known_args(argv)
    # argparse takes positionals in one run: overrides after a later option (`--exp-dir X a.b=1`) end up here.
    if (
        extra
        and getattr(args, "overrides", None) is not None
        and all("=" in e and not e.startswith("-") for e in extra)
    ):
        args.overrides += extra
    elif extra:
        p.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "train":  # section.key=value right after --train/--valid FILE… is an override, not a file
        for name in ("train", "valid"):
            files = getattr(args, name)
            args.overrides += [f for f in files if OVERRIDE.match(f)]
            setattr(args, name, [f for f in files if not OVERRIDE.match(f)])
            if not getattr(args, name):
                p.error(f"--{name} needs at least one manifest")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        code = (COMMANDS | corpus.COMMANDS)[args.command](args)
    except (AsrError, OSError) as e:  # the user's input or files; anything else is a bug and keeps its traceback
        if args.debug:
            raise
        print(f"asr: error: {e}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("asr: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)
