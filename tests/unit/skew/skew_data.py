"""Offline feature tables and serving logs for the skew tests: real Delta tables, two days of updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from airflow_provider_parity.examples import customer_features

DAY1 = datetime(2026, 11, 20, 20, tzinfo=UTC)
"""The offline table's first update (every customer's ``updated_at``); the second is a day later."""
DAY2 = DAY1 + timedelta(days=1)
STAMP = pa.timestamp("us", tz="UTC")


def offline_days(customers: int) -> tuple[pa.Table, pa.Table]:
    """The same customers updated on two days, with different values (another seed per day)."""
    return customer_features(customers, seed=1, now=DAY1), customer_features(customers, seed=2, now=DAY2)


def write_delta(path, *tables: pa.Table) -> str:  # type: ignore[no-untyped-def]
    """One Delta commit per table (appends): version i holds the first i + 1 tables."""
    from deltalake import write_deltalake

    uri = str(path)
    for table in tables:
        write_deltalake(uri, table, mode="append")
    return uri


def served(rows: pa.Table, at: datetime | list[datetime]) -> pa.Table:
    """What serving logged for ``rows``: their features (no label), ``request_id`` and ``served_at``."""
    times = at if isinstance(at, list) else [at] * rows.num_rows
    log = rows.drop_columns(["churned"])
    log = log.append_column("request_id", pa.array([f"R{i:07d}" for i in range(rows.num_rows)], pa.string()))
    log = log.append_column("served_at", pa.array(times, STAMP))
    return log.append_column("model_version", pa.array(["3"] * rows.num_rows, pa.string()))


def replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def round_ticket(log: pa.Table, share: float, seed: int = 5) -> tuple[pa.Table, set[str]]:
    """``avg_ticket_30d`` rounded to one decimal for ``share`` of the customers (where that changes it),
    as a serving path with its own rounding rule would; returns the log and those customers."""
    values = log["avg_ticket_30d"].to_numpy(zero_copy_only=False).copy()
    rounded = np.round(values, 1)
    eligible = np.flatnonzero(~np.isnan(values) & (np.abs(rounded - values) > 1e-6))
    count = int(round(share * log.num_rows))
    picked = np.random.default_rng(seed).choice(eligible, count, replace=False)
    values[picked] = rounded[picked]
    ids = log["customer_id"].to_pylist()
    return replace(log, "avg_ticket_30d", pa.array(values, pa.float64(), mask=np.isnan(values))), {
        ids[i] for i in picked}
