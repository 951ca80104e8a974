"""``parity contract lint|diff|gx|dbt``: work on contract files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _lint(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.loader import ContractErrors, load_contract
    from airflow_provider_parity.exceptions import ContractError

    # Problems are the command's report (stdout, one per line, like any linter); every file is
    # checked, a missing one included, and one error line on stderr sums them up.
    problems = bad_files = 0
    for path in args.files:
        try:
            contract = load_contract(path)
        except ContractError as exc:
            errors = exc.errors if isinstance(exc, ContractErrors) else [exc]
            problems += len(errors)
            bad_files += 1
            for err in errors:
                print(err)
            continue
        print(f"{path}: ok ({contract.ref}, {len(contract.columns)} columns)")
    if bad_files:
        raise ContractError(f"{problems} problem(s) in {bad_files} of {len(args.files)} contract file(s)")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.diff import diff_contracts
    from airflow_provider_parity.contracts.loader import load_contract

    result = diff_contracts(load_contract(args.old), load_contract(args.new))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"{result.old} -> {result.new}: {len(result.changes)} change(s), {len(result.breaking)} breaking")
        for change in result.changes:
            print(f"  {change.line()}")
        if not result.version_ok:
            print("  the contract has breaking changes without the major version bump its schema_policy asks for")
    # Breaking changes are fine when versioned as the policy asks; otherwise the diff is a failed gate.
    return 0 if result.version_ok else 1


def _gx(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.gx import to_expectation_suite
    from airflow_provider_parity.contracts.loader import load_contract

    _check_out(args.out)
    suite = to_expectation_suite(load_contract(args.file), args.environment)
    _emit(suite.to_json_dict(), args.out)
    return 0


def _dbt(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.dbt import write_dbt
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.fileio import check_output

    check_output(Path(args.project_dir) / "models" / "contracts.yml")  # a project dir that is a file, ...
    contracts = [load_contract(f) for f in args.files]
    for path in write_dbt(contracts, args.project_dir, adapter=args.adapter, constraints=not args.no_constraints):
        print(path)
    return 0


def _odcs_export(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.contracts.odcs import to_odcs

    _check_out(args.out)
    _emit_yaml(to_odcs(load_contract(args.file), data=args.data), args.out)
    return 0


def _odcs_import(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.loader import parse_yaml
    from airflow_provider_parity.contracts.odcs import from_odcs
    from airflow_provider_parity.exceptions import ContractError

    _check_out(args.out)
    try:
        text = open(args.file, encoding="utf-8").read()
    except OSError as exc:
        raise ContractError(f"cannot read ODCS document: {exc.strerror}", file=args.file) from None
    document, _ = parse_yaml(text, args.file)
    try:
        contract = from_odcs(document)
    except ContractError as exc:
        if exc.file and exc.file != "<odcs>":
            raise
        raise ContractError(exc.reason, file=args.file, field=exc.field) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a valid ODCS value parity cannot map
        raise ContractError(f"cannot turn this ODCS document into a contract: {exc}", file=args.file) from None
    _emit_yaml(contract.canonical_dict(), args.out)
    return 0


def _check_out(out: str | None) -> None:
    from airflow_provider_parity.fileio import check_outputs

    check_outputs(out)


def _emit_yaml(payload: Any, out: str | None) -> None:
    import yaml

    from airflow_provider_parity.fileio import atomic_write_text

    text = yaml.safe_dump(payload, sort_keys=False, allow_unicode=True)
    if out:
        atomic_write_text(out, text)
    else:
        print(text, end="")


def _emit(payload: Any, out: str | None) -> None:
    from airflow_provider_parity.fileio import atomic_write_json

    if out:
        atomic_write_json(out, payload)
    else:
        print(json.dumps(payload, indent=2, default=str))


def register(subparsers: Any) -> None:
    contract = subparsers.add_parser("contract", help="lint, diff and compile data contracts")
    sub = contract.add_subparsers(dest="contract_command", required=True, metavar="ACTION")
    lint = sub.add_parser("lint", help="check contract files; every problem with file, line and field")
    lint.add_argument("files", nargs="+", metavar="FILE")
    lint.set_defaults(func=_lint)
    diff = sub.add_parser("diff", help="classify changes between two contract versions (exit 1: unversioned break)")
    diff.add_argument("old")
    diff.add_argument("new")
    diff.add_argument("--json", action="store_true", help="print the diff as JSON")
    diff.set_defaults(func=_diff)
    gx = sub.add_parser("gx", help="compile to a Great Expectations ExpectationSuite (JSON)")
    gx.add_argument("file")
    gx.add_argument("--environment", choices=["training", "serving"])
    gx.add_argument("--out", help="write the suite here instead of stdout")
    gx.set_defaults(func=_gx)
    dbt = sub.add_parser("dbt", help="write dbt schema.yml (enforced contract + tests) and test macros")
    dbt.add_argument("files", nargs="+", metavar="FILE")
    dbt.add_argument("--project-dir", required=True)
    dbt.add_argument("--adapter", choices=["duckdb", "spark", "postgres", "target"], default="duckdb",
                     help="column types for this adapter; 'target': resolved by dbt from the profile's target")
    dbt.add_argument("--no-constraints", action="store_true",
                     help="no not_null constraints in the model contract: the data tests count null rows instead")
    dbt.set_defaults(func=_dbt)
    export = sub.add_parser("odcs-export", help="write the contract as an Open Data Contract Standard v3 document")
    export.add_argument("file")
    export.add_argument("--out", help="write here instead of stdout")
    export.add_argument("--data", help="parquet file or folder, or Delta table root: added as a local server "
                                       "(datacontract-cli tests it)")
    export.set_defaults(func=_odcs_export)
    imp = sub.add_parser("odcs-import", help="turn an ODCS v3 document into a parity contract")
    imp.add_argument("file")
    imp.add_argument("--out", help="write here instead of stdout")
    imp.set_defaults(func=_odcs_import)
