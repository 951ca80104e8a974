"""``parity slo``: the contracts' SLOs measured from the results ledger, and the Prometheus rules.

* ``parity slo report [--contract C ...] [--ledger URI] [--window 28d] [--at T] [--json]``:
  attainment, error budget left and burn rates per SLO; exit 1 when a budget is exhausted. Without
  ``--contract``, the contracts with SLOs in ``AIRFLOW__PARITY__CONTRACTS_DIR``.
* ``parity slo rules CONTRACT... --out rules.yaml``: recording and alerting rules for Prometheus.
* ``parity slo metrics [--ledger URI]``: the ledger in the Prometheus text format (what
  ``/parity/metrics`` serves), for ``promtool check metrics`` or a node-exporter textfile.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import ConfigurationError

if TYPE_CHECKING:
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.outcomes.model import GateOutcome


def _ledger(args: argparse.Namespace) -> str:
    from airflow_provider_parity.commands.outcomes import default_ledger

    ledger = args.ledger or default_ledger()
    if not ledger:
        raise ConfigurationError("no ledger: pass --ledger URI or set AIRFLOW__PARITY__LEDGER_URI")
    return str(ledger)


def _at(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--at {text!r}: expected an ISO date or timestamp") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _contracts(paths: list[str]) -> list[Contract]:
    """The contracts named, else those with SLOs in ``AIRFLOW__PARITY__CONTRACTS_DIR`` (the bundle's)."""
    from airflow_provider_parity.contracts.loader import load_contract

    if not paths:
        folder = os.environ.get("AIRFLOW__PARITY__CONTRACTS_DIR")
        found = [load_contract(p) for p in sorted(Path(folder).glob("*.yaml"))] if folder else []
        with_slos = [c for c in found if c.slos is not None and c.slos.objectives()]
        if not with_slos:
            raise ConfigurationError("no contract: pass --contract FILE (once per dataset) or set "
                                     "AIRFLOW__PARITY__CONTRACTS_DIR to a folder of contracts with slos")
        return with_slos
    contracts = [load_contract(p) for p in paths]
    without = [p for p, c in zip(paths, contracts, strict=True) if c.slos is None or not c.slos.objectives()]
    if without:
        raise ConfigurationError(f"{without[0]}: the contract declares no SLOs (add an slos section)")
    return contracts


def _window(text: str | None) -> str | None:
    from airflow_provider_parity.contracts.model import parse_duration

    if text is None:
        return None
    try:
        if parse_duration(text).total_seconds() <= 0:
            raise ValueError(f"must be longer than zero, got {text[:40]!r}")
    except (ValueError, OverflowError) as exc:
        raise ConfigurationError(f"--window: {exc}") from None
    return text


def ledger_outcomes(ledger: str, since: datetime) -> list[GateOutcome]:
    """The ledger's outcomes finished since ``since``, oldest first."""
    from airflow_provider_parity.outcomes.ledger import read_table
    from airflow_provider_parity.outcomes.model import GateOutcome

    table = read_table(ledger, since=since)
    return [] if table is None else [GateOutcome.from_dict(json.loads(t)) for t in table.column("outcome").to_pylist()]


def _report(args: argparse.Namespace) -> int:
    from airflow_provider_parity.slo.attainment import lookback, measure
    from airflow_provider_parity.slo.report import exhausted_message, report_lines

    contracts = _contracts(args.contract)
    window = _window(args.window)
    now = _at(args.at)
    outcomes = ledger_outcomes(_ledger(args), now - lookback(contracts, window))
    statuses = [s for c in contracts for s in measure(c, outcomes, now=now, window=window)]
    if args.json:
        print(json.dumps([s.to_dict() for s in statuses], indent=2))
    else:
        print("\n".join(report_lines(contracts, statuses, now)))
    exhausted = [s for s in statuses if s.exhausted]
    for status in exhausted:
        print(f"parity: {exhausted_message(status)}", file=sys.stderr)
    return 1 if exhausted else 0


def _rules(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.fileio import atomic_write_text
    from airflow_provider_parity.slo.rules import render_rules

    text = render_rules([load_contract(p) for p in args.contracts])
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    from airflow_provider_parity.slo.metrics import render_ledger

    print(render_ledger(_ledger(args)), end="")
    return 0


def register(subparsers: Any) -> None:
    slo = subparsers.add_parser("slo", help="data SLOs: attainment from the ledger, Prometheus rules and metrics")
    sub = slo.add_subparsers(dest="slo_command", required=True, metavar="SUBCOMMAND")
    report = sub.add_parser("report", help="attainment, error budget left and burn rates per SLO (exit 1: a budget "
                                           "is exhausted)")
    report.add_argument("--contract", action="append", default=[], metavar="C",
                        help="a contract with slos (repeat; default: those in AIRFLOW__PARITY__CONTRACTS_DIR)")
    report.add_argument("--ledger", metavar="URI", help="the ledger's Delta table (default: AIRFLOW__PARITY__LEDGER_URI)")
    report.add_argument("--window", metavar="W", help="measure attainment over W (e.g. 7d) instead of each SLO's window")
    report.add_argument("--at", metavar="T", help="the end of every window (ISO timestamp; default: now)")
    report.add_argument("--json", action="store_true", help="print the statuses as JSON")
    report.set_defaults(func=_report)
    rules = sub.add_parser("rules", help="Prometheus recording and alerting rules (burn rates, blocked gates, stale "
                                         "tables) for the contracts")
    rules.add_argument("contracts", nargs="+", metavar="CONTRACT", help="contract files")
    rules.add_argument("--out", metavar="FILE", help="write the rule file here (default: stdout)")
    rules.set_defaults(func=_rules)
    metrics = sub.add_parser("metrics", help="the ledger as Prometheus metrics (what /parity/metrics serves)")
    metrics.add_argument("--ledger", metavar="URI", help="the ledger's Delta table (default: AIRFLOW__PARITY__LEDGER_URI)")
    metrics.set_defaults(func=_metrics)

