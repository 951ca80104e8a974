"""Example data matching ``contracts/customer_features.yaml``, with switchable faults.

Used by the README's first command, the tests and the benchmark, so all three check
the same shape of data. Deterministic for a given seed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pyarrow as pa

Fault = Literal["none", "nulls", "range", "duplicates", "category", "stale", "schema"]
PLANS = ["basic", "plus", "premium"]
REGIONS = ["north", "south", "east", "west"]


def customer_features(rows: int = 1000, *, seed: int = 7, fault: Fault = "none",
                      now: datetime | None = None) -> pa.Table:
    """A customer feature table; ``fault`` injects one kind of contract violation.

    Args:
        rows: number of customers.
        seed: random seed.
        fault: ``nulls`` (nulls in tenure_days), ``range`` (negative orders_30d), ``duplicates``
            (repeated keys), ``category`` (an unknown plan), ``stale`` (updated_at 3 days old),
            ``schema`` (tenure_days renamed).
        now: the time the features are "updated" (default: now, UTC).
    """
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    if fault == "stale":
        moment -= timedelta(days=3)
    orders = rng.poisson(3, rows).astype("int64")
    ticket = np.round(rng.gamma(2.0, 25.0, rows), 2)
    ids = np.array([f"C{i:06d}" for i in range(rows)], dtype=object)
    tenure = rng.integers(0, 3000, rows).astype("int64")
    plan = rng.choice(PLANS, rows, p=[0.6, 0.3, 0.1]).astype(object)
    tenure_mask = None
    if fault == "nulls":
        tenure_mask = rng.random(rows) < 0.05
    if fault == "range":
        orders[: max(1, rows // 100)] = -1
    if fault == "duplicates":
        ids[1 : max(2, rows // 50)] = ids[0]
    if fault == "category":
        plan[: max(1, rows // 100)] = "enterprise"
    table = pa.table({
        "customer_id": pa.array(ids, pa.string()),
        "feature_date": pa.array([moment.date()] * rows, pa.date32()),
        "tenure_days": pa.array(tenure, pa.int64(), mask=tenure_mask),
        "orders_30d": pa.array(orders, pa.int64()),
        "avg_ticket_30d": pa.array(ticket, pa.float64(), mask=orders == 0),
        "plan": pa.array(plan, pa.string()),
        "region": pa.array(rng.choice(REGIONS, rows).astype(object), pa.string()),
        "updated_at": pa.array([moment] * rows, pa.timestamp("us", tz="UTC")),
        "churned": pa.array(rng.random(rows) < 0.2, pa.bool_()),
    })
    if fault == "schema":
        table = table.rename_columns(["tenure" if n == "tenure_days" else n for n in table.column_names])
    return table


def write_parquet(table: pa.Table, path: str) -> str:
    import pyarrow.parquet as pq

    from airflow_provider_parity.fileio import atomic_write_bytes

    sink = __import__("pyarrow").BufferOutputStream()
    pq.write_table(table, sink)
    atomic_write_bytes(path, sink.getvalue().to_pybytes())
    return path


_ = date  # dates come from datetime.date(); kept importable for type readers
