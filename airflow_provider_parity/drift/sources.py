"""Where the reference and current data come from: parquet, a Delta version, or a stored profile.

Everything is read as a stream of record batches, so profiling memory stays flat.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_parity.drift.profile import DatasetProfile
from airflow_provider_parity.exceptions import DataError

SourceKind = Literal["auto", "parquet", "delta", "profile"]


def redact_uri(uri: str) -> str:
    """The URI without credentials (``delta.storage.redact_uri``, imported only when the URI could have
    a scheme: the delta package costs a local parquet run 60 ms of imports)."""
    if ":" not in uri:
        return uri
    from airflow_provider_parity.delta.storage import redact_uri as redact

    return redact(uri)
BATCH_SIZE = 128 * 1024


@dataclass
class Source:
    """A dataset to profile: its schema, a description and a way to stream it.

    Local parquet files are read with ``pyarrow.parquet`` file by file (no
    ``pyarrow.dataset``, which imports pandas: a third of a second of every
    ``parity drift``); Delta tables, object stores and row filters go through
    a ``pyarrow.dataset.Dataset``.
    """

    uri: str
    kind: Literal["parquet", "delta"]
    dataset: Any = None
    """A ``pyarrow.dataset.Dataset`` (Delta, object stores), or None for local parquet ``files``."""
    version: int | None = None
    where: pc.Expression | None = None
    """A row filter applied while streaming (e.g. the last 24 hours of a serving log)."""
    files: list[str] = field(default_factory=list)
    file_schema: pa.Schema | None = None
    dictionary_columns: list[str] = field(default_factory=list)

    @property
    def schema(self) -> pa.Schema:
        if self.dataset is not None:
            return self.dataset.schema
        assert self.file_schema is not None
        return self.file_schema

    @property
    def description(self) -> str:
        """The URI without credentials, with ``@v<version>`` for a pinned Delta version."""
        uri = redact_uri(self.uri)
        uri = uri if self.version is None else f"{uri}@v{self.version}"
        return uri if self.where is None else f"{uri} where {self.where}"

    def _as_dataset(self) -> Any:
        if self.dataset is None:
            import pyarrow.dataset as pads

            fmt = pads.ParquetFileFormat(read_options={"dictionary_columns": self.dictionary_columns})
            self.dataset = pads.dataset(self.files, format=fmt)
        return self.dataset

    def batches(self, columns: list[str] | None = None, batch_size: int = BATCH_SIZE) -> Iterator[pa.RecordBatch]:
        """Stream the data, only ``columns`` when given."""
        if self.dataset is None and self.where is None:
            import pyarrow.parquet as pq

            for path in self.files:
                # Strings are read as dictionaries: counting values then never materialises them.
                handle = pq.ParquetFile(path, read_dictionary=self.dictionary_columns, pre_buffer=False)
                yield from handle.iter_batches(batch_size=batch_size, columns=columns)
            return
        import pyarrow.dataset as pads

        # No pre-buffering of whole row groups and little read-ahead: memory stays
        # at a few batches whatever the file or row-group size.
        yield from self._as_dataset().to_batches(
            columns=columns,
            filter=self.where,
            batch_size=batch_size,
            batch_readahead=1,
            fragment_readahead=1,
            fragment_scan_options=pads.ParquetFragmentScanOptions(pre_buffer=False),
        )

    def count_rows(self) -> int:
        """Rows in the source (from file metadata where possible)."""
        if self.dataset is None and self.where is None:
            import pyarrow.parquet as pq

            return sum(pq.ParquetFile(path).metadata.num_rows for path in self.files)
        return int(self._as_dataset().count_rows(filter=self.where))


def detect_kind(uri: str) -> Literal["parquet", "delta", "profile"]:
    """``profile`` for a ``.json`` file, ``delta`` for a directory with ``_delta_log``, else ``parquet``."""
    if uri.endswith(".json"):
        return "profile"
    if "://" not in uri and os.path.isdir(os.path.join(uri, "_delta_log")):
        return "delta"
    return "parquet"


def open_source(
    uri: str,
    *,
    kind: SourceKind = "auto",
    version: int | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> Source | DatasetProfile:
    """Open ``uri`` as a batch source, or load it when it is a stored profile.

    Args:
        uri: a parquet file or directory, a Delta table root, or a profile ``.json``.
        kind: what ``uri`` is; guessed from the path when ``auto``.
        version: the Delta version to pin (Delta only).
        storage_options: object-store options for Delta.

    Returns:
        A :class:`Source`, or the :class:`DatasetProfile` stored at ``uri``.

    Raises:
        DataError: nothing readable at ``uri``.
        SnapshotError: the Delta version does not exist.
    """
    resolved = detect_kind(uri) if kind == "auto" else kind
    if resolved == "profile":
        return DatasetProfile.load(uri)
    if resolved == "delta":
        from airflow_provider_parity.delta.readers import open_dataset

        dataset = open_dataset(uri, version, storage_options=storage_options)
        return Source(uri=uri, kind="delta", dataset=dataset, version=version)
    if version is not None:
        raise DataError("a version applies to Delta tables only", source=redact_uri(uri))
    if "://" not in uri and not os.path.exists(uri):
        raise DataError("no such file or directory", source=uri)
    try:
        if "://" in uri:
            return _remote_parquet(uri)
        return _local_parquet(uri)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(f"cannot read as parquet: {str(exc).splitlines()[0]}", source=redact_uri(uri)) from None


def _string_columns(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def _local_parquet(uri: str) -> Source:
    """A parquet file, or a folder of them (recursively; names starting with ``_`` or ``.`` skipped, as Spark writes)."""
    import pyarrow.parquet as pq

    if os.path.isdir(uri):
        files = []
        for root, dirs, names in os.walk(uri):
            dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")))
            files += [os.path.join(root, n) for n in sorted(names) if not n.startswith(("_", "."))]
        if not files:
            raise DataError("no parquet files in the folder", source=uri)
    else:
        files = [uri]
    schema = pq.read_schema(files[0])
    strings = _string_columns(schema)
    if strings:
        schema = pq.ParquetFile(files[0], read_dictionary=strings).schema_arrow
    return Source(uri=uri, kind="parquet", files=files, file_schema=schema, dictionary_columns=strings)


def _remote_parquet(uri: str) -> Source:
    import pyarrow.dataset as pads

    dataset = pads.dataset(uri, format="parquet")
    strings = _string_columns(dataset.schema)
    if strings:
        dataset = pads.dataset(uri, format=pads.ParquetFileFormat(read_options={"dictionary_columns": strings}))
    return Source(uri=uri, kind="parquet", dataset=dataset)
