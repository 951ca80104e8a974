"""Checks that run before any rule: is this data checkable against the contract at all?

A missing column, a wrong type, an empty dataset, an all-null column, NaN or inf are
bad input (exit code 2), not rule failures: the fix is in the pipeline that produced
the data, and a rule result over such data would be meaningless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.model import Contract, Environment
from airflow_provider_parity.exceptions import DataError, SchemaMismatchError
from airflow_provider_parity.validation.result import RuleResult

if TYPE_CHECKING:
    import pyarrow as pa


def logical_type(arrow_type: pa.DataType) -> str | None:
    """The contract type an Arrow type holds, or None when no contract type fits."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return logical_type(arrow_type.value_type)
    checks = (
        ("boolean", t.is_boolean), ("integer", t.is_integer), ("float", lambda x: t.is_floating(x) or t.is_decimal(x)),
        ("string", lambda x: t.is_string(x) or t.is_large_string(x) or x == pa.string_view()),
        ("date", t.is_date), ("timestamp", t.is_timestamp), ("null", t.is_null),
    )
    return next((name for name, check in checks if check(arrow_type)), None)


# A contract type accepts the logical types listed: an integer is a valid float.
_ACCEPTS = {"float": {"float", "integer"}}


def schema_results(contract: Contract, schema: pa.Schema, *,
                   environment: Environment | None = None) -> list[RuleResult]:
    """One failed ``schema`` result per column that is missing, mistyped or (when forbidden) extra."""
    present = {f.name: f.type for f in schema}
    problems: list[RuleResult] = []

    def problem(rule: str, column: str, observed: str, expected: str) -> None:
        problems.append(RuleResult(rule=rule, kind="schema", column=column, success=False,
                                   observed=observed, expected=expected))

    for col in contract.columns_for(environment):
        if col.name not in present:
            problem(f"exists({col.name})", col.name, "column missing from the data", "column present")
            continue
        found = logical_type(present[col.name])
        # An all-null column has Arrow type null: check_values reports it with its row count.
        if found != "null" and found not in _ACCEPTS.get(col.type, {col.type}):
            problem(f"type({col.name})", col.name, f"type {present[col.name]} ({found or 'unsupported'})",
                    f"type {col.type}")
    if contract.schema_policy.extra_columns == "forbid":
        declared = {c.name for c in contract.columns_for(environment)}
        for name in present:
            if name not in declared:
                problem(f"undeclared({name})", name, "column in the data",
                        "no undeclared columns (schema_policy.extra_columns: forbid)")
    return problems


def check_schema(contract: Contract, schema: pa.Schema, *, environment: Environment | None = None,
                 source: str | None = None) -> None:
    """Raise ``SchemaMismatchError`` naming every column that is missing, extra or mistyped."""
    problems = schema_results(contract, schema, environment=environment)
    if problems:
        raise SchemaMismatchError("; ".join(p.message() for p in problems), source=source,
                                  column=problems[0].column)


def column_metrics(table: pa.Table, columns: list[str]) -> dict[str, dict[str, Any]]:
    """Null count, min and max per column: the dataQualityMetrics lineage facet and the report."""
    import pyarrow.compute as pc

    metrics: dict[str, dict[str, Any]] = {}
    for name in columns:
        arr = table.column(name)
        entry: dict[str, Any] = {"nullCount": arr.null_count, "count": len(arr) - arr.null_count}
        kind = logical_type(arr.type)
        if kind in ("integer", "float") and entry["count"]:
            mm = pc.min_max(arr)
            entry["min"], entry["max"] = float(mm["min"].as_py()), float(mm["max"].as_py())
        metrics[name] = entry
    return metrics


def check_values(contract: Contract, table: pa.Table, *, environment: Environment | None = None,
                 source: str | None = None) -> dict[str, dict[str, Any]]:
    """Reject empty data, all-null columns, NaN and inf; return per-column metrics.

    Raises:
        DataError: one line naming the column and what was found.
    """
    import pyarrow.compute as pc

    if table.num_rows == 0:
        raise DataError("the dataset is empty (0 rows): nothing to validate", source=source)
    names = [c.name for c in contract.columns_for(environment)]
    for name in names:
        arr = table.column(name)
        if arr.null_count == len(arr):
            raise DataError(f"column '{name}' is entirely null ({len(arr)} rows)", source=source, column=name)
        if logical_type(arr.type) == "float" and not str(arr.type).startswith("decimal"):
            nans = pc.sum(pc.is_nan(arr)).as_py() or 0
            infs = pc.sum(pc.is_inf(arr)).as_py() or 0
            if nans or infs:
                raise DataError(f"column '{name}' holds {nans} NaN and {infs} infinite value(s): "
                                "write missing values as null and fix the division or overflow upstream",
                                source=source, column=name)
    return column_metrics(table, names)
