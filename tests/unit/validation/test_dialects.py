"""The compiled SQL in PostgreSQL's dialect: what sqlglot maps, what we fix, what is never parsed."""

from __future__ import annotations

import pyarrow as pa

from airflow_provider_parity.contracts.rules import Rule
from airflow_provider_parity.validation.dialects import RELATION, to_dialect
from airflow_provider_parity.validation.pushdown import relation_sql
from airflow_provider_parity.validation.sql_engine import duplicates_sql, offending_sql


def test_duckdb_sql_is_run_as_written():
    query = f"SELECT count(*) FILTER (WHERE isnan(x)) FROM {RELATION}"
    assert to_dialect(query, "duckdb", "read_parquet('a.parquet')") == \
        "SELECT count(*) FILTER (WHERE isnan(x)) FROM read_parquet('a.parquet')"


def test_postgres_gets_its_regex_operator_casts_and_float_checks():
    query = (f'SELECT min("x")::DOUBLE, count(*) FILTER (WHERE isnan("f")), count(*) FILTER (WHERE isinf("f")), '
             f"count(*) FILTER (WHERE NOT regexp_matches(\"c\", '^C\\d{{6}}$')) FROM {RELATION}")
    sql = to_dialect(query, "postgres", "t")
    assert 'CAST(MIN("x") AS DOUBLE PRECISION)' in sql
    assert "\"f\" = CAST('NaN' AS DOUBLE PRECISION)" in sql
    assert "ABS(\"f\") = CAST('Infinity' AS DOUBLE PRECISION)" in sql
    assert "NOT \"c\" ~ '^C\\d{6}$'" in sql
    assert sql.endswith("FROM t")


def test_timestamp_literals_and_duplicates_query_are_valid_postgres():
    rule = Rule(kind="between", column="t", params={"min": "2026-01-01T00:00:00+02:00"})
    predicate = offending_sql(rule, pa.timestamp("us", tz="UTC"))
    sql = to_dialect(f"SELECT count(*) FILTER (WHERE {predicate}) FROM {RELATION}", "postgres", "t")
    assert "CAST('2026-01-01 00:00:00+02:00' AS TIMESTAMPTZ)" in sql  # the offset kept: one instant
    dups = to_dialect(duplicates_sql(RELATION, ["a", "b"], skip_nulls=False), "postgres", "s.t")
    assert dups.endswith("GROUP BY \"a\", \"b\" HAVING COUNT(*) > 1) AS parity_dups")  # PostgreSQL < 16 needs the alias


def test_the_users_sql_is_spliced_verbatim_never_parsed():
    users = "SELECT * FROM orders WHERE note ~* 'x::int' AND ts > now() - interval '1 day'"
    relation = relation_sql(users + " ;")
    assert relation == f"({users}) AS parity_source"
    assert to_dialect(f"SELECT count(*) FROM {RELATION}", "postgres", relation) == f"SELECT COUNT(*) FROM {relation}"
    assert relation_sql("analytics.orders") == "analytics.orders"
    assert relation_sql('  "Mixed Case"') == '"Mixed Case"'
    assert relation_sql("with x as (select 1) select * from x").startswith("(with x")
