"""``parity contract lint|diff|gx|dbt|feast|import dbt``: work on contract files."""

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
    from airflow_provider_parity.contracts.dbt_merge import GENERATED, merge_dbt
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.fileio import check_output

    check_output(Path(args.project_dir) / GENERATED)  # a project dir that is a file, ...
    contracts = [load_contract(f) for f in args.files]
    report = merge_dbt(contracts, args.project_dir, catalog=args.catalog, adapter=args.adapter,
                       constraints=args.constraints)
    for path in report.written:
        print(path)
    for model, where in report.merged.items():
        print(f"{model}: merged into {where}")
    for note in report.notes:
        print(f"note: {note}")
    return 0


def _import_dbt(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.dbt_import import contract_from_dbt

    _check_out(args.out)
    _emit_yaml(contract_from_dbt(args.manifest, args.model, catalog=args.catalog, owner=args.owner), args.out)
    return 0


def _feast(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.feast import write_feast_repo
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.exceptions import UsageError

    if (args.export_from is None) != (args.version is None):
        raise UsageError("--export-from and --version go together: the table and the pinned version to export")
    contract = load_contract(args.file)
    export = None if args.export_from is None else (args.export_from, args.version)
    for path in write_feast_repo(contract, args.repo, online_store=args.online_store, redis_env=args.redis_env,
                                 source=args.source, export=export):
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
    from airflow_provider_parity.commands.args import int_at_least

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
    dbt.add_argument("--catalog", help="the target's catalog.json (dbt docs generate): the warehouse's column types")
    dbt.add_argument("--constraints", action="store_true",
                     help="also declare not_null constraints (the database then aborts the build at a null "
                          "instead of the data tests counting null rows)")
    dbt.add_argument("--no-constraints", dest="constraints", action="store_false", help="the default")
    dbt.set_defaults(func=_dbt)
    feast = sub.add_parser("feast", help="write a Feast feature repository (entity, feature view, TTL, source)")
    feast.add_argument("file", metavar="CONTRACT")
    feast.add_argument("--repo", required=True, help="the feature repository's folder")
    feast.add_argument("--online-store", choices=["sqlite", "redis"], default="sqlite")
    feast.add_argument("--redis-env", default="PARITY_FEAST_REDIS",
                       help="the environment variable holding Feast's Redis connection string (never the string)")
    feast.add_argument("--source", help="the Parquet export Feast reads (default: data/<dataset>.parquet in the repo)")
    feast.add_argument("--export-from", metavar="TABLE",
                       help="also write this Delta table's pinned --version as the (local) source")
    feast.add_argument("--version", type=int_at_least(0), help="the Delta version to export")
    feast.set_defaults(func=_feast)
    imports = sub.add_parser("import", help="start a contract from an existing model (dbt manifest and catalog)")
    kinds = imports.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    from_dbt = kinds.add_parser("dbt", help="a dbt model's columns, types and tests as a contract (YAML)")
    from_dbt.add_argument("model", metavar="MODEL")
    from_dbt.add_argument("--manifest", required=True, help="target/manifest.json")
    from_dbt.add_argument("--catalog", help="target/catalog.json (column types; without it, the declared data_type)")
    from_dbt.add_argument("--owner", default="unknown", help="the dataset's owner in the contract")
    from_dbt.add_argument("--out", help="write here instead of stdout")
    from_dbt.set_defaults(func=_import_dbt)
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
