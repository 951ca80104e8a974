"""The ``parity`` command line.

Exit codes: 0 passed, 1 a gate failed (contract violated, drift, ...), 2 bad input.
Every error is one line on stderr; a traceback is printed only with ``PARITY_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from airflow_provider_parity import __version__
from airflow_provider_parity.exceptions import ParityError

# Each module exposes register(subparsers); heavy imports happen inside its handlers.
COMMAND_MODULES = (
    "airflow_provider_parity.commands.contract",
    "airflow_provider_parity.commands.validate",
    "airflow_provider_parity.commands.snapshot",
    "airflow_provider_parity.commands.drift",
    "airflow_provider_parity.commands.reproduce",
    "airflow_provider_parity.commands.step",
    "airflow_provider_parity.commands.outcomes",
    "airflow_provider_parity.commands.slo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parity", description="Keep training and serving data from diverging.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command area not shipped in this build
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors are bad input
        return 2 if exc.code not in (0, None) else 0
    try:
        return int(args.func(args))
    except ParityError as exc:
        print(f"parity: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("parity: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("PARITY_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        print(f"parity: error: unexpected {exc.__class__.__name__}: {first} (set PARITY_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
