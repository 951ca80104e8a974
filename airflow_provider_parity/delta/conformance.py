"""Does an Arrow schema (and its nulls) match a contract's schema?

Used by the writer to refuse data that breaks the contract before a version is
committed. Checks names, logical types, the contract's ``schema_policy.extra_columns``
and, for non-nullable columns, that no value is null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_parity.exceptions import SchemaMismatchError

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract, Environment


def logical_type_of(arrow_type: pa.DataType) -> str | None:
    """The contract logical type an Arrow type carries, or None for types contracts do not model."""
    import pyarrow.types as pt

    if pt.is_dictionary(arrow_type):
        return logical_type_of(arrow_type.value_type)
    checks = (
        ("boolean", pt.is_boolean),
        ("integer", pt.is_integer),
        ("float", pt.is_floating),
        ("string", lambda t: pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t)),
        ("date", pt.is_date),
        ("timestamp", pt.is_timestamp),
    )
    for name, check in checks:
        if check(arrow_type):
            return name
    return None


def check_schema(
    schema: pa.Schema, contract: Contract, *, environment: Environment | None = None, source: str | None = None
) -> None:
    """Raise when ``schema`` breaks the contract's columns, types or extra-column policy.

    Args:
        schema: the data's Arrow schema.
        contract: the data contract.
        environment: ``training``/``serving`` to expect only that side's columns.
        source: named in the error (a table URI).

    Raises:
        SchemaMismatchError: one line naming the first offending column, observed vs expected.
    """
    expected = contract.columns_for(environment)
    present = {field.name: field for field in schema}
    for column in expected:
        field = present.get(column.name)
        if field is None:
            raise SchemaMismatchError(
                f"contract {contract.ref}: column {column.name!r} is missing (expected {column.type})",
                source=source, column=column.name,
            )
        observed = logical_type_of(field.type)
        if observed != column.type:
            raise SchemaMismatchError(
                f"contract {contract.ref}: column {column.name!r} has type {field.type} "
                f"({observed or 'unsupported'}), expected {column.type}",
                source=source, column=column.name,
            )
    if contract.schema_policy.extra_columns == "forbid":
        declared = {c.name for c in contract.columns}
        extra = [name for name in schema.names if name not in declared]
        if extra:
            raise SchemaMismatchError(
                f"contract {contract.ref}: column {extra[0]!r} is not in the contract and extra_columns is 'forbid'",
                source=source, column=extra[0],
            )


def check_not_null(table: pa.Table, contract: Contract, *, source: str | None = None) -> None:
    """Raise when a column the contract declares non-nullable holds a null.

    Raises:
        SchemaMismatchError: naming the column and its null count.
    """
    for column in contract.columns:
        if column.nullable or column.name not in table.column_names:
            continue
        nulls = table.column(column.name).null_count
        if nulls:
            raise SchemaMismatchError(
                f"contract {contract.ref}: column {column.name!r} is not nullable but has {nulls} null value(s)",
                source=source, column=column.name,
            )
