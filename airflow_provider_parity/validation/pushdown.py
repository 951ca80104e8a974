"""The compiled contract run in the connection's own database: only counts and samples come back.

A ``sql=``/``conn_id=`` source used to be fetched whole into the worker and checked there.
Here the same queries the DuckDB engine runs (``sql_engine.py``: one aggregate scan, a
``GROUP BY`` only when keys repeat, ``LIMIT 5`` samples per failed value rule) are transpiled
to the database's dialect (``dialects.py``) and run through a DB-API hook (Airflow's common-sql
``DbApiHook``: ``get_first``/``get_records``), so the worker receives one row of counts and a
few sample values whatever the table's size. The schema comes from the cursor description of
a ``LIMIT 0`` query: no row is read for it.

No Airflow import here: the caller passes the hook (``operators/common.py`` gets it from the
connection), so the domain stays usable without Airflow and testable with any DB-API hook.
"""

from __future__ import annotations

import re
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.validation.dialects import RELATION, to_dialect
from airflow_provider_parity.validation.sql_engine import SqlSource

if TYPE_CHECKING:
    import pyarrow as pa

_QUERY = re.compile(r"^\s*(select|with|values|table|\()", re.IGNORECASE)

# PostgreSQL type OIDs (pg_type.oid, stable across versions) to the Arrow type the contract's
# pre-flight judges; a type not listed reads as binary, which no contract type accepts.
_POSTGRES_TYPES = {16: "bool", 20: "int64", 21: "int16", 23: "int32", 700: "float32", 701: "float64",
                   25: "string", 1043: "string", 1042: "string", 19: "string", 1082: "date32",
                   1114: "timestamp", 1184: "timestamptz", 1700: "decimal"}


def relation_sql(source: str) -> str:
    """SQL usable after ``FROM`` for a table name or a query (wrapped as a subquery)."""
    text = source.strip().rstrip(";").rstrip()
    return f"({text}) AS parity_source" if _QUERY.match(text) else text


def _arrow_type(type_code: Any, precision: Any, scale: Any) -> pa.DataType:
    import pyarrow as pa

    name = _POSTGRES_TYPES.get(type_code) if isinstance(type_code, int) else None
    if name == "decimal":  # unconstrained numeric has no precision: any decimal is a contract float
        return pa.decimal128(int(precision or 38), int(scale or 0)) if precision and precision <= 38 \
            else pa.decimal128(38, 9)
    if name == "timestamp":
        return pa.timestamp("us")
    if name == "timestamptz":
        return pa.timestamp("us", tz="UTC")
    return pa.type_for_alias(name) if name else pa.binary()


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__


@dataclass
class PushdownSource(SqlSource):
    """A relation in a database reached through a DB-API hook; queries run there, transpiled."""

    hook: Any = None
    dialect: str = "postgres"
    from_sql: str = ""
    """The relation as the database reads it, spliced in after transpiling."""

    @property
    def engine(self) -> str:
        return self.dialect

    def _sql(self, query: str) -> str:
        return to_dialect(query, self.dialect, self.from_sql)

    def first(self, query: str) -> tuple[Any, ...] | None:
        row = self._run(self.hook.get_first, query)
        return None if row is None else tuple(row)

    def records(self, query: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._run(self.hook.get_records, query) or []]

    def _run(self, fetch: Any, query: str) -> Any:
        try:
            return fetch(self._sql(query))
        except Exception as exc:  # each DB-API driver has its own error classes
            raise DataError(f"the database refused the compiled query: {_first_line(exc)}", source=self.source) from None


def open_pushdown(hook: Any, sql: str, *, dialect: str, source: str) -> PushdownSource:
    """A table name or SELECT in the hook's database, opened for the compiled rules (no row read).

    Args:
        hook: a DB-API hook (``get_conn``, ``get_first``, ``get_records``), e.g. a ``PostgresHook``.
        sql: a table name (``schema.table``) or a query, in the database's own dialect.
        dialect: the database's sqlglot dialect (see ``dialects.DIALECTS``).
        source: how the data is named in messages and reports (never credentials).

    Raises:
        DataError: the query or table is refused by the database (missing table, syntax).
    """
    import pyarrow as pa

    relation = relation_sql(sql)
    try:
        with closing(hook.get_conn()) as conn, closing(conn.cursor()) as cur:
            cur.execute(f"SELECT * FROM {relation} LIMIT 0")
            description = list(cur.description or [])
    except Exception as exc:  # each DB-API driver has its own error classes
        raise DataError(f"the database refused the query: {_first_line(exc)}", source=source) from None
    schema = pa.schema([(d[0], _arrow_type(d[1], d[4], d[5])) for d in description])
    return PushdownSource(None, RELATION, schema, source, None, "sql", None, hook=hook, dialect=dialect,
                          from_sql=relation)
