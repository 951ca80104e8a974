"""The rule compiler's SQL in another engine's dialect.

The compiler (``sql_engine.py``) writes DuckDB SQL, the reference dialect: DuckDB runs it as
written. For any other database the text is transpiled here with sqlglot, which maps what
differs between engines (casts such as ``::DOUBLE`` to ``DOUBLE PRECISION``, ``regexp_matches``
to PostgreSQL's ``~`` and Spark's ``RLIKE``, typed literals such as ``TIMESTAMPTZ '...'`` to
casts, identifier quoting). Why transpile instead of building sqlglot expressions: the
compiler stays readable SQL that DuckDB, the default engine, runs with no sqlglot import at
all, and a dialect is one name here rather than a second compiler.

What sqlglot does not map is fixed here (``_FIXES``): ``isnan``/``isinf`` have no PostgreSQL
function (NaN and the infinities are values there, compared with ``=``), Spark has no ``isinf``
and no row values (a struct instead); and the relation
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

DIALECTS = ("duckdb", "postgres", "spark")
"""Dialects the compiled SQL is tested in (sqlglot knows more; they are not claimed here)."""


def _postgres_float_checks(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.IsNan):
        return exp.EQ(this=node.this, expression=exp.cast(exp.Literal.string("NaN"), "DOUBLE PRECISION"))
    if isinstance(node, exp.IsInf):
        infinite = exp.cast(exp.Literal.string("Infinity"), "DOUBLE PRECISION")
        return exp.EQ(this=exp.Abs(this=node.this), expression=infinite)
    return node


def _spark_fixes(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.IsInf):  # Spark has no isinf: an infinite value is the only one with an infinite abs
        return exp.EQ(this=exp.Abs(this=node.this), expression=exp.cast(exp.Literal.string("Infinity"), "double"))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "row":
        # DuckDB's row value (never null, nulls inside count as values) is Spark's struct.
        return exp.Struct(expressions=node.expressions)
    return node


_FIXES = {"postgres": _postgres_float_checks, "spark": _spark_fixes}
"""What sqlglot renders in a way the dialect lacks, rewritten node by node."""


def to_dialect(query: str, dialect: str, relation: str | None = None) -> str:
    """``query`` (DuckDB SQL naming :data:`RELATION`) as ``dialect`` SQL reading ``relation``.

    Args:
        query: one statement written by the rule compiler.
        dialect: a sqlglot dialect name (``duckdb`` returns the text unchanged).
        relation: SQL text usable after ``FROM`` in ``dialect``, spliced in verbatim (None: the
            query names its relation itself, e.g. Spark's temporary view).

    Example:
        >>> to_dialect("SELECT count(*) FILTER (WHERE isnan(x)) FROM parity_relation__", "postgres", "t")
        "SELECT COUNT(*) FILTER(WHERE x = CAST('NaN' AS DOUBLE PRECISION)) FROM t"
    """
    if dialect != "duckdb":
        import sqlglot

        tree = sqlglot.parse_one(query, read="duckdb")
        if dialect in _FIXES:
            tree = tree.transform(_FIXES[dialect])
        query = tree.sql(dialect=dialect)
    return query if relation is None else query.replace(RELATION, relation)
