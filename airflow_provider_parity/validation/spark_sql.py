"""The contract's rules as Spark SQL: the DuckDB engine's queries, transpiled, run where Spark reads.

The ``spark`` engine does not compile rules a second time: ``sql_engine`` builds its one
aggregate query (and the duplicate-count and sample queries) in DuckDB's dialect, and each
query is transpiled to Spark SQL with sqlglot before ``spark.sql`` runs it. The counts,
the pre-flight metrics and the wording are therefore those of the DuckDB engine by
construction; what differs is only where the scan runs (Spark's executors over a
DataFrame: a Delta table read by delta-spark with ``versionAsOf``, or any frame).

Why sqlglot: the SQL already exists and is tested against every other engine; a
transpiler keeps one source of truth, and the two constructs it renders in a way Spark
lacks are rewritten in ``dialects.py`` (:func:`to_spark_sql`). The data is a temporary view; values
reach the SQL only as literals quoted by ``sql_engine``, re-escaped by sqlglot for
Spark's string syntax (backslashes are escapes there).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.model import Contract, Environment
from airflow_provider_parity.delta.spark_engine import arrow_schema
from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.validation.dialects import to_dialect
from airflow_provider_parity.validation.result import ValidationResult
from airflow_provider_parity.validation.sql_engine import SqlSource, validate_source

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_views = itertools.count()


def to_spark_sql(duckdb_sql: str) -> str:
    """One of ``sql_engine``'s DuckDB queries in Spark SQL's dialect (``dialects.to_dialect``)."""
    return to_dialect(duckdb_sql, "spark")


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


class SparkConnection:
    """The slice of a DuckDB connection ``sql_engine`` uses (``execute(...).fetchone/fetchall``), on Spark."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.queries: list[str] = []
        """Every Spark SQL statement run, in order (what the gate pushed to Spark)."""

    def execute(self, query: str) -> _Rows:
        sql = to_spark_sql(query)
        self.queries.append(sql)
        # Through Arrow, so timestamps come back as aware UTC instants, as from DuckDB.
        table = self.spark.sql(sql).toArrow()
        return _Rows([tuple(row.values()) for row in table.to_pylist()])

    def register(self, name: str, table: Any) -> None:
        """An Arrow table as a temporary view (a ``references`` rule's parent keys), as DuckDB's ``register``."""
        self.spark.createDataFrame(table).createOrReplaceTempView(name)


def from_frame(frame: DataFrame, *, source: str, version: int | None = None, kind: str = "spark",
               fingerprint: str | None = None) -> SqlSource:
    """A Spark DataFrame as a source for the compiled rules: a temporary view, read by Spark when queried."""
    view = f"parity_data_{next(_views)}"
    frame.createOrReplaceTempView(view)
    return SqlSource(SparkConnection(frame.sparkSession), view, arrow_schema(frame),  # type: ignore[arg-type]
                     source, version, kind, fingerprint)


def open_spark_source(spark: SparkSession, data: Any, *, version: int | None = None,
                      storage_options: Mapping[str, str] | None = None) -> SqlSource:
    """Open what a gate validates on Spark: a DataFrame, an Arrow table, or a path (Delta or parquet).

    Raises:
        DataError: the path does not exist or the object is no table.
        SnapshotError: no such Delta version.
        EngineError: the version uses a feature the session cannot read (see ``read_spark``).
    """
    import os

    from pyspark.sql import DataFrame

    from airflow_provider_parity.delta.spark_engine import read_spark, spark_path
    from airflow_provider_parity.validation.sources import check_path, is_delta_table, load_data

    if isinstance(data, DataFrame):
        return from_frame(data, source="spark dataframe", version=version)
    if not isinstance(data, (str, os.PathLike)):
        loaded = load_data(data)
        return from_frame(spark.createDataFrame(loaded.table), source=loaded.source, kind=loaded.kind)
    path = os.fspath(data)
    check_path(path)
    if is_delta_table(path, dict(storage_options) if storage_options else None):
        from airflow_provider_parity.delta import resolve_snapshot

        snap = resolve_snapshot(path, version=version, storage_options=storage_options)
        frame = read_spark(spark, path, snap.version, storage_options=storage_options)
        return from_frame(frame, source=path, version=snap.version, kind="delta", fingerprint=snap.fingerprint)
    if version is not None:
        raise DataError(f"version {version} was given but this is not a Delta table (no _delta_log)", source=path)
    return from_frame(spark.read.parquet(spark_path(path)), source=path, kind="parquet")


def default_session() -> SparkSession:
    """The active session, else a local one (with delta-spark when its jars are cached)."""
    from pyspark.sql import SparkSession

    from airflow_provider_parity.delta.spark_session import build_session

    return SparkSession.getActiveSession() or build_session("local[*]")


def validate_spark(contract: Contract, src: SqlSource, *, environment: Environment | None = None,
                   now: datetime | None = None, warn_only: bool = False, references: Any = None) -> ValidationResult:
    """``sql_engine.validate_source`` on a Spark source: the same checks, counts and errors, engine ``spark``."""
    result = validate_source(contract, src, environment=environment, now=now, warn_only=warn_only,
                             references=references)
    return replace(result, engine="spark")
