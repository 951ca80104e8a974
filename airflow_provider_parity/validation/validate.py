"""Validate a dataset against its contract: the gate's domain logic, without Airflow."""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from airflow_provider_parity.contracts.model import Contract, Environment
from airflow_provider_parity.validation.preflight import check_schema, check_values
from airflow_provider_parity.validation.result import ValidationResult

if TYPE_CHECKING:
    import pyarrow as pa

Engine = Literal["gx", "arrow"]


def validate_table(contract: Contract, table: pa.Table, *, source: str, version: int | None = None,
                   environment: Environment | None = None, engine: Engine = "gx", now: datetime | None = None,
                   warn_only: bool = False) -> ValidationResult:
    """Check ``table`` against ``contract``.

    Args:
        contract: the dataset's contract.
        table: the data, as Arrow.
        source: how the data is named in messages and reports.
        version: the Delta version the data was read from, if any.
        environment: ``"training"``/``"serving"`` to expect only that side's columns.
        engine: ``"gx"`` runs the compiled Great Expectations suite; ``"arrow"`` evaluates
            the same rules with Arrow compute (the serving check).
        now: reference time for the freshness rule (default: now, UTC).
        warn_only: a failure is reported as ``warned`` instead of ``failed``.

    Returns:
        The result; it never raises for failed rules (the caller decides to block).

    Raises:
        SchemaMismatchError: columns missing, extra (when forbidden) or of the wrong type.
        DataError: empty data, an all-null column, NaN or inf.
    """
    started = time.perf_counter()
    check_schema(contract, table.schema, environment=environment, source=source)
    metrics = check_values(contract, table, environment=environment, source=source)
    if engine == "gx":
        from airflow_provider_parity.validation.gx_engine import run_suite

        rules = run_suite(contract, table, environment=environment, now=now)
    else:
        from airflow_provider_parity.validation.native import evaluate_rules

        rules = evaluate_rules(contract, table, environment=environment, now=now)
    return ValidationResult(contract=contract.ref, contract_hash=contract.fingerprint, source=source,
                            engine=engine, row_count=table.num_rows, rules=rules, version=version,
                            environment=environment, column_metrics=metrics,
                            duration_seconds=round(time.perf_counter() - started, 3), warn_only=warn_only)
