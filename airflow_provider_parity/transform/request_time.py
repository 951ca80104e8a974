"""Features computed at request time, defined once: the training-set build and the service both call this.

A stored feature describes its feature date; a request arrives later. ``tenure_days`` is the
customer's tenure on the feature date, so a model scoring a request three days after the last
materialisation would see a tenure three days short, a skew no stored value shows. The model
reads ``tenure_days_at_request`` instead: the stored tenure plus the whole UTC days from the
feature date to the request's date. Training rows are requests made on their feature date (the
day their label describes: an offset of 0); the service passes the time it serves at. One
function computes both, with the same types and the same rounding, so training and serving
cannot disagree on the rule (the classic incident this module exists to prevent).

Airflow-free and pyarrow-only: the service imports it on every request.

Example:
    >>> add_request_features(batch, datetime(2026, 3, 4, 9, tzinfo=UTC))  # the service
    >>> add_request_features(table, training_request_times(table))        # the training-set build
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from airflow_provider_parity.exceptions import DataError

if TYPE_CHECKING:
    import pyarrow as pa

@dataclass(frozen=True)
class RequestFeature:
    """A feature computed from stored columns and the request's time."""

    name: str
    inputs: tuple[str, ...]
    description: str


TENURE_AT_REQUEST = RequestFeature(
    name="tenure_days_at_request", inputs=("tenure_days", "feature_date"),
    description="tenure_days plus the whole UTC days from feature_date to the request's date (never fewer)")
REQUEST_FEATURES: tuple[RequestFeature, ...] = (TENURE_AT_REQUEST,)
"""Every request-time feature, in the order :func:`add_request_features` appends them."""
REQUEST_FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in REQUEST_FEATURES)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
SMALL_BATCH = 1000
"""Up to this many rows (a request's largest batch), dates become day numbers in Python."""


def tenure_days_at_request(tenure_days: int | None, feature_day: int | None, request_day: int | None) -> int | None:
    """The rule, for one row: ``tenure_days + max(0, request day - feature day)``, days since the epoch.

    None when an input is None. A request dated before its feature date (a clock running behind)
    adds nothing: tenure never shrinks.

    Example:
        >>> tenure_days_at_request(100, 20516, 20519)
        103
    """
    if tenure_days is None or feature_day is None or request_day is None:
        return None
    return tenure_days + max(0, request_day - feature_day)


def _days(values: pa.Array | pa.ChunkedArray, what: str) -> list[int | None]:
    """Dates, or timestamps with a zone (taken in UTC), as days since the epoch."""
    import pyarrow as pa

    kind = values.type
    if pa.types.is_timestamp(kind):
        if kind.tz is None:
            raise DataError(f"{what} are timestamps without a time zone: give them in UTC")
        values = values.cast(pa.timestamp("us", tz="UTC")).cast(pa.date32())
    elif not pa.types.is_date(kind):
        raise DataError(f"{what} are {kind}: give dates or timestamps with a time zone (UTC)")
    if len(values) > SMALL_BATCH:  # a training set: one Arrow cast beats a date object per row
        days: list[int | None] = values.cast(pa.date32()).cast(pa.int32()).to_pylist()
        return days
    # A request's batch: date objects to day numbers in Python cost less than two Arrow casts.
    return [None if d is None else d.toordinal() - _EPOCH_ORDINAL for d in values.to_pylist()]


def _request_days(request_time: datetime | pa.Array | pa.ChunkedArray, rows: int) -> list[int | None]:
    """The request's UTC date as days since the epoch, one per row."""
    if isinstance(request_time, datetime):
        if request_time.tzinfo is None:
            raise DataError("the request time has no time zone: give it in UTC")
        return [request_time.astimezone(UTC).date().toordinal() - _EPOCH_ORDINAL] * rows
    if len(request_time) != rows:
        raise DataError(f"{len(request_time)} request time(s) for {rows} row(s)")
    return _days(request_time, "request times")


def add_request_features(table: pa.Table, request_time: datetime | pa.Array | pa.ChunkedArray) -> pa.Table:
    """``table`` with every request-time feature appended (replaced when already there).

    Row by row in Python, on purpose: the service scores one entity per request, where a chain of
    Arrow kernels costs ten times a list comprehension, and the training set's thousands of rows
    take milliseconds either way. One code path for both is the point.

    Args:
        table: rows holding each feature's inputs (stored columns, as the store or the offline table
            types them: ``tenure_days`` integer, ``feature_date`` date).
        request_time: one time (the service: when it serves) or one per row (a timestamp with a
            zone, or a date: the training-set build).

    Raises:
        DataError: an input column is missing, or the request time has no zone or the wrong length.
    """
    import pyarrow as pa

    names = table.column_names  # built anew on every access: read once
    missing = [c for f in REQUEST_FEATURES for c in f.inputs if c not in names]
    if missing:
        raise DataError(f"request-time features need column {missing[0]!r} (columns: {', '.join(names)})",
                        column=missing[0])
    requests = _request_days(request_time, table.num_rows)
    tenure = table.column("tenure_days").to_pylist()
    feature_days = _days(table.column("feature_date"), "feature dates")
    value = pa.array([tenure_days_at_request(t, f, r) for t, f, r in zip(tenure, feature_days, requests, strict=True)],
                     pa.int64())
    if TENURE_AT_REQUEST.name in names:
        return table.set_column(names.index(TENURE_AT_REQUEST.name), TENURE_AT_REQUEST.name, value)
    return table.append_column(TENURE_AT_REQUEST.name, value)


def training_request_times(table: pa.Table) -> pa.ChunkedArray:
    """Training rows' request times: each row is a request made on its feature date."""
    if "feature_date" not in table.column_names:
        raise DataError("training rows need their feature_date to place them in time", column="feature_date")
    return table.column("feature_date")


def applicable(table: pa.Table) -> list[RequestFeature]:
    """The request-time features whose stored inputs ``table`` has (a contract without them has none)."""
    names = set(table.column_names)
    return [f for f in REQUEST_FEATURES if set(f.inputs) <= names]


def request_feature_names(table: pa.Table) -> list[str]:
    """The names of :func:`applicable` features, in :data:`REQUEST_FEATURES` order."""
    return [f.name for f in applicable(table)]


def with_request_features(table: pa.Table, request_time: datetime) -> pa.Table:
    """``table`` with the request-time features its columns allow (the service, for any contract)."""
    return add_request_features(table, request_time) if applicable(table) == list(REQUEST_FEATURES) else table


def model_inputs(batch: pa.Table, features: list[str], request_time: datetime) -> pa.Table:
    """What the service hands the model: the served ``features`` and the request-time features, computed
    at ``request_time`` by the rule training used."""
    return add_request_features(batch, request_time).select([*features, *REQUEST_FEATURE_NAMES])
