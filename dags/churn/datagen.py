"""Synthetic raw data for the churn use case: customers and their orders, day by day, with faults on demand.

One customer base per ``(seed, n_customers)``: each customer's signup date, plan, region
and habits (order rate, ticket size) never change, so consecutive days describe the same
people; the orders of a calendar date are the same whichever day's extract holds them.
Churn is learnable: its odds fall with tenure and order frequency and depend on the plan.

Faults (``FAULTS``) break the raw data the way real pipelines break, each aimed at one
gate: a renamed column, a null spike, negative amounts, duplicate customer rows, a stale
extract; ``serving_drift`` only changes ``serving_traffic``; ``annotator_flip`` only changes
the day's annotations (``day_annotations``): one annotator labels every churned customer as staying.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

FAULTS = ("schema_break", "null_spike", "range_violation", "duplicate_keys", "stale", "serving_drift",
          "annotator_flip")
PLANS = ("basic", "plus", "premium")
REGIONS = ("north", "south", "east", "west")
LABEL = "churned"
ORDER_WINDOW_DAYS = 35
"""Days of orders in one extract (ending with its day): the 30-day features plus a margin the models must cut."""

# The customer base signs up over these years; a customer is in a day's extract once signed up.
_SIGNUP_FIRST = date(2019, 1, 1)
_SIGNUP_DAYS = 9 * 365
_PLAN_SHARE = (0.55, 0.30, 0.15)
_PLAN_ORDER_RATE = (0.85, 1.0, 1.3)        # multiplies the base rate of ~3.3 orders per 30 days
_PLAN_TICKET = (35.0, 55.0, 85.0)          # mean order value
_PLAN_CHURN_LOGIT = (0.45, 0.0, -0.5)
_STATUSES = ("completed", "refunded", "cancelled")
_STATUS_SHARE = (0.92, 0.05, 0.03)
_STREAM_BASE, _STREAM_ORDERS, _STREAM_DAY, _STREAM_FAULTS, _STREAM_SERVING, _STREAM_LABELS = range(6)
ANNOTATORS = ("ann_1", "ann_2", "ann_3", "ann_4", "ann_5")
FLIPPING_ANNOTATOR = "ann_3"
"""With ``annotator_flip``, this annotator labels every churned customer ``false`` (a misread guideline)."""


@dataclass(frozen=True)
class RawDay:
    """One day's raw extract.

    Attributes:
        customers: customer_id, signup_date, plan, region, churned, updated_at.
        orders: order_id, customer_id, order_ts, amount, status; the ``ORDER_WINDOW_DAYS``
            days ending with the day.
    """

    customers: pa.Table
    orders: pa.Table


@dataclass(frozen=True)
class _Base:
    """The customer base: one entry per customer, fixed for a seed."""

    signup: npt.NDArray[np.int64]        # date ordinals
    plan: npt.NDArray[np.int64]          # index into PLANS
    region: npt.NDArray[np.int64]        # index into REGIONS
    order_rate: npt.NDArray[np.float64]  # expected orders per 30 days
    ticket: npt.NDArray[np.float64]      # mean order value
    churn_noise: npt.NDArray[np.float64]
    churn_draw: npt.NDArray[np.float64]  # uniform: churned when below the churn probability


def check_faults(faults: Collection[str]) -> frozenset[str]:
    """The faults as a set.

    Raises:
        ValueError: a name not in ``FAULTS``, naming the allowed ones.
    """
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown fault {', '.join(map(repr, unknown))}: expected any of {', '.join(FAULTS)}")
    return frozenset(faults)


def _rng(seed: int, stream: int, key: int = 0) -> np.random.Generator:
    import numpy as np

    # Separate streams per purpose and per calendar date keep each draw stable when others change.
    return np.random.default_rng([seed, stream, key])


def _customer_base(n_customers: int, seed: int) -> _Base:
    import numpy as np

    rng = _rng(seed, _STREAM_BASE, n_customers)
    plan = rng.choice(len(PLANS), n_customers, p=_PLAN_SHARE)
    rate = np.exp(rng.normal(math.log(3.3), 0.55, n_customers)) * np.take(_PLAN_ORDER_RATE, plan)
    ticket = np.take(_PLAN_TICKET, plan) * np.exp(rng.normal(0.0, 0.3, n_customers))
    return _Base(
        signup=_SIGNUP_FIRST.toordinal() + rng.integers(0, _SIGNUP_DAYS, n_customers),
        plan=plan,
        region=rng.choice(len(REGIONS), n_customers, p=(0.3, 0.25, 0.25, 0.2)),
        order_rate=rate,
        ticket=ticket,
        churn_noise=rng.normal(0.0, 0.5, n_customers),
        churn_draw=rng.random(n_customers),
    )


def _churn_probability(base: _Base, day: date) -> npt.NDArray[np.float64]:
    import numpy as np

    tenure_years = (day.toordinal() - base.signup) / 365.0
    logit = (0.2 - 0.45 * tenure_years - 0.30 * (base.order_rate - 3.3) + np.take(_PLAN_CHURN_LOGIT, base.plan)
             - 0.008 * (base.ticket - 45.0) + base.churn_noise)
    result: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-logit))
    return result


def _ids(prefix: str, numbers: Any) -> list[str]:
    return [f"{prefix}{n:06d}" for n in numbers]


def _utc(day: date, seconds: Any) -> pa.Array:
    """Timestamps (UTC, microseconds) ``seconds`` after ``day``'s midnight, built in numpy (no pandas)."""
    import numpy as np
    import pyarrow as pa

    instants = np.datetime64(day.isoformat(), "us") + np.asarray(seconds, dtype="int64").astype("timedelta64[s]")
    return pa.array(instants, pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))


