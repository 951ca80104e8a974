"""``parity skew``: compare what serving logged with the offline features of the same entities, as of then.

Exit codes: 0 within tolerance, 1 skew (a feature beyond its tolerance, or too many requests
without an offline row), 2 bad input. The JSON and HTML reports are written together or not at all.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def _run(args: argparse.Namespace) -> int:
    from airflow_provider_parity.outcomes.convert import from_skew
    from airflow_provider_parity.skew.gate import run_skew
    from airflow_provider_parity.skew.report import write_reports

    contract = None
    if args.contract:
        from airflow_provider_parity.contracts.loader import load_contract

        contract = load_contract(args.contract)
    result = run_skew(args.log, args.offline, contract=contract, offline_version=args.version,
                      log_version=args.log_version, keys=args.key or None, as_of_column=args.as_of_column,
                      served_at=args.served_at_column, max_examples=args.examples)
    write_reports(result, json_path=args.json, html_path=args.html)
    outcome = from_skew(result)
    print(f"{outcome.status}: {result.message}", file=sys.stderr if outcome.blocking else sys.stdout)
    for feat in result.skewed_features:
        for example in feat.examples:
            print(f"  {feat.name}: {example.describe()}", file=sys.stderr)
    return outcome.exit_code


def register(subparsers: Any) -> None:
    """Add ``parity skew`` to the CLI."""
    parser = subparsers.add_parser(
        "skew",
        help="per-entity training/serving skew: served values against offline values as of serving time",
        description="Join each logged request with the offline row of its entity as of served_at and compare "
                    "feature by feature. Exit 0: within tolerance; 1: skew; 2: bad input.",
    )
    parser.add_argument("--log", required=True, help="the serving log: Delta table or parquet")
    parser.add_argument("--offline", required=True, help="the offline feature table: Delta table or parquet")
    parser.add_argument("--contract", help="the data contract (features, keys, event time, tolerances, policy)")
    parser.add_argument("--version", type=int, help="Delta version of the offline table (default: latest)")
    parser.add_argument("--log-version", type=int, help="Delta version of the serving log (default: latest)")
    parser.add_argument("--key", action="append", metavar="COLUMN",
                        help="an entity key column (repeat for several; default: the contract's primary key "
                             "without its date/timestamp columns)")
    parser.add_argument("--as-of-column", help="the offline event-time column (default: the contract's "
                                               "role: event_time column, else feature_date)")
    parser.add_argument("--served-at-column", default="served_at", help="the log's request time (default: served_at)")
    parser.add_argument("--examples", type=int, default=10, help="examples kept per feature (default: 10)")
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON")
    parser.add_argument("--html", metavar="OUT", help="write an HTML report listing the mismatched entities")
    parser.set_defaults(func=_run)
