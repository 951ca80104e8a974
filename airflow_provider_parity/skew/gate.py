"""``run_skew``: open both sides, join every request as of its time, compare every feature.

The I/O and the decisions are apart: :mod:`.settings` decides what is compared, :mod:`.join`
matches requests to offline rows, :mod:`.compare` judges values; this module reads the data
and assembles the :class:`~airflow_provider_parity.skew.result.SkewResult`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.skew.result import SkewExample, SkewResult, json_value
from airflow_provider_parity.skew.settings import SERVED_AT, SkewSettings, resolve_settings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa
    import pyarrow.dataset as pads

    from airflow_provider_parity.contracts.model import Contract


@dataclass(frozen=True)
class Side:
    """One side of the comparison, opened but not read: its schema is checked before any row moves."""

    uri: str
    dataset: pads.Dataset
    version: int | None = None
    fingerprint: str | None = None

    @property
    def schema(self) -> pa.Schema:
        return self.dataset.schema

    @property
    def description(self) -> str:
        from airflow_provider_parity.delta.storage import redact_uri

        uri = redact_uri(self.uri)
        return uri if self.version is None else f"{uri}@v{self.version}"

    def read(self, columns: Sequence[str], where: pads.Expression | None = None) -> pa.Table:
        try:
            return self.dataset.to_table(columns=list(dict.fromkeys(columns)), filter=where)
        except OSError as exc:  # a file the log names was removed (vacuumed) or cannot be read
            raise DataError(f"cannot read: {str(exc).splitlines()[0]}", source=self.description) from None


def open_side(uri: str, *, version: int | None = None, storage_options: Mapping[str, str] | None = None,
              role: str = "data") -> Side:
    """A Delta table (``version`` pinned, else the latest) or Parquet, through the project's one source rule.

    Raises:
        DataError: nothing readable at ``uri``, or a version for something that is not Delta.
        SnapshotError: no such Delta version.
    """
    import pyarrow as pa
    import pyarrow.dataset as pads

    from airflow_provider_parity.delta.storage import redact_uri
    from airflow_provider_parity.sources import source_kind

    text = os.fspath(uri)
    if "://" not in text and not os.path.exists(text):
        raise DataError(f"the {role} does not exist", source=text)
    kind = source_kind(text, storage_options)
    if kind == "delta":
        from airflow_provider_parity.delta import resolve_snapshot
        from airflow_provider_parity.delta.readers import open_dataset

        snapshot = resolve_snapshot(text, version=version, storage_options=storage_options)
        dataset = open_dataset(text, snapshot.version, storage_options=storage_options)
        return Side(text, dataset, snapshot.version, snapshot.fingerprint)
    if kind == "profile":
        raise DataError(f"the {role} must be rows (Delta or Parquet), not a stored profile", source=redact_uri(text))
    if version is not None:
        raise DataError(f"version {version} was given but the {role} is not a Delta table (no _delta_log)",
                        source=redact_uri(text))
    try:
        return Side(text, pads.dataset(text, format="parquet"))
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"cannot read the {role} as parquet: {str(exc).splitlines()[0]}",
                        source=redact_uri(text)) from None


def _window(schema: pa.Schema, served_at: str, between: tuple[datetime, datetime] | None,
            source: str) -> pads.Expression | None:
    """``start <= served_at < end`` as a scan filter (a serving log grows forever)."""
    if between is None:
        return None
    import pyarrow as pa
    import pyarrow.dataset as pads

    if served_at in schema.names and not pa.types.is_timestamp(schema.field(served_at).type):
        raise DataError(f"column {served_at!r} of the serving log is {schema.field(served_at).type}, not a timestamp",
                        source=source, column=served_at)
    stamp = pa.timestamp("us", tz="UTC")
    field = pads.field(served_at)
    return (field >= pa.scalar(between[0], stamp)) & (field < pa.scalar(between[1], stamp))


def _check_keys(log: pa.Table, keys: Sequence[str], source: str) -> None:
    for key in keys:
        if log[key].null_count:
            raise DataError(f"{log[key].null_count} logged request(s) have a null {key!r}: a request names its entity",
                            source=source, column=key)


def _missing_examples(log: pa.Table, rows: npt.NDArray[np.int64], settings: SkewSettings) -> list[SkewExample]:
    import pyarrow as pa

    if rows.size == 0:
        return []
    picked = log.take(pa.array(rows, pa.int64()))
    ids = picked["request_id"].to_pylist() if "request_id" in picked.column_names else [None] * len(rows)
    keys = {k: picked[k].to_pylist() for k in settings.keys}
    return [SkewExample(entity={k: json_value(v[i]) for k, v in keys.items()},
                        served_at=str(json_value(picked[settings.served_at][i].as_py())),
                        request_id=None if ids[i] is None else str(ids[i])) for i in range(len(rows))]


def _compare(log: pa.Table, offline: pa.Table, settings: SkewSettings, log_source: str) -> dict[str, Any]:
    """The join and the per-feature comparison, as the fields of a :class:`SkewResult`."""
    import numpy as np
    import pyarrow as pa

    from airflow_provider_parity.skew.compare import Joined, compare_feature
    from airflow_provider_parity.skew.join import asof_match, entity_codes, micros

    _check_keys(log, settings.keys, log_source)
    served = micros(log[settings.served_at], settings.served_at, "serving log")
    event = micros(offline[settings.as_of_column], settings.as_of_column, "offline table")
    log_entity, off_entity = entity_codes(log, offline, settings.keys)
    match = asof_match(log_entity, served, off_entity, event, as_of_column=settings.as_of_column)
    hit = match.matched
    rows = np.flatnonzero(hit)
    missing = np.flatnonzero(~hit)
    joined_log = log if rows.size == log.num_rows else log.take(pa.array(rows, pa.int64()))
    entity = match.entity[rows]
    joined = Joined(log=joined_log, offline=offline.take(pa.array(match.offline_row[rows], pa.int64())),
                    entity=entity, entities=int(np.count_nonzero(np.bincount(entity))) if entity.size else 0,
                    settings=settings)
    # An entity never seen offline has code -1 for every request: count it by its key values instead.
    missing_keys = log.select(list(settings.keys)).take(pa.array(missing, pa.int64()))
    return {
        "requests": log.num_rows, "matched": int(rows.size), "missing": int(missing.size),
        "missing_entities": missing_keys.group_by(list(settings.keys)).aggregate([]).num_rows if missing.size else 0,
        "missing_examples": _missing_examples(log, missing[: settings.max_examples], settings),
        "features": [compare_feature(joined, rule) for rule in settings.features],
    }


def run_skew(log: str, offline: str, *, contract: Contract | None = None, offline_version: int | None = None,
             log_version: int | None = None, keys: Sequence[str] | None = None, as_of_column: str | None = None,
             served_at: str = SERVED_AT, max_examples: int = 10, storage_options: Mapping[str, str] | None = None,
             served_between: tuple[datetime, datetime] | None = None) -> SkewResult:
    """Compare what was served with the offline features of the same entities as of the requests' times.

    Args:
        log: the serving log (Delta table or Parquet): ``request_id``, the entity keys, ``served_at``
            (timestamp with a zone), the features as served, optionally ``model_version``.
        offline: the offline feature table (Delta or Parquet) with the keys and an event-time column.
        contract: features, entity keys (its primary key minus date/timestamp columns), the event-time
            column (``role: event_time``), tolerances and the skew policy; inferred from the schemas without it.
        offline_version: the offline Delta version to compare with (pin the one training read).
        log_version: the serving log's Delta version (latest when None).
        keys: the entity key columns (overrides the contract).
        as_of_column: the offline event-time column (overrides the contract; default ``feature_date``).
        served_at: the log's request-time column.
        max_examples: examples kept per feature and for missing offline rows.
        storage_options: object-store options for Delta URIs.
        served_between: only requests with ``start <= served_at < end`` (aware datetimes).

    Returns:
        The :class:`SkewResult`; ``verdict`` is ``failed`` when a feature's mismatched-entity share or the
        share of requests without an offline row exceeds the policy.

    Raises:
        DataError: a side is missing or unreadable, a time column is not a timestamp with a zone, a null key.
        SchemaMismatchError: a key, ``served_at``, the event-time column or a contract feature is missing,
            or a column's types differ beyond a safe cast.
        ConfigurationError: no entity key or event-time column can be determined.
        SnapshotError: no such Delta version.
    """
    started = time.perf_counter()
    log_side = open_side(log, version=log_version, storage_options=storage_options, role="serving log")
    off_side = open_side(offline, version=offline_version, storage_options=storage_options, role="offline table")
    settings = resolve_settings(log_side.schema, off_side.schema, contract=contract, keys=keys,
                                as_of_column=as_of_column, max_examples=max_examples, served_at=served_at,
                                log_source=log_side.description, offline_source=off_side.description)
    features = [f.name for f in settings.features]
    extra = [c for c in ("request_id",) if c in log_side.schema.names]
    log_table = log_side.read([*settings.keys, served_at, *extra, *features],
                              _window(log_side.schema, served_at, served_between, log_side.description))
    off_table = off_side.read([*settings.keys, settings.as_of_column, *features])
    fields = _compare(log_table, off_table, settings, log_side.description)
    window = None if served_between is None else f"{served_between[0].isoformat()} <= {served_at} < " \
                                                 f"{served_between[1].isoformat()}"
    from airflow_provider_parity.delta.storage import redact_uri

    return SkewResult(log=log_side.description, log_uri=redact_uri(log_side.uri), offline=off_side.description,
                      keys=list(settings.keys),
                      as_of_column=settings.as_of_column, max_missing_rate=settings.max_missing_rate,
                      log_version=log_side.version, offline_version=off_side.version,
                      offline_fingerprint=off_side.fingerprint, contract=contract.ref if contract else None,
                      window=window, duration_seconds=round(time.perf_counter() - started, 3), **fields)