def _dates(ordinals: Any) -> pa.Array:
    import numpy as np
    import pyarrow as pa

    epoch = date(1970, 1, 1).toordinal()
    return pa.array((np.asarray(ordinals, dtype="int64") - epoch).astype("datetime64[D]"), pa.date32())


def _orders_on(base: _Base, on: date, seed: int) -> dict[str, Any]:
    """Every order placed on one calendar date (the same whichever day's extract asks)."""
    import numpy as np

    rng = _rng(seed, _STREAM_ORDERS, on.toordinal())
    signed_up = base.signup <= on.toordinal()
    counts = rng.poisson(base.order_rate / 30.0) * signed_up
    customer = np.repeat(np.arange(len(counts)), counts)
    n = len(customer)
    amount = np.round(rng.gamma(4.0, base.ticket[customer] / 4.0), 2)
    return {
        "order_id": [f"O{on:%Y%m%d}{i:05d}" for i in range(n)],
        "customer": customer,
        "order_ts": _utc(on, rng.integers(0, 86_400, n)),
        "amount": np.maximum(amount, 0.5),
        "status": rng.choice(len(_STATUSES), n, p=_STATUS_SHARE),
    }


def generate_raw(day: date, *, n_customers: int = 2000, seed: int = 7, faults: Collection[str] = ()) -> RawDay:
    """The raw extract taken at the end of ``day``: the customers signed up by then and their recent orders.

    Args:
        day: the day the extract closes (UTC): orders cover the ``ORDER_WINDOW_DAYS`` days
            ending with it, and ``updated_at`` falls in its last 6 hours, so a run just after
            midnight sees data a few hours old.
        n_customers: size of the customer base; those who sign up after ``day`` are not in its extract.
        seed: fixes the customer base and every draw; the same ``(day, seed)`` gives the same tables.
        faults: any of ``FAULTS``: ``schema_break`` renames customers.signup_date to signup_dt;
            ``null_spike`` nulls plan for 40% of customers; ``range_violation`` makes every
            amount of 5% of customers negative; ``duplicate_keys`` repeats 3% of customer rows;
            ``stale`` dates updated_at 5 days back; ``serving_drift`` changes nothing here.

    Returns:
        The customers and orders tables.

    Raises:
        ValueError: an unknown fault or a base of fewer than one customer.
    """
    import numpy as np
    import pyarrow as pa

    chosen = check_faults(faults)
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    base = _customer_base(n_customers, seed)
    present = np.flatnonzero(base.signup <= day.toordinal())
    day_rng = _rng(seed, _STREAM_DAY, day.toordinal())
    fault_rng = _rng(seed, _STREAM_FAULTS, day.toordinal())
    lag = day_rng.integers(1, 6 * 3600, n_customers)[present]
    if "stale" in chosen:
        lag = lag + 5 * 86_400
    plan = np.take(PLANS, base.plan[present]).astype(object)
    if "null_spike" in chosen:
        plan[fault_rng.random(len(present)) < 0.4] = None
    customers = pa.table({
        "customer_id": pa.array(_ids("C", present), pa.string()),
        "signup_date": _dates(base.signup[present]),
        "plan": pa.array(plan, pa.string()),
        "region": pa.array(np.take(REGIONS, base.region[present]), pa.string()),
        LABEL: pa.array(base.churn_draw[present] < _churn_probability(base, day)[present], pa.bool_()),
        "updated_at": _utc(day + timedelta(days=1), -lag),
    })
    if "duplicate_keys" in chosen and len(present):
        repeated = fault_rng.choice(len(present), max(1, len(present) * 3 // 100), replace=False)
        customers = pa.concat_tables([customers, customers.take(np.sort(repeated))])
    if "schema_break" in chosen:
        customers = customers.rename_columns(["signup_dt" if c == "signup_date" else c for c in customers.column_names])
    return RawDay(customers=customers, orders=_orders(base, day, seed, chosen, fault_rng))


def _orders(base: _Base, day: date, seed: int, faults: frozenset[str], fault_rng: np.random.Generator) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    dates = [day - timedelta(days=back) for back in range(ORDER_WINDOW_DAYS - 1, -1, -1)]
    parts = [_orders_on(base, on, seed) for on in dates]
    customer = np.concatenate([p["customer"] for p in parts])
    amount = np.concatenate([p["amount"] for p in parts])
    if "range_violation" in faults:
        # Whole customers, so their average ticket turns negative, not just single orders.
        negative = fault_rng.random(len(base.signup)) < 0.05
        amount = np.where(negative[customer], -amount, amount)
    return pa.table({
        "order_id": pa.array([i for p in parts for i in p["order_id"]], pa.string()),
        "customer_id": pa.array(_ids("C", customer), pa.string()),
        "order_ts": pa.concat_arrays([p["order_ts"] for p in parts]),
        "amount": pa.array(amount, pa.float64()),
        "status": pa.array(np.take(_STATUSES, np.concatenate([p["status"] for p in parts])), pa.string()),
    })


def day_annotations(customers: pa.Table, day: date, *, n_items: int = 300, per_item: int = 3, accuracy: float = 0.97,
                seed: int = 7, faults: Collection[str] = ()) -> pa.Table:
    """The day's labelled items as the annotators gave them: ``per_item`` of ``ANNOTATORS`` label each.

    The items are ``n_items`` customers of the day's extract (a stable sample per day); each
    annotator gives the recorded ``churned`` label with probability ``accuracy``, else the other.

    Args:
        customers: the day's customers (``generate_raw(...).customers``).
        day: the day the annotations are made (``annotated_at`` falls within it, UTC).
        faults: with ``annotator_flip``, ``FLIPPING_ANNOTATOR`` labels every churned item ``false``.

    Returns:
        customer_id, annotator_id, churned, annotated_at: one row per (item, annotator),
        the columns ``contracts/churn_labels.yaml`` names.
    """
    import numpy as np
    import pyarrow as pa

    chosen = check_faults(faults)
    rng = _rng(seed, _STREAM_LABELS, day.toordinal())
    items = rng.choice(customers.num_rows, min(n_items, customers.num_rows), replace=False)
    truth = np.asarray(customers[LABEL].take(pa.array(items)).to_pylist(), dtype=bool)
    who = np.stack([rng.choice(len(ANNOTATORS), per_item, replace=False) for _ in items])
    given = np.where(rng.random(who.shape) < accuracy, truth[:, None], ~truth[:, None])
    if "annotator_flip" in chosen:
        flipping = who == ANNOTATORS.index(FLIPPING_ANNOTATOR)
        given = np.where(flipping & truth[:, None], False, given)
    ids = customers["customer_id"].take(pa.array(np.repeat(items, per_item)))
    return pa.table({
        "customer_id": ids.cast(pa.string()),
        "annotator_id": pa.array(np.take(ANNOTATORS, who.ravel()), pa.string()),
        LABEL: pa.array(given.ravel(), pa.bool_()),
        "annotated_at": _utc(day, rng.integers(0, 86_400, who.size)),
    })


def is_local(uri: str) -> bool:
    """True for a plain path or a ``file://`` URI."""
    return "://" not in uri or uri.startswith("file://")


def write_parquet(table: pa.Table, uri: str) -> str:
    """Write ``table`` as one Parquet file so that readers never see part of it.

    Local paths go through a temporary file and a rename. Object stores have no rename, and
    need none: an object appears whole when its single PUT (or multipart upload) completes,
    so the file is written in place; credentials come from the environment (``AWS_*``).

    Args:
        table: the data.
        uri: a local path, ``file://`` URI or any URI pyarrow's filesystems open.

    Returns:
        ``uri``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if is_local(uri):
        from airflow_provider_parity.fileio import atomic_write_bytes

        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        atomic_write_bytes(uri.removeprefix("file://"), sink.getvalue().to_pybytes())
        return uri
    pq.write_table(table, uri)
    return uri


def raw_paths(lake_uri: str, day: date) -> dict[str, str]:
    """Where ``write_raw`` puts (and the dbt sources read) one day's tables."""
    root = lake_uri.rstrip("/")
    return {name: f"{root}/raw/{name}/date={day.isoformat()}/part-0.parquet" for name in ("customers", "orders")}


def annotations_path(lake_uri: str, day: date | str) -> str:
    """Where ``ingest_raw`` lands one day's annotations (read by the label-quality gate); ``day`` may be
    a template that renders to the date."""
    return f"{lake_uri.rstrip('/')}/raw/annotations/date={day}/part-0.parquet"


def write_raw(lake_uri: str, day: date, raw: RawDay) -> dict[str, str]:
    """Write one day's raw tables under ``{lake_uri}/raw/<table>/date=YYYY-MM-DD/part-0.parquet``.

    Args:
        lake_uri: the lake's root (a local path or an object-store URI).
        day: the extract's date (the partition).
        raw: the tables from ``generate_raw``.

    Returns:
        ``{"customers": uri, "orders": uri}``.
    """
    paths = raw_paths(lake_uri, day)
    write_parquet(raw.customers, paths["customers"])
    write_parquet(raw.orders, paths["orders"])
    return paths


ROUNDED_SHARE = 50
"""With ``rounding``, one customer in this many (by a stable hash of the id) is served a rounded ticket."""


ROUNDING_FAULT = f"round:avg_ticket_30d:{1 / ROUNDED_SHARE}"
"""The same incident in ``parity serve`` (``--fault``): the service itself serves those customers rounded."""


def rounded_customers(customer_ids: Collection[str]) -> set[str]:
    """The customers whose average ticket the faulty online path rounds (a stable 2% of them)."""
    from airflow_provider_parity.serving.faults import in_share

    return {c for c in customer_ids if in_share(c, 1 / ROUNDED_SHARE)}


def requested_customers(features: pa.Table, *, day: date, n_requests: int = 1000, seed: int = 7,
                        drift: bool = False) -> list[str]:
    """Who asks the online service for a prediction on ``day``: customers of ``features``, with replacement.

    ``drift``: a campaign brings the big spenders to the app: 80% of the requests come from the
    top quarter by ``avg_ticket_30d``. Every value served is still exactly the offline one (no
    per-entity skew); the served *population* moves away from the one the model was trained on.
    """
    import numpy as np

    if features.num_rows == 0 or n_requests < 1:
        raise ValueError(f"cannot sample {n_requests} requests from {features.num_rows} feature rows")
    rng = _rng(seed, _STREAM_SERVING, day.toordinal())
    ids = np.asarray(features["customer_id"].to_pylist(), dtype=object)
    everyone = ids[rng.integers(0, len(ids), n_requests)]
    if not drift:
        return [str(c) for c in everyone]
    ticket = features["avg_ticket_30d"].to_numpy(zero_copy_only=False).astype(float)
    big = ids[ticket >= np.nanquantile(ticket, 0.75)]
    campaign = rng.random(n_requests) < 0.8
    return [str(c) for c in np.where(campaign, big[rng.integers(0, len(big), n_requests)], everyone)]


def serving_traffic(features: pa.Table, *, day: date, n_requests: int = 1000, seed: int = 7, drift: bool = False,
                    rounding: bool = False, model_version: str | None = None) -> pa.Table:
    """What the online service logged on ``day``: feature rows as served, without the label.

    Args:
        features: a feature table (e.g. ``customer_features``); rows are sampled with replacement.
        day: the day the requests were served (``served_at`` falls within it, UTC).
        n_requests: rows to log.
        seed: fixes the sample.
        drift: shift the traffic clearly: avg_ticket_30d x1.8, orders_30d up, 40% of plans premium.
        rounding: the classic online/offline skew: for 2% of customers (:func:`rounded_customers`) the
            online path serves ``avg_ticket_30d`` rounded to whole units, a distribution change far too
            small for drift to see, a per-entity mismatch for every one of them.
        model_version: the version recorded on each request (null when None).

    Returns:
        The features' columns except the label, then request_id, served_at and model_version,
        ordered by served_at.

    Raises:
        ValueError: ``features`` is empty or ``n_requests`` is below 1.
    """
    import numpy as np
    import pyarrow as pa

    if features.num_rows == 0 or n_requests < 1:
        raise ValueError(f"cannot sample {n_requests} requests from {features.num_rows} feature rows")
    rng = _rng(seed, _STREAM_SERVING, day.toordinal())
    rows = features.drop_columns([c for c in (LABEL,) if c in features.column_names])
    rows = rows.take(rng.integers(0, features.num_rows, n_requests))
    if drift:
        rows = _drifted(rows, rng)
    if rounding:
        rows = _rounded(rows)
    served = _utc(day, np.sort(rng.integers(0, 86_400, n_requests)))
    rows = rows.append_column("request_id", pa.array([f"R{day:%Y%m%d}{i:06d}" for i in range(n_requests)], pa.string()))
    rows = rows.append_column("served_at", served)
    return rows.append_column("model_version", pa.array([model_version] * n_requests, pa.string()))


def _rounded(rows: pa.Table) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    hit = pa.array([c in rounded_customers(set(rows["customer_id"].to_pylist()))
                    for c in rows["customer_id"].to_pylist()])
    index = rows.column_names.index("avg_ticket_30d")
    return rows.set_column(index, "avg_ticket_30d",
                           pc.if_else(hit, pc.round(rows["avg_ticket_30d"], 0), rows["avg_ticket_30d"]))


def _drifted(rows: pa.Table, rng: np.random.Generator) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    def replace(table: pa.Table, name: str, values: Any) -> pa.Table:
        return table.set_column(table.column_names.index(name), name, values)

    if "avg_ticket_30d" in rows.column_names:
        rows = replace(rows, "avg_ticket_30d", pc.multiply(rows["avg_ticket_30d"], 1.8))
    if "orders_30d" in rows.column_names:
        extra = pa.array(rng.poisson(2.0, rows.num_rows), rows.schema.field("orders_30d").type)
        rows = replace(rows, "orders_30d", pc.add(rows["orders_30d"], extra))
    if "plan" in rows.column_names:
        premium = pa.array(rng.random(rows.num_rows) < 0.4)
        rows = replace(rows, "plan", pc.if_else(premium, "premium", rows["plan"]))
    return rows
