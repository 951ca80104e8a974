"""``parity validate``: check a dataset against its contract."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from airflow_provider_parity.commands.args import int_at_least


def _validate(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.fileio import check_outputs
    from airflow_provider_parity.validation.references import parse_references
    from airflow_provider_parity.validation.report import write_reports
    from airflow_provider_parity.validation.validate import open_data, validate_data

    # Before the data is read: a report path that cannot be written, or would overwrite an input.
    references = parse_references(args.reference)
    check_outputs(args.json, args.html, inputs=(args.contract, *([args.data] if args.data else []), *references.values()))
    contract = load_contract(args.contract)
    # DuckDB scans the file or table where it lies; gx and arrow read it into memory first.
    data = _open_sql(args) if args.sql is not None else open_data(args.data, engine=args.engine, version=args.version)
    result = validate_data(contract, data, environment=args.environment, engine=args.engine, references=references)
    write_reports(result, json_path=args.json, html_path=args.html)
    print(result.summary(), file=sys.stdout if result.success else sys.stderr)
    return 0 if result.success else 1


def _open_sql(args: argparse.Namespace) -> Any:
    """``--sql`` through ``--conn-id`` (an Airflow connection, e.g. from ``AIRFLOW_CONN_*``): pushed down."""
    from airflow_provider_parity.exceptions import UsageError

    if not args.conn_id:
        raise UsageError("--sql needs --conn-id (the Airflow connection to run it through)")
    if args.version is not None:
        raise UsageError("--version is for Delta tables, not --sql")
    from airflow_provider_parity.operators.common import open_sql

    return open_sql(args.conn_id, args.sql, engine=args.engine)


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("validate", help="validate data against a contract (exit 1: violated, 2: bad input)")
    cmd.add_argument("--contract", required=True, help="contract YAML file")
    source = cmd.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="parquet file or folder, or Delta table root")
    source.add_argument("--sql", help="a table name or SELECT in --conn-id's database; the default engine runs "
                                      "the rules there (PostgreSQL), so only counts and samples come back")
    cmd.add_argument("--conn-id", help="the Airflow connection for --sql (e.g. defined by AIRFLOW_CONN_<ID>)")
    cmd.add_argument("--version", type=int_at_least(0), help="Delta version to validate (default: latest)")
    cmd.add_argument("--environment", choices=["training", "serving"],
                     help="expect only this side's columns (default: all)")
    cmd.add_argument("--engine", choices=["duckdb", "gx", "arrow", "spark"], default="duckdb",
                     help="duckdb: the rules compiled to SQL, scanned where the data lies (default); "
                          "gx: Great Expectations suite; arrow: the same rules in Arrow compute; "
                          "spark: the SQL on a local Spark session, Delta read by delta-spark "
                          "(all give the same verdict and counts)")
    cmd.add_argument("--reference", action="append", metavar="NAME=PATH",
                     help="the data of a dataset the contract's references (foreign key) rules point at")
    cmd.add_argument("--json", metavar="OUT", help="write the full result as JSON")
    cmd.add_argument("--html", metavar="OUT", help="write an HTML report")
    cmd.set_defaults(func=_validate)
