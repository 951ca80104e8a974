"""Compile a contract to a dbt ``schema.yml``: an enforced model contract plus data tests.

Range, regex, completeness and row-count tests are generic tests shipped with this
package (``dbt_macros/``), not dbt_utils: ``dbt deps`` downloads packages, which an
offline worker cannot do. ``parity contract dbt`` writes both.

``adapter="target"`` writes data types that dbt resolves from the profile's target at
parse time, so one committed schema serves a project run on duckdb and on Spark.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from airflow_provider_parity.contracts.model import Contract, Environment
from airflow_provider_parity.contracts.rules import Rule, compile_rules

Adapter = Literal["duckdb", "spark", "postgres", "target"]

DATA_TYPES: dict[str, dict[str, str]] = {
    "duckdb": {"string": "varchar", "integer": "bigint", "float": "double", "boolean": "boolean",
               "date": "date", "timestamp": "timestamptz"},
    "spark": {"string": "string", "integer": "bigint", "float": "double", "boolean": "boolean",
              "date": "date", "timestamp": "timestamp"},
    "postgres": {"string": "text", "integer": "bigint", "float": "double precision", "boolean": "boolean",
                 "date": "date", "timestamp": "timestamptz"},
}
# dbt adapters that share another adapter's type names.
_ALIASES = {"databricks": "spark"}


def _target_types() -> dict[str, str]:
    """Per contract type, a data type dbt picks by ``target.type`` (plain when every adapter agrees).

    The expression falls back to the duckdb name for an adapter not listed here.
    """
    out: dict[str, str] = {}
    for logical, default in DATA_TYPES["duckdb"].items():
        names = {adapter: types[logical] for adapter, types in DATA_TYPES.items() if adapter != "target"}
        names.update({alias: names[base] for alias, base in _ALIASES.items()})
        if len(set(names.values())) == 1:
            out[logical] = default
            continue
        choices = ", ".join(f'"{adapter}": "{name}"' for adapter, name in names.items())
        out[logical] = f'{{{{ {{{choices}}}.get(target.type, "{default}") }}}}'
    return out


DATA_TYPES["target"] = _target_types()


# dbt's accepted_values returns one row per unexpected value with its row count: summed, its failure
# count is rows, as every other engine counts (dbt's default counts distinct values).
_ROWS_OF_VALUES = {"fail_calc": "coalesce(sum(n_records), 0)"}


def _test(rule: Rule) -> Any:
    """A dbt data test for ``rule`` (arguments nested under ``arguments``, as dbt >= 1.10 wants).

    Every test's failure count is offending rows, the count the other engines report: duplicates
    are all rows whose key repeats (``parity_unique``, not dbt's ``unique``, which counts values).
    """
    p = rule.params
    if rule.kind == "not_null" and rule.mostly >= 1.0:
        return "not_null"
    if rule.kind in ("not_null", "completeness"):
        return {"parity_not_null_proportion": {"arguments": {"at_least": rule.mostly}}}
    if rule.kind == "unique":
        return "parity_unique"
    if rule.kind == "in_set":
        return {"accepted_values": {"arguments": {"values": p["values"]}, "config": dict(_ROWS_OF_VALUES)}}
    if rule.kind == "references":
        return {"relationships": {"arguments": {"to": f"ref('{p['dataset']}')", "field": p["column"]}}}
    if rule.kind == "between":
        args = {k: p[k] for k in ("min", "max") if k in p}
        return {"parity_between": {"arguments": {**args, "mostly": rule.mostly}}}
    if rule.kind == "regex":
        return {"parity_regex": {"arguments": {"regex": p["regex"], "mostly": rule.mostly}}}
    if rule.kind == "freshness":
        return {"parity_max_age": {"arguments": {"max_age_seconds": _seconds(p["max_age"])}}}
    raise ValueError(rule.kind)


def _seconds(max_age: str) -> int:
    from airflow_provider_parity.contracts.model import parse_duration

    return int(parse_duration(max_age).total_seconds())


def to_dbt_model(contract: Contract, *, model: str | None = None, adapter: Adapter = "duckdb",
                 environment: Environment | None = "training", constraints: bool = False,
                 types: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``models:`` entry for the dbt model that produces this dataset.

    Args:
        contract: the dataset's contract.
        model: the dbt model's name (default: the dataset's name).
        adapter: whose data type names to write; ``target`` lets dbt choose by the profile's target.
        environment: which side's columns the model holds (``training`` keeps labels).
        constraints: also declare ``not_null`` constraints (off by default). The data tests check
            the same columns; without the constraint a null reaches the test, which counts the
            offending rows. Every adapter that enforces the constraint (duckdb, postgres, Spark/Delta)
            stops the build at the first null with a database error instead, so the gate could
            not say how many rows broke it, and no other engine would agree with it.
        types: per column, the physical data type to declare instead of the adapter's default
            (from the target's catalog: ``dbt_merge.catalog_types``).

    Returns:
        The model's properties: an enforced model contract, columns with types and tests.
    """
    names = DATA_TYPES[adapter]
    by_column: dict[str, list[Any]] = {}
    table_tests: list[Any] = []
    for rule in compile_rules(contract, environment):
        if rule.kind == "compound_unique":
            table_tests.append({"parity_unique_combination": {"arguments": {"columns": rule.params["columns"]}}})
        elif rule.kind == "row_count":
            table_tests.append({"parity_row_count": {"arguments": dict(rule.params)}})
        else:
            by_column.setdefault(rule.column or "", []).append(_test(rule))
    columns = []
    for col in contract.columns_for(environment):
        entry: dict[str, Any] = {"name": col.name, "data_type": (types or {}).get(col.name, names[col.type])}
        if col.description:
            entry["description"] = col.description
        if constraints and not col.nullable:
            entry["constraints"] = [{"type": "not_null"}]
        if by_column.get(col.name):
            entry["data_tests"] = by_column[col.name]
        columns.append(entry)
    out: dict[str, Any] = {
        "name": model or contract.dataset.name,
        "description": contract.dataset.description or f"Data contract {contract.ref}",
        "config": {"contract": {"enforced": True},
                   "meta": {"parity_contract": contract.ref, "parity_contract_hash": contract.fingerprint}},
        "columns": columns,
    }
    if table_tests:
        out["data_tests"] = table_tests
    return out


def to_dbt_schema(contracts: list[Contract], **kwargs: Any) -> dict[str, Any]:
    """A whole ``schema.yml`` document for one or more contracts."""
    return {"version": 2, "models": [to_dbt_model(c, **kwargs) for c in contracts]}


def macro_files() -> dict[str, str]:
    """The generic tests the compiled schema uses: file name -> SQL."""
    folder = resources.files("airflow_provider_parity.contracts") / "dbt_macros"
    return {f.name: f.read_text(encoding="utf-8") for f in folder.iterdir() if f.name.endswith(".sql")}


def _generated_by(kwargs: dict[str, Any]) -> str:
    """The header line: which command (and non-default options) regenerates the file."""
    options = ""
    if kwargs.get("adapter", "duckdb") != "duckdb":
        options += f" --adapter {kwargs['adapter']}"
    if kwargs.get("constraints", False):
        options += " --constraints"
    return f"# Generated by `parity contract dbt{options}`: edit the contract, not this file.\n"


def schema_text(models: list[dict[str, Any]], options: dict[str, Any]) -> str:
    """The generated schema file: the header naming the command that regenerates it, then the models."""
    import yaml

    return _generated_by(options) + yaml.safe_dump({"version": 2, "models": models}, sort_keys=False)


def write_dbt(contracts: list[Contract], project_dir: str | Path, *, schema_path: str = "models/contracts.yml",
              **kwargs: Any) -> list[Path]:
    """Write the schema file and the generic test macros into a dbt project (all of them or none).

    Args:
        contracts: the contracts, one dbt model each.
        project_dir: the dbt project's folder.
        schema_path: where the schema file goes, relative to ``project_dir``.
        **kwargs: passed to ``to_dbt_model`` (``adapter``, ``environment``, ``constraints``, ``model``).

    Returns:
        The files written: the schema file first, then the macros.
    """
    from airflow_provider_parity.fileio import Output, commit_outputs

    root = Path(project_dir)
    files: dict[Path, Output] = {root / schema_path: schema_text([to_dbt_model(c, **kwargs) for c in contracts], kwargs)}
    files.update({root / "macros" / "parity" / name: sql for name, sql in macro_files().items()})
    return commit_outputs(files)
