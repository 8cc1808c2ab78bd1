"""``loci`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from loci.demo import run_demo
from loci.paths import data_root
from memory_core import LociError, MemoryConfig, load_config

__all__ = ["main"]


def _say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 - the CLI talks to its user


def _cmd_run(args: argparse.Namespace) -> int:
    data = Path(args.data_dir) if args.data_dir else data_root()
    if not data.is_dir():
        raise LociError(f"data folder {data} not found (set --data-dir or LOCI_DATA_DIR)")
    house = Path(args.house) if args.house else data / "procthor_houses/houses_20/house_0.json"
    if not house.is_file():
        raise LociError(f"house file {house} not found")
    config = load_config(args.config) if args.config else MemoryConfig()
    out = Path(args.out) if args.out else Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    _say("loci: memory demo on a real ProcTHOR house (the planner episode arrives with issue 4)")
    result = run_demo(house, data, out, config, _say)
    return 0 if result.reload_identical else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="loci", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the main job on the embedded default")
    run.add_argument("--house", help="ProcTHOR house JSON (default: houses_20/house_0.json)")
    run.add_argument("--data-dir", help="real data folder (default: ../shared/data)")
    run.add_argument("--config", help="memory config YAML (default: built-in defaults)")
    run.add_argument("--out", help="run folder (default: runs/<timestamp>)")
    run.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
    except LociError as exc:
        print(f"loci: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
