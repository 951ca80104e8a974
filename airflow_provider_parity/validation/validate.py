"""Validate a dataset against its contract: the gate's domain logic, without Airflow."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.contracts.model import Contract, Environment
from airflow_provider_parity.validation.preflight import check_schema, check_values
from airflow_provider_parity.validation.result import ValidationResult

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.validation.references import References
    from airflow_provider_parity.validation.sources import LoadedData
    from airflow_provider_parity.validation.sql_engine import SqlSource

Engine = Literal["duckdb", "gx", "arrow", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "gx", "arrow")
"""The engines that run in-process; ``spark`` runs the DuckDB engine's SQL on a Spark session (``spark_sql``)."""
DEFAULT_ENGINE: Engine = "duckdb"


def validate_table(contract: Contract, table: pa.Table, *, source: str, version: int | None = None,
                   environment: Environment | None = None, engine: Engine = DEFAULT_ENGINE, now: datetime | None = None,
                   warn_only: bool = False, references: References | None = None) -> ValidationResult:
    """Check ``table`` against ``contract``.

    Args:
        contract: the dataset's contract.
        table: the data, as Arrow.
        source: how the data is named in messages and reports.
        version: the Delta version the data was read from, if any.
        environment: ``"training"``/``"serving"`` to expect only that side's columns.
        engine: ``"duckdb"`` (default) runs the rules compiled to SQL in DuckDB; ``"gx"`` runs the
            compiled Great Expectations suite; ``"arrow"`` evaluates the same rules with Arrow
            compute (the serving check); ``"spark"`` runs the DuckDB engine's SQL, transpiled, on
            the active Spark session (a local one when none). Same verdicts and counts from each.
        now: reference time for the freshness rule (default: now, UTC).
        warn_only: a failure is reported as ``warned`` instead of ``failed``.
        references: the parent data of ``references`` (foreign key) rules, by dataset name.

    Returns:
        The result; it never raises for failed rules (the caller decides to block).

    Raises:
        SchemaMismatchError: columns missing, extra (when forbidden) or of the wrong type.
        DataError: empty data, an all-null column, NaN or inf.
    """
    if engine == "duckdb":
        from airflow_provider_parity.validation.sql_engine import from_arrow, validate_source

        return validate_source(contract, from_arrow(table, source=source, version=version),
                               environment=environment, now=now, warn_only=warn_only, references=references)
    if engine == "spark":
        from airflow_provider_parity.validation import spark_sql

        frame = spark_sql.default_session().createDataFrame(table)
        return spark_sql.validate_spark(contract, spark_sql.from_frame(frame, source=source, version=version),
                                        environment=environment, now=now, warn_only=warn_only, references=references)
    started = time.perf_counter()
    check_schema(contract, table.schema, environment=environment, source=source)
    metrics = check_values(contract, table, environment=environment, source=source)
    if engine == "gx":
        from airflow_provider_parity.validation.gx_engine import run_suite

        rules = run_suite(contract, table, environment=environment, now=now, references=references)
    else:
        from airflow_provider_parity.validation.native import evaluate_rules

        rules = evaluate_rules(contract, table, environment=environment, now=now, references=references)
    return ValidationResult(contract=contract.ref, contract_hash=contract.fingerprint, source=source,
                            engine=engine, row_count=table.num_rows, rules=rules, version=version,
                            environment=environment, column_metrics=metrics,
                            duration_seconds=round(time.perf_counter() - started, 3), warn_only=warn_only)


def open_data(data: Any, *, engine: Engine = DEFAULT_ENGINE, version: int | None = None,
              storage_options: dict[str, str] | None = None) -> LoadedData | SqlSource:
    """Open ``data`` for ``engine``: DuckDB and Spark scan paths where they are, the others load Arrow.

    Both results name ``source``, ``version``, ``schema`` and ``fingerprint``.
    """
    if engine == "duckdb":
        from airflow_provider_parity.validation.sql_engine import open_source

        return open_source(data, version=version, storage_options=storage_options)
    if engine == "spark":
        from airflow_provider_parity.validation import spark_sql

        return spark_sql.open_spark_source(spark_sql.default_session(), data, version=version,
                                           storage_options=storage_options)
    from airflow_provider_parity.validation.sources import load_data

    return load_data(data, version=version, storage_options=storage_options)


def validate_data(contract: Contract, data: LoadedData | SqlSource, *, environment: Environment | None = None,
                  engine: Engine = DEFAULT_ENGINE, now: datetime | None = None,
                  warn_only: bool = False, references: References | None = None) -> ValidationResult:
    """``validate_table`` on what ``open_data`` returned, with no full read for DuckDB on paths."""
    from airflow_provider_parity.validation.sources import LoadedData

    if isinstance(data, LoadedData):
        return validate_table(contract, data.table, source=data.source, version=data.version,
                              environment=environment, engine=engine, now=now, warn_only=warn_only,
                              references=references)
    if engine == "spark":
        from airflow_provider_parity.validation.spark_sql import validate_spark

        return validate_spark(contract, data, environment=environment, now=now, warn_only=warn_only,
                              references=references)
    from airflow_provider_parity.validation.sql_engine import validate_source

    return validate_source(contract, data, environment=environment, now=now, warn_only=warn_only,
                           references=references)
