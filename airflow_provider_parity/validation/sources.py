"""Reading the data a gate checks, as an Arrow table, with one clear error per failure."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import DataError

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class LoadedData:
    table: pa.Table
    source: str
    """A URI or path naming the data, for messages, reports and lineage."""
    version: int | None = None
    """The Delta version read, when the source is a Delta table."""
    kind: str = "arrow"
    fingerprint: str | None = None
    """The Delta snapshot's fingerprint, when the source is a Delta table."""

    @property
    def schema(self) -> pa.Schema:
        return self.table.schema


def is_delta_table(path: str, storage_options: dict[str, str] | None = None) -> bool:
    """True when ``path`` holds a Delta table (see :func:`airflow_provider_parity.sources.source_kind`)."""
    from airflow_provider_parity.sources import source_kind

    return source_kind(path, storage_options) == "delta"


def read_delta(uri: str, version: int | None = None, *, storage_options: dict[str, str] | None = None,
               columns: list[str] | None = None) -> LoadedData:
    """Read a Delta table (the latest version, or a pinned one) into Arrow."""
    from airflow_provider_parity.delta import read_arrow, resolve_snapshot

    snapshot = resolve_snapshot(uri, version=version, storage_options=storage_options)
    table = read_arrow(uri, snapshot.version, storage_options=storage_options, columns=columns)
    return LoadedData(table, uri, snapshot.version, "delta", snapshot.fingerprint)


def read_parquet(path: str, *, columns: list[str] | None = None) -> LoadedData:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise DataError(f"cannot read as parquet: {reason}", source=path) from None
    return LoadedData(table, path if "://" in path else os.path.abspath(path), None, "parquet")


def check_path(path: str) -> None:
    """Raise ``DataError`` when a local ``path`` is missing or unreadable (URIs are checked on read)."""
    if "://" not in path and not os.path.exists(path):
        raise DataError("path does not exist", source=path)
    if "://" not in path and not os.access(path, os.R_OK):
        raise DataError("path is not readable (permission denied)", source=path)


def load_data(data: Any, *, version: int | None = None, storage_options: dict[str, str] | None = None,
              columns: list[str] | None = None) -> LoadedData:
    """Load what a gate validates.

    Args:
        data: a path (a parquet file or folder, or a Delta table root, local or a URI),
            a pyarrow Table, a pandas DataFrame, or a callable returning one of those.
        version: the Delta version to read (None: latest). Only for Delta tables.
        storage_options: object-store credentials for Delta tables.
        columns: read only these columns (None: all).

    Raises:
        DataError: the path does not exist, cannot be read, or the object is no table.
    """
    from airflow_provider_parity.validation.native import to_arrow

    if callable(data) and not isinstance(data, (str, os.PathLike)):
        data = data()
    if isinstance(data, (str, os.PathLike)):
        path = os.fspath(data)
        check_path(path)
        if is_delta_table(path, storage_options):
            return read_delta(path, version, storage_options=storage_options, columns=columns)
        if version is not None:
            raise DataError(f"version {version} was given but this is not a Delta table (no _delta_log)", source=path)
        return read_parquet(path, columns=columns)
    try:
        table = to_arrow(data)
    except Exception as exc:  # pyarrow raises a zoo of types for unconvertible frames
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise DataError(f"cannot convert {type(data).__name__} to Arrow: {reason}", source="dataframe") from None
    return LoadedData(table if columns is None else table.select(columns), "dataframe", None, "dataframe")


LoadCallable = Callable[[], Any]
