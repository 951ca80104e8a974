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
from datetime import UTC, datetime
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


def _request_days(request_time: datetime | pa.Array | pa.ChunkedArray, rows: int) -> pa.Array:
    """The request's UTC date, as days since the epoch, one per row."""
    import pyarrow as pa

    if isinstance(request_time, datetime):
        if request_time.tzinfo is None:
            raise DataError("the request time has no time zone: give it in UTC")
        day = (request_time.astimezone(UTC).date() - datetime(1970, 1, 1, tzinfo=UTC).date()).days
        return pa.array([day] * rows, pa.int64())
    array = request_time.combine_chunks() if isinstance(request_time, pa.ChunkedArray) else request_time
    if len(array) != rows:
        raise DataError(f"{len(array)} request time(s) for {rows} row(s)")
    if pa.types.is_date(array.type):
        return array.cast(pa.date32()).cast(pa.int32()).cast(pa.int64())
    if not pa.types.is_timestamp(array.type) or array.type.tz is None:
        raise DataError(f"request times are {array.type}: give timestamps with a time zone (UTC) or dates")
    # The date in UTC, whatever zone the times were given in.
    return array.cast(pa.timestamp("us", tz="UTC")).cast(pa.date32()).cast(pa.int32()).cast(pa.int64())


def tenure_days_at_request(tenure_days: pa.Array, feature_date: pa.Array, request_days: pa.Array) -> pa.Array:
    """``tenure_days + max(0, request day - feature date)`` as int64; null where tenure or date is null.

    A request dated before its feature date (a clock running behind) adds nothing: tenure never shrinks.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    feature_days = feature_date.cast(pa.date32()).cast(pa.int32()).cast(pa.int64())
    elapsed = pc.max_element_wise(pc.subtract(request_days, feature_days), pa.scalar(0, pa.int64()), skip_nulls=False)
    result: pa.Array = pc.add(tenure_days.cast(pa.int64()), elapsed)
    return result


def add_request_features(table: pa.Table, request_time: datetime | pa.Array | pa.ChunkedArray) -> pa.Table:
    """``table`` with every request-time feature appended (replaced when already there).

    Args:
        table: rows holding each feature's inputs (stored columns, as the store or the offline table
            types them: ``tenure_days`` integer, ``feature_date`` date).
        request_time: one time (the service: when it serves) or one per row (a timestamp with a
            zone, or a date: the training-set build).

    Raises:
        DataError: an input column is missing, or the request time has no zone or the wrong length.
    """
    missing = [c for f in REQUEST_FEATURES for c in f.inputs if c not in table.column_names]
    if missing:
        raise DataError(f"request-time features need column {missing[0]!r} (columns: {', '.join(table.column_names)})",
                        column=missing[0])
    days = _request_days(request_time, table.num_rows)
    value = tenure_days_at_request(table.column("tenure_days").combine_chunks(),
                                   table.column("feature_date").combine_chunks(), days)
    if TENURE_AT_REQUEST.name in table.column_names:
        return table.set_column(table.column_names.index(TENURE_AT_REQUEST.name), TENURE_AT_REQUEST.name, value)
    return table.append_column(TENURE_AT_REQUEST.name, value)


def training_request_times(table: pa.Table) -> pa.ChunkedArray:
    """Training rows' request times: each row is a request made on its feature date."""
    if "feature_date" not in table.column_names:
        raise DataError("training rows need their feature_date to place them in time", column="feature_date")
    return table.column("feature_date")


def model_inputs(batch: pa.Table, features: list[str], request_time: datetime) -> pa.Table:
    """What the service hands the model: the served ``features`` and the request-time features, computed
    at ``request_time`` by the rule training used."""
    return add_request_features(batch, request_time).select([*features, *REQUEST_FEATURE_NAMES])
