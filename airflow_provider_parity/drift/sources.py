"""Where the reference and current data come from: parquet, a Delta version, or a stored profile.

Everything is read as a stream of record batches, so profiling memory stays flat.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_parity.drift.profile import DatasetProfile
from airflow_provider_parity.exceptions import DataError, shorten

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
    storage_options: Mapping[str, str] | None = None
    """Object-store options, to name a vacuumed version when a read finds its files gone."""

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
        """Stream the data, only ``columns`` when given.

        Raises:
            DataError: a part file that is corrupt or of another schema.
            SnapshotError: a Delta version whose files are gone (vacuumed).
        """
        try:
            yield from self._batches(columns, batch_size)
        except (OSError, pa.ArrowException) as exc:
            raise self._read_error(exc) from None

    def _same_schema(self, path: str, schema: pa.Schema, columns: list[str] | None) -> None:
        """A part whose columns have other types than the first part's cannot be profiled with it."""
        assert self.file_schema is not None
        for name in columns or self.file_schema.names:
            first = self.file_schema.field(name).type if name in self.file_schema.names else None
            here = schema.field(name).type if name in schema.names else None
            if first != here:
                raise DataError(f"part {os.path.relpath(path, self.uri) if os.path.isdir(self.uri) else path} has column "
                                f"{name!r} as {here}, the first part as {first}: parts of one dataset must share a schema",
                                source=self.uri, column=name)

    def _read_error(self, exc: Exception) -> Exception:
        """A part file that is corrupt, of another schema, or gone (a vacuumed Delta version)."""
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if self.kind == "delta" and (isinstance(exc, FileNotFoundError) or "not found" in reason.lower()):
            from airflow_provider_parity.delta.readers import vacuumed_read_error

            return vacuumed_read_error(self.uri, self.version, self.storage_options)
        return DataError(f"cannot read as {self.kind}: {reason}", source=redact_uri(self.uri))

    def _batches(self, columns: list[str] | None, batch_size: int) -> Iterator[pa.RecordBatch]:
        if self.dataset is None and self.where is None:
            import pyarrow.parquet as pq

            for path in self.files:
                # Strings are read as dictionaries: counting values then never materialises them.
                handle = pq.ParquetFile(path, read_dictionary=self.dictionary_columns, pre_buffer=False)
                self._same_schema(path, handle.schema_arrow, columns)
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


def detect_kind(uri: str, storage_options: Mapping[str, str] | None = None) -> Literal["parquet", "delta", "profile"]:
    """``profile`` for a ``.json`` file, ``delta`` for a table with a ``_delta_log`` (local or on object
    storage), else ``parquet``: the one rule every gate uses (:mod:`airflow_provider_parity.sources`)."""
    from airflow_provider_parity.sources import source_kind

    return source_kind(uri, storage_options)


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
    resolved = detect_kind(uri, storage_options) if kind == "auto" else kind
    if resolved == "profile":
        return load_profile(uri, storage_options)
    if resolved == "delta":
        from airflow_provider_parity.delta.readers import open_versioned_dataset

        # The version actually read (the latest when none was asked for) names the data in
        # reports and lineage: "the serving log" alone says nothing about which rows were judged.
        dataset, read_version = open_versioned_dataset(uri, version, storage_options=storage_options)
        return Source(uri=uri, kind="delta", dataset=dataset, version=read_version, storage_options=storage_options)
    if version is not None:
        raise DataError("a version applies to Delta tables only", source=redact_uri(uri))
    if "://" not in uri and not os.path.exists(uri):
        raise DataError("no such file or directory", source=uri)
    try:
        if "://" in uri:
            return _remote_parquet(uri)
        return _local_parquet(uri)
    except (OSError, pa.ArrowException) as exc:
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
            # Comparing nothing with nothing would pass: an empty folder is a wrong path, as for validate.
            raise DataError("no parquet files in this folder", source=uri)
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
    if isinstance(dataset, pads.FileSystemDataset) and not dataset.files:
        raise DataError("no parquet files in this folder", source=redact_uri(uri))
    return Source(uri=uri, kind="parquet", dataset=dataset)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"non-finite number {text[:40]}")
    return value


def _no_constant(text: str) -> float:
    raise ValueError(f"non-finite number {text}")


def load_profile(path: str, storage_options: Mapping[str, str] | None = None) -> DatasetProfile:
    """A stored profile (a local file or an object-store URI), refusing what would make the comparison meaningless.

    Raises:
        DataError: not JSON, NaN or infinite numbers, not a profile, or negative counts.
    """
    from airflow_provider_parity.artifacts import ArtifactStore, is_remote

    try:
        if is_remote(path):
            text = ArtifactStore(storage_options).read_text(path)
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        data = json.loads(text, parse_float=_finite_float, parse_constant=_no_constant)
    except FileNotFoundError:
        raise DataError("profile file not found", source=path) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise DataError(f"cannot read profile: {shorten(str(exc), 200)}", source=path) from None
    if not isinstance(data, dict):
        raise DataError(f"not a drift profile: a JSON {type(data).__name__}, expected an object", source=path)
    try:
        profile = DatasetProfile.from_dict(data)
    except DataError as exc:
        raise DataError(str(exc), source=path) from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
        raise DataError(f"malformed profile: {exc.__class__.__name__}: {shorten(str(exc), 200)}",
                        source=path) from None
    _check_counts(profile, path)
    return profile


def _check_counts(profile: DatasetProfile, path: str) -> None:
    for label, part in [("", profile), *profile.segments.items()]:
        counts = [("rows", part.rows)]
        for name, feature in part.features.items():
            counts += [(f"{name}.rows", feature.rows), (f"{name}.nulls", feature.nulls)]
            counts += [(f"{name}.counts", min(getattr(feature, "counts", {}).values(), default=0))]
        for what, value in counts:
            if value < 0:
                where = f"segment {label}: " if label else ""
                raise DataError(f"malformed profile: {where}{what} is negative ({value})", source=path)
