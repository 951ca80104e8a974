"""The rule compiler's SQL in another engine's dialect.

The compiler (``sql_engine.py``) writes DuckDB SQL, the reference dialect: DuckDB runs it as
written. For any other database the text is transpiled here with sqlglot, which maps what
differs between engines (casts such as ``::DOUBLE`` to ``DOUBLE PRECISION``, ``regexp_matches``
to PostgreSQL's ``~`` and Spark's ``RLIKE``, typed literals such as ``TIMESTAMPTZ '...'`` to
casts, identifier quoting). Why transpile instead of building sqlglot expressions: the
compiler stays readable SQL that DuckDB, the default engine, runs with no sqlglot import at
all, and a dialect is one name here rather than a second compiler.

Two things sqlglot does not map are fixed here: ``isnan``/``isinf`` have no PostgreSQL
function (NaN and the infinities are values there, compared with ``=``), and the relation
(a table name or the user's own SELECT, in the database's own dialect) must never go through
a parser: the compiler writes :data:`RELATION` in its place, and the text is spliced in after
transpiling.

Regular expressions are passed through: DuckDB's RE2 and PostgreSQL's advanced regular
expressions agree on the common subset contracts use (classes, ``\\d``, anchors, counted
repetition); both search anywhere in the value.
"""

from __future__ import annotations

from typing import Any

RELATION = "parity_relation__"
"""Written by the compiler where the relation goes; replaced after transpiling."""

DIALECTS = ("duckdb", "postgres")
"""Dialects the compiled SQL is tested in (sqlglot knows more; they are not claimed here)."""


def _postgres_float_checks(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.IsNan):
        return exp.EQ(this=node.this, expression=exp.cast(exp.Literal.string("NaN"), "DOUBLE PRECISION"))
    if isinstance(node, exp.IsInf):
        infinite = exp.cast(exp.Literal.string("Infinity"), "DOUBLE PRECISION")
        return exp.EQ(this=exp.Abs(this=node.this), expression=infinite)
    return node


def to_dialect(query: str, dialect: str, relation: str) -> str:
    """``query`` (DuckDB SQL naming :data:`RELATION`) as ``dialect`` SQL reading ``relation``.

    Args:
        query: one statement written by the rule compiler.
        dialect: a sqlglot dialect name (``duckdb`` returns the text unchanged).
        relation: SQL text usable after ``FROM`` in ``dialect``, spliced in verbatim.

    Example:
        >>> to_dialect("SELECT count(*) FILTER (WHERE isnan(x)) FROM parity_relation__", "postgres", "t")
        "SELECT COUNT(*) FILTER(WHERE x = CAST('NaN' AS DOUBLE PRECISION)) FROM t"
    """
    if dialect != "duckdb":
        import sqlglot

        tree = sqlglot.parse_one(query, read="duckdb")
        if dialect == "postgres":
            tree = tree.transform(_postgres_float_checks)
        query = tree.sql(dialect=dialect)
    return query.replace(RELATION, relation)
