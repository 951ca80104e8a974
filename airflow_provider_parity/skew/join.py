"""The point-in-time (as-of) join of logged requests with offline feature rows, in numpy.

For each request: the offline row of the same entity with the newest event time at or before
``served_at`` (a row stamped exactly at ``served_at`` counts: it was there). No such row is a
"missing offline" request. Entities become dense integer codes (Arrow's dictionary encoding,
shared by both sides), offline event times become ranks, and one ``searchsorted`` over the
sorted ``code * M + rank`` pairs answers every request at once: O((n + m) log m), no per-entity
loop, a few hundred milliseconds for a million requests against a million rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_parity.exceptions import DataError, SchemaMismatchError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

MICROS_PER_DAY = 86_400_000_000


@dataclass(frozen=True)
class AsOfMatch:
    """Which offline row each request reads.

    Attributes:
        offline_row: per request, the offline row index, or -1 when none is as of its time.
        entity: per request, a dense entity code (equal codes, same entity); -1 for an entity
            the offline table never had.
    """

    offline_row: npt.NDArray[np.int64]
    entity: npt.NDArray[np.int64]

    @property
    def matched(self) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = self.offline_row >= 0
        return result


def plain(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array of plain values (dictionary columns decoded)."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    return array


def _codes(log: pa.Array, offline: pa.Array, name: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Dense codes of one key column on both sides (-1: null offline key, or a log value never seen offline)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(offline)
    if log.type != offline.type:
        try:
            log = log.cast(offline.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise SchemaMismatchError(f"key column {name!r} is {log.type} in the serving log but {offline.type} "
                                      "in the offline table", column=name) from None
    off = encoded.indices.fill_null(-1).to_numpy().astype("int64")
    on = pc.index_in(log, value_set=encoded.dictionary).fill_null(-1).to_numpy().astype("int64")
    return on, off, len(encoded.dictionary)


def entity_codes(log: pa.Table, offline: pa.Table, keys: Sequence[str]) -> tuple[npt.NDArray[np.int64],
                                                                                  npt.NDArray[np.int64]]:
    """Dense entity codes for the log's and the offline table's rows (-1: unmatched or null key)."""
    import numpy as np

    log_codes = off_codes = None
    for name in keys:
        on, off, size = _codes(plain(log[name]), plain(offline[name]), name)
        if log_codes is None or off_codes is None:
            log_codes, off_codes = on, off
            continue
        # Two columns as one code: pair them, then make the pairs dense again (no overflow, any key width).
        valid_off = (off_codes >= 0) & (off >= 0)
        dense = np.unique(off_codes[valid_off] * size + off[valid_off])
        off_codes = np.where(valid_off, np.searchsorted(dense, off_codes * size + off), -1)
        if dense.size == 0:
            log_codes = np.full(len(on), -1, dtype="int64")
            continue
        pairs_on = log_codes * size + on
        position = np.minimum(np.searchsorted(dense, pairs_on), len(dense) - 1)
        found = (log_codes >= 0) & (on >= 0) & (dense[position] == pairs_on)
        log_codes = np.where(found, position, -1)
    assert log_codes is not None and off_codes is not None  # keys is never empty
    return log_codes, off_codes


def micros(column: pa.ChunkedArray, name: str, side: str) -> npt.NDArray[np.int64]:
    """A timestamp-with-zone or date column as UTC microseconds since the epoch.

    Raises:
        DataError: not a timestamp or a date, a timestamp without a time zone, or a null.
    """
    import pyarrow as pa

    array = plain(column)
    kind = array.type
    if array.null_count:
        raise DataError(f"column {name!r} of the {side} has {array.null_count} null(s): every row needs a time",
                        column=name)
    if pa.types.is_date(kind):
        days = array.cast(pa.int32()).to_numpy().astype("int64")
        result: npt.NDArray[np.int64] = days * MICROS_PER_DAY
        return result
    if not pa.types.is_timestamp(kind):
        raise DataError(f"column {name!r} of the {side} is {kind}, not a timestamp", column=name)
    if kind.tz is None:
        raise DataError(f"column {name!r} of the {side} is a timestamp without a time zone: a naive time is "
                        "ambiguous, store UTC (e.g. timestamp[us, tz=UTC])", column=name)
    # Sub-microsecond precision is dropped on both sides alike.
    values = array.cast(pa.timestamp("us", tz="UTC"), safe=False).cast(pa.int64())
    out: npt.NDArray[np.int64] = values.to_numpy().astype("int64")
    return out


def _positions(off_time: npt.NDArray[np.int64], log_time: npt.NDArray[np.int64], entities: int) -> tuple[
        npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Offline and log times on one axis where an offline row's position is >= 1 and a request's counts
    the offline instants at or before it (0: before them all): ``(offline, log, width)``.

    Microseconds since the oldest offline time when ``entity * width + position`` fits in int64 (the
    usual case: no sort); dense ranks of the offline times otherwise (years of history, many entities).
    """
    import numpy as np

    low, high = int(off_time.min()), int(off_time.max())
    span = high - low + 1
    if (entities + 1) * (span + 1) < 2**62:
        return off_time - low + 1, np.clip(log_time - low + 1, 0, span), span + 1
    instants = np.unique(off_time)
    return (np.searchsorted(instants, off_time) + 1, np.searchsorted(instants, log_time, side="right"),
            len(instants) + 1)


def asof_match(log_entity: npt.NDArray[np.int64], log_time: npt.NDArray[np.int64],
               off_entity: npt.NDArray[np.int64], off_time: npt.NDArray[np.int64], *,
               as_of_column: str = "event time") -> AsOfMatch:
    """Each request's offline row: same entity, newest event time <= its time.

    Raises:
        DataError: two offline rows of one entity share an event time (the value as of then is ambiguous).
    """
    import numpy as np

    known = np.flatnonzero(off_entity >= 0)
    if known.size == 0:
        return AsOfMatch(offline_row=np.full(len(log_entity), -1, dtype="int64"), entity=log_entity)
    entities = int(off_entity[known].max()) + 1
    off_pos, log_pos, width = _positions(off_time[known], log_time, entities)
    composite = off_entity[known] * width + off_pos
    order = np.argsort(composite, kind="stable")
    ordered = composite[order]
    ties = int(np.count_nonzero(ordered[1:] == ordered[:-1]))
    if ties:
        raise DataError(f"the offline table has {ties} row(s) sharing entity and {as_of_column!r} with another: "
                        "the value as of that time is ambiguous")
    # The last offline row at or before (entity, time); a position of 0 lands on the previous entity: a miss.
    position = np.searchsorted(ordered, log_entity * width + log_pos, side="right") - 1
    candidate = known[order[np.maximum(position, 0)]]
    hit = (position >= 0) & (log_entity >= 0) & (off_entity[candidate] == log_entity)
    return AsOfMatch(offline_row=np.where(hit, candidate, -1).astype("int64"), entity=log_entity)

