"""The parent data a ``references`` (foreign key) rule is checked against.

A foreign key spans two datasets: the gate checks the child it validates against the parent's
key column, given by dataset name (``references={"customers": table}``, or ``parity validate
--reference customers=PATH``). Every engine counts the same thing as dbt's ``relationships``
test: child rows whose non-null value is absent from the parent's column (a null never offends).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.rules import Rule
from airflow_provider_parity.exceptions import ConfigurationError, DataError

if TYPE_CHECKING:
    import pyarrow as pa

References = Mapping[str, Any]
"""Parent dataset name -> its data (a pyarrow Table, or what ``load_data`` accepts)."""


def parent_column(references: References | None, rule: Rule) -> pa.ChunkedArray:
    """The parent's key column a ``references`` rule points at.

    Raises:
        DataError: the parent was not given, or has no such column.
    """
    from airflow_provider_parity.validation.sources import load_data

    dataset, column = rule.params["dataset"], rule.params["column"]
    if not references or dataset not in references:
        raise DataError(f"rule {rule.id} needs the data of {dataset!r}: pass it as a reference "
                        f"(parity validate --reference {dataset}=PATH, or references={{{dataset!r}: URI}} on the contract gate)")
    table = load_data(references[dataset]).table
    if column not in table.column_names:
        raise DataError(f"rule {rule.id}: the reference {dataset!r} has no column {column!r}")
    return table.column(column)


def parent_keys(references: References | None, rule: Rule, value_type: pa.DataType | None = None) -> pa.Array:
    """The parent's distinct non-null keys (cast to the child's type when given)."""
    import pyarrow.compute as pc

    keys = pc.unique(parent_column(references, rule).combine_chunks()).drop_null()
    return keys.cast(value_type) if value_type is not None and keys.type != value_type else keys


def parse_references(specs: Sequence[str] | None) -> dict[str, str]:
    """``["customers=path/to/customers.parquet"]`` as ``{"customers": "path/..."}``.

    Raises:
        ConfigurationError: a spec without ``NAME=`` or a name given twice.
    """
    out: dict[str, str] = {}
    for spec in specs or []:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ConfigurationError(f"--reference {spec!r}: expected NAME=PATH, e.g. customers=customers.parquet")
        if name in out:
            raise ConfigurationError(f"--reference {name!r} is given twice")
        out[name] = path
    return out
