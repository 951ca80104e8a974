"""``parity outcomes``: every gate outcome in the results ledger, filtered, as a table or JSON.

The ledger's location: ``--ledger``, else ``AIRFLOW__PARITY__LEDGER_URI`` (what the workers write
to), else ``{AIRFLOW__PARITY__LAKE_URI}/parity/ledger``. Object-store credentials come from the
environment (``AWS_*``, ``AZURE_STORAGE_*``), as for every other command.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from typing import Any

from airflow_provider_parity.exceptions import ConfigurationError


def default_ledger() -> str | None:
    explicit = os.environ.get("AIRFLOW__PARITY__LEDGER_URI")
    if explicit:
        return explicit
    lake = os.environ.get("AIRFLOW__PARITY__LAKE_URI")
    return f"{lake.rstrip('/')}/parity/ledger" if lake else None


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    from airflow_provider_parity.contracts.model import parse_duration

    try:  # "7d" means the last seven days; anything else must be an ISO date or timestamp
        return datetime.now(UTC) - parse_duration(text)
    except (ValueError, OverflowError):
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(f"--since {text!r}: expected an ISO date or timestamp, or a duration such as 7d") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outcomes(args: argparse.Namespace) -> int:
    from airflow_provider_parity.delta.storage import redact_uri
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    ledger = args.ledger or default_ledger()
    if not ledger:
        raise ConfigurationError("no ledger: pass --ledger URI or set AIRFLOW__PARITY__LEDGER_URI")
    found = read_outcomes(ledger, dataset=args.dataset, gate=args.gate, since=_since(args.since))
    if args.json:
        print(json.dumps([o.to_dict() for o in found], indent=2, sort_keys=True))
        return 0
    for outcome in found:
        run = outcome.run
        where = f"{run.dag_id}/{run.task_id}" if run else outcome.label
        print(f"{(outcome.finished_at or '')[:19]:<19}  {where:<36}  {outcome.status:<17}  {outcome.reason}")
    if not found:
        # Say which ledger was read: a mistyped --ledger is an absent ledger, and an absent ledger
        # (a fresh deployment before its first gate) holds no outcomes rather than being an error.
        print(f"no outcomes in the ledger at {redact_uri(ledger)}")
    return 0


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("outcomes", help="gate outcomes from the results ledger (every gate's verdict, durable)")
    cmd.add_argument("--ledger", metavar="URI", help="the ledger's Delta table (default: AIRFLOW__PARITY__LEDGER_URI)")
    cmd.add_argument("--dataset", metavar="D", help="only outcomes about datasets whose URI contains D")
    cmd.add_argument("--gate", metavar="G", help="only this kind of gate (contract, drift, ...) or task id")
    cmd.add_argument("--since", metavar="T", help="only outcomes finished since T (ISO date or timestamp, or e.g. 7d)")
    cmd.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    cmd.set_defaults(func=_outcomes)
