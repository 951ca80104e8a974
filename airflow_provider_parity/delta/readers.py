"""The ``deltalake`` engine: read a pinned version with delta-rs, no JVM.

Reads go through a pyarrow dataset over the version's files, so
:func:`iter_batches` streams record batches and memory stays flat whatever the
table's size; :func:`read_arrow` and :func:`read_pandas` are conveniences for
tables that fit in memory.

Example:
    >>> for batch in iter_batches("/data/lake/customers", version=12, columns=["id", "tenure_days"]):
    ...     consume(batch)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from airflow_provider_parity.delta.snapshot import open_table, uses_column_mapping, vacuumed_error
from airflow_provider_parity.delta.storage import normalize_table_uri, redact_uri, store_outage
from airflow_provider_parity.exceptions import DataError, EngineError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as pads
    from deltalake import DeltaTable

DEFAULT_BATCH_SIZE = 64 * 1024


def arrow_dataset(table: DeltaTable, **kwargs: Any) -> pads.Dataset:
    """``table.to_pyarrow_dataset(**kwargs)``, reading a local table through Arrow's own filesystem.

    delta-rs's default is a Python-implemented filesystem that Arrow's I/O threads call back
    into; a process that read through it aborts at exit about one time in two ("terminate
    called without an active exception", seen on ``parity outcomes``). Object stores keep
    delta-rs's filesystem: it understands the same storage options as the log reader.
    """
    import pyarrow.fs as pafs

    from airflow_provider_parity.delta.storage import storage_kind

    if storage_kind(table.table_uri) == "local":
        root = url2pathname(urlsplit(table.table_uri).path) if table.table_uri.startswith("file:") else table.table_uri
        kwargs["filesystem"] = pafs.SubTreeFileSystem(root, pafs.LocalFileSystem())
    return table.to_pyarrow_dataset(**kwargs)


def open_dataset(
    table_uri: str,
    version: int | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
) -> pads.Dataset:
    """A pyarrow dataset over one version of a Delta table (see :func:`open_versioned_dataset`)."""
    return open_versioned_dataset(table_uri, version, storage_options=storage_options, columns=columns)[0]


def open_versioned_dataset(
    table_uri: str,
    version: int | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
) -> tuple[pads.Dataset, int]:
    """A pyarrow dataset over one version of a Delta table, with that version (the latest when None).

    Raises:
        SnapshotError: no such table or version.
        DataError: a requested column does not exist in that version.
        EngineError: the version uses a feature delta-rs' pyarrow path cannot read.
    """
    from deltalake.exceptions import DeltaError

    uri = normalize_table_uri(table_uri)
    table = open_table(uri, version, storage_options=storage_options)
    if uses_column_mapping(table):
        # delta-rs's pyarrow dataset looks columns up by their logical names, which column mapping
        # replaced in the files by physical ones: it would read every value as null. Refuse instead.
        raise EngineError(
            f"{redact_uri(uri)} version {table.version()} uses column mapping, which delta-rs's pyarrow reader "
            "reads as nulls; read it with the spark engine (delta-spark jars)"
        )
    try:
        dataset = arrow_dataset(table)
    except (DeltaError, ValueError) as exc:  # e.g. deletion vectors, unsupported reader features
        raise EngineError(
            f"{redact_uri(uri)} version {table.version()}: delta-rs cannot read it as a pyarrow dataset: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    if columns is not None:
        unknown = [c for c in columns if c not in dataset.schema.names]
        if unknown:
            raise DataError(
                f"version {table.version()} has no column {unknown[0]!r}; columns are {', '.join(dataset.schema.names)}",
                source=redact_uri(uri),
                column=unknown[0],
            )
    return dataset, int(table.version())


def iter_batches(
    table_uri: str,
    version: int | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[pa.RecordBatch]:
    """Stream one version of a Delta table as Arrow record batches.

    Args:
        table_uri: the table root.
        version: the version to read; the latest when None.
        storage_options: delta-rs storage options.
        columns: the columns to read, in this order; all when None.
        batch_size: at most this many rows per batch.

    Yields:
        ``pyarrow.RecordBatch`` objects with the version's schema (or ``columns``).

    Raises:
        SnapshotError: no such table or version, or the version was vacuumed.
        DataError: an unknown column.
    """
    dataset = open_dataset(table_uri, version, storage_options=storage_options, columns=columns)
    yield from _stream(dataset, table_uri, version, storage_options, columns, batch_size)


def _stream(
    dataset: pads.Dataset,
    table_uri: str,
    version: int | None,
    storage_options: Mapping[str, str] | None,
    columns: list[str] | None,
    batch_size: int,
) -> Iterator[pa.RecordBatch]:
    try:
        yield from dataset.to_batches(columns=columns, batch_size=batch_size)
    except FileNotFoundError:
        raise vacuumed_read_error(table_uri, version, storage_options) from None
    except OSError as exc:
        # Object stores report a vacuumed file as a generic I/O error.
        if "not found" in str(exc).lower():
            raise vacuumed_read_error(table_uri, version, storage_options) from None
        outage = store_outage(table_uri, exc)
        if outage is not None:
            raise outage from None
        raise


def read_arrow(
    table_uri: str,
    version: int | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
) -> pa.Table:
    """Read one version of a Delta table into an Arrow table.

    Args:
        table_uri: the table root.
        version: the version to read; the latest when None.
        storage_options: delta-rs storage options.
        columns: the columns to read; all when None.

    Returns:
        A ``pyarrow.Table`` (empty, with the version's schema, when the version has no rows).

    Raises:
        SnapshotError: no such table or version, or the version was vacuumed.
        DataError: an unknown column.
    """
    import pyarrow as pa

    dataset = open_dataset(table_uri, version, storage_options=storage_options, columns=columns)
    schema = dataset.schema if columns is None else pa.schema([dataset.schema.field(c) for c in columns])
    batches = _stream(dataset, table_uri, version, storage_options, columns, DEFAULT_BATCH_SIZE)
    return pa.Table.from_batches(list(batches), schema=schema)


def read_pandas(
    table_uri: str,
    version: int | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """:func:`read_arrow` as a pandas DataFrame."""
    return read_arrow(table_uri, version, storage_options=storage_options, columns=columns).to_pandas()


def vacuumed_read_error(table_uri: str, version: int | None, storage_options: Mapping[str, str] | None) -> Exception:
    """The error for a read that found a data file gone: the version was vacuumed."""
    latest = open_table(normalize_table_uri(table_uri), storage_options=storage_options)
    return vacuumed_error(table_uri, version if version is not None else latest.version(), latest)
