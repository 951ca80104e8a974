"""Does data fit a contract's schema before it becomes a Delta version?

The writer uses the one schema check every gate uses
(:func:`airflow_provider_parity.validation.preflight.schema_results`), so the same data never
passes the contract gate and fails the write, or the reverse: names, logical types (an integer
is a valid float), the ``extra_columns`` policy, listing every problem. On top, the writer
refuses nulls in non-nullable columns (a committed version must hold them whole) and casts
integer columns the contract declares ``float`` to float64, so the table's type is the
contract's whatever the producer wrote.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_parity.exceptions import SchemaMismatchError
from airflow_provider_parity.validation.preflight import logical_type, schema_results

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract, Environment

logical_type_of = logical_type
"""The contract logical type an Arrow type carries (the one definition, in validation.preflight)."""


def check_schema(
    schema: pa.Schema, contract: Contract, *, environment: Environment | None = None, source: str | None = None
) -> None:
    """Raise when ``schema`` breaks the contract's columns, types or extra-column policy.

    Raises:
        SchemaMismatchError: one line naming every offending column, observed vs expected.
    """
    problems = schema_results(contract, schema, environment=environment)
    if problems:
        raise SchemaMismatchError(f"contract {contract.ref}: " + "; ".join(p.message() for p in problems),
                                  source=source, column=problems[0].column)


def conform(table: pa.Table, contract: Contract) -> pa.Table:
    """``table`` with integer columns the contract declares ``float`` cast to float64."""
    import pyarrow as pa

    for column in contract.columns:
        if column.type == "float" and column.name in table.column_names:
            index = table.schema.get_field_index(column.name)
            if logical_type(table.schema.field(index).type) == "integer":
                table = table.set_column(index, column.name, table.column(index).cast(pa.float64()))
    return table


def check_not_null(table: pa.Table, contract: Contract, *, source: str | None = None) -> None:
    """Raise when a column the contract declares non-nullable holds a null.

    Raises:
        SchemaMismatchError: naming every such column and its null count.
    """
    found = [f"{c.name!r} has {table.column(c.name).null_count} null value(s)" for c in contract.columns
             if not c.nullable and c.name in table.column_names and table.column(c.name).null_count]
    if found:
        raise SchemaMismatchError(f"contract {contract.ref}: not nullable but " + "; ".join(found), source=source,
                                  column=found[0].split("'")[1])
