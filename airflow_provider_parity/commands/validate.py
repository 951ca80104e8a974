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
    check_outputs(args.json, args.html, inputs=(args.contract, args.data, *references.values()))
    contract = load_contract(args.contract)
    # DuckDB scans the file or table where it lies; gx and arrow read it into memory first.
    data = open_data(args.data, engine=args.engine, version=args.version)
    result = validate_data(contract, data, environment=args.environment, engine=args.engine, references=references)
    write_reports(result, json_path=args.json, html_path=args.html)
    print(result.summary(), file=sys.stdout if result.success else sys.stderr)
    return 0 if result.success else 1


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser("validate", help="validate data against a contract (exit 1: violated, 2: bad input)")
    cmd.add_argument("--contract", required=True, help="contract YAML file")
    cmd.add_argument("--data", required=True, help="parquet file or folder, or Delta table root")
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
