"""The ``parity`` command line.

Exit codes: 0 passed, 1 a gate failed (contract violated, drift, ...), 2 bad input,
3 an internal error (a bug in parity: please report it). Every error is one line on
stderr starting ``parity: error:``; a traceback is printed only with ``PARITY_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from airflow_provider_parity import __version__
from airflow_provider_parity.exceptions import ParityError, UsageError, shorten

INTERNAL_ERROR = 3
"""Exit code of an exception no input should cause: a bug, never a verdict on the input."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors raised as one-line ``UsageError`` instead of usage text and exit."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("parity").strip()
        raise UsageError(f"{command + ': ' if command else ''}{message} (see '{self.prog} --help')")

# Each module exposes register(subparsers); heavy imports happen inside its handlers.
COMMAND_MODULES = (
    "airflow_provider_parity.commands.contract",
    "airflow_provider_parity.commands.validate",
    "airflow_provider_parity.commands.snapshot",
    "airflow_provider_parity.commands.drift",
    "airflow_provider_parity.commands.skew",
    "airflow_provider_parity.commands.serve",
    "airflow_provider_parity.commands.reproduce",
    "airflow_provider_parity.commands.step",
    "airflow_provider_parity.commands.outcomes",
    "airflow_provider_parity.commands.explain",
    "airflow_provider_parity.commands.rollback",
    "airflow_provider_parity.commands.labels",
    "airflow_provider_parity.commands.slo",
    "airflow_provider_parity.commands.dbt",
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="parity", description="Keep training and serving data from diverging.")
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
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except SystemExit as exc:  # --help and --version
        return 0 if exc.code in (0, None) else 2
    except ParityError as exc:
        print(f"parity: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("parity: error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("PARITY_DEBUG"):
            raise
        first = shorten(" ".join(str(exc).split()), 300)
        print(f"parity: error: internal error, please report: {exc.__class__.__name__}: {first} "
              "(set PARITY_DEBUG=1 for a traceback)", file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
