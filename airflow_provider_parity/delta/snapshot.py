"""Pinning a Delta version and fingerprinting it from the log alone.

A :class:`Snapshot` is what a training run records: which table, which version,
when it was committed, its schema, row count and a fingerprint. The fingerprint is
a sha256 over the version's active file paths and sizes and its schema, computed
from the Delta log (checkpoint + commits) without opening a data file, so pinning a
table of thousands of files takes well under a second.

Example:
    >>> snap = resolve_snapshot("/data/lake/customers", as_of="2024-05-01T00:00:00Z")
    >>> snap.version, snap.fingerprint[:12]
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.delta.asof import (
    Commit,
    isoformat_utc,
    parse_timestamp,
    version_at,
)
from airflow_provider_parity.delta.storage import (
    normalize_table_uri,
    redact_uri,
    storage_kind,
    store_outage,
    with_bounded_waits,
)
from airflow_provider_parity.exceptions import SnapshotError

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

# Delta's defaults when a table does not set them (PROTOCOL.md, table properties).
RETENTION_DEFAULTS = {
    "delta.logRetentionDuration": "interval 30 days",
    "delta.deletedFileRetentionDuration": "interval 1 week",
}


@dataclass(frozen=True)
class Snapshot:
    """A pinned version of a Delta table. ``dataclasses.asdict`` gives its JSON form."""

    uri: str
    version: int
    commit_timestamp: str
    """ISO 8601 UTC, e.g. ``2024-05-01T00:00:00.000000Z``."""
    schema: list[tuple[str, str]]
    """(column, Delta type) pairs; nested types as their Delta JSON."""
    row_count: int | None
    """From the log's file statistics; None when a file has no statistics."""
    fingerprint: str
    num_files: int
    total_bytes: int = 0
    operation: str | None = None
    """The commit's operation (WRITE, MERGE, ...)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        """Rebuild a snapshot from :meth:`to_dict` output (e.g. an XCom or a stored pin)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["schema"] = [(str(name), str(kind)) for name, kind in values.get("schema", [])]
        return cls(**values)


def fingerprint_files(paths: list[str], sizes: list[int], schema_json: str) -> str:
    """sha256 over sorted ``path<TAB>size`` lines and the canonical schema JSON.

    Paths are the log's (relative to the table root), so a copied table keeps its
    fingerprint; the version number is left out, so two versions with the same
    files and schema (e.g. an empty commit) share a fingerprint: nothing changed.
    """
    digest = hashlib.sha256()
    for path, size in sorted(zip(paths, sizes, strict=True)):
        digest.update(f"{path}\t{size}\n".encode())
    canonical = json.dumps(json.loads(schema_json), sort_keys=True, separators=(",", ":"))
    digest.update(b"schema\t")
    digest.update(canonical.encode())
    return digest.hexdigest()


def open_table(
    table_uri: str, version: int | None = None, *, storage_options: Mapping[str, str] | None = None
) -> DeltaTable:
    """Load a Delta table, at ``version`` or the latest, turning delta-rs errors into one-line ones.

    Raises:
        SnapshotError: no table at the URI, the version does not exist, or its log expired.
    """
    from deltalake import DeltaTable
    from deltalake.exceptions import DeltaError, TableNotFoundError

    options = with_bounded_waits(table_uri, storage_options)
    if version is not None and version < 0:
        raise SnapshotError(f"{redact_uri(table_uri)}: version {version} is negative")
    try:
        return DeltaTable(table_uri, version=version, storage_options=options or None)
    except TableNotFoundError as exc:
        if version is None or not _table_exists(table_uri, options):
            raise SnapshotError(f"no Delta table at {redact_uri(table_uri)}: {_first_line(exc)}") from None
        raise missing_version_error(table_uri, version, options) from None
    except (DeltaError, OSError) as exc:  # a bare DeltaError for an unknown version
        outage = store_outage(table_uri, exc)
        if outage is not None:
            raise outage from None
        if version is None:
            raise SnapshotError(f"cannot load Delta table {redact_uri(table_uri)}: {_first_line(exc)}") from None
        raise missing_version_error(table_uri, version, options) from None


def uses_column_mapping(table: DeltaTable) -> bool:
    """True when the version's columns are stored under physical names (column mapping, id or name mode)."""
    protocol = table.protocol()
    mode = (table.metadata().configuration or {}).get("delta.columnMapping.mode", "none") or "none"
    # Reader version 2 exists only for column mapping; reader 3 lists it as a feature.
    return (mode.lower() != "none" or "columnMapping" in (protocol.reader_features or ())
            or (protocol.min_reader_version == 2 and protocol.reader_features is None))


def _table_exists(table_uri: str, options: Mapping[str, str]) -> bool:
    from deltalake import DeltaTable

    return bool(DeltaTable.is_deltatable(table_uri, dict(options) or None))


def missing_version_error(table_uri: str, version: int, storage_options: Mapping[str, str]) -> SnapshotError:
    """The error for a version that cannot be loaded: past the end, or its log expired."""
    latest = open_table(table_uri, storage_options=storage_options)
    newest = latest.version()
    where = redact_uri(table_uri)
    if version > newest:
        return SnapshotError(f"{where}: version {version} does not exist, the latest version is {newest}")
    commits = commit_history(latest)
    oldest = min((c.version for c in commits), default=newest)
    return SnapshotError(
        f"{where}: version {version} is no longer in the Delta log (oldest retained version is {oldest}); "
        f"{retention_settings(latest)}"
    )


def retention_settings(table: DeltaTable) -> str:
    """``delta.logRetentionDuration=..., delta.deletedFileRetentionDuration=...`` as the table sets them."""
    config = table.metadata().configuration or {}
    parts = []
    for key, default in RETENTION_DEFAULTS.items():
        value = config.get(key)
        parts.append(f"{key}={value}" if value else f"{key}={default} (default)")
    return "retention settings: " + ", ".join(parts)


_HISTORY_ATTEMPTS = 20


def labelled_history(latest: DeltaTable, limit: int | None = None) -> list[dict[str, Any]]:
    """``latest.history(limit)`` with each entry's own version, newest first, up to ``latest``'s version.

    delta-rs lists the newest commit files in storage but labels them counting down from the
    version the table object loaded, so a commit landing in between shifts every label (two
    concurrent appends each reported the other's version). List from a table that is still
    the newest after the listing, then keep the entries up to the version ``latest`` loaded.
    """
    loaded = table = latest.version()
    source = latest
    for _attempt in range(_HISTORY_ATTEMPTS):
        entries = source.history(None if limit is None else limit + table - loaded)
        fresh = open_table(latest.table_uri, storage_options=latest._storage_options)
        if fresh.version() == table:
            kept = [e for e in entries if isinstance(e.get("version"), int) and 0 <= e["version"] <= loaded]
            return kept if limit is None else kept[:limit]
        source, table = fresh, fresh.version()
    raise SnapshotError(
        f"{redact_uri(latest.table_uri)}: commits kept landing while its history was read "
        f"({_HISTORY_ATTEMPTS} attempts); retry"
    )


def commit_history(latest: DeltaTable, limit: int | None = None) -> list[Commit]:
    """The commits still in the log up to ``latest``'s version, newest first (see :func:`labelled_history`)."""
    return [entry_commit(entry) for entry in labelled_history(latest, limit)]


def entry_commit(entry: Mapping[str, Any]) -> Commit:
    """The :class:`Commit` of one :func:`labelled_history` entry (its in-commit timestamp when set)."""
    ts = entry.get("inCommitTimestamp") or entry.get("timestamp") or 0
    return Commit(int(entry["version"]), int(ts), entry.get("operation"))


def resolve_snapshot(
    table_uri: str,
    version: int | None = None,
    *,
    as_of: str | datetime | None = None,
    storage_options: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> Snapshot:
    """Pin a version of a Delta table and describe it from the log.

    Args:
        table_uri: the table root (local path, s3://, gs://, abfss://).
        version: a version to pin; the latest when neither this nor ``as_of`` is given.
        as_of: a time-zone aware moment; the newest version committed at or before it
            (see :mod:`airflow_provider_parity.delta.asof` for the strict rule).
        storage_options: delta-rs storage options (credentials stay out of errors).
        now: the current time, for the "as-of in the future" check in tests.

    Returns:
        The :class:`Snapshot`.

    Raises:
        SnapshotError: both ``version`` and ``as_of`` given, no such table or version,
            an expired log, a vacuumed version or a bad timestamp.
    """
    if version is not None and as_of is not None:
        raise SnapshotError("give either a version or an as-of timestamp, not both")
    uri = normalize_table_uri(table_uri)
    moment = None if as_of is None else parse_timestamp(as_of)  # a naive time fails before any I/O
    latest = open_table(uri, storage_options=storage_options)
    newest = latest.version()
    if moment is not None:
        commits = commit_history(latest)
        try:
            version = version_at(commits, moment, now=now)
        except SnapshotError as exc:
            # Retention explains a miss only when the log no longer starts at version 0.
            trimmed = min((c.version for c in commits), default=0) > 0
            hint = f"; {retention_settings(latest)}" if trimmed else ""
            raise SnapshotError(f"{redact_uri(uri)}: {exc}{hint}") from None
    if version is None or version == newest:
        table, pinned = latest, newest
    else:
        if version > newest:
            raise SnapshotError(f"{redact_uri(uri)}: version {version} does not exist, the latest version is {newest}")
        table, pinned = open_table(uri, version, storage_options=storage_options), version
    commit = _commit_of(latest, newest, pinned)
    snapshot = describe(table, uri, commit)
    if pinned != newest:
        _check_not_vacuumed(uri, latest, table, commit, newest)
    return snapshot


def _commit_of(latest: DeltaTable, newest: int, version: int) -> Commit:
    for commit in commit_history(latest, limit=newest - version + 1):
        if commit.version == version:
            return commit
    raise SnapshotError(
        f"{redact_uri(latest.table_uri)}: the commit of version {version} is no longer in the Delta log; "
        f"{retention_settings(latest)}"
    )


def describe(table: DeltaTable, uri: str, commit: Commit) -> Snapshot:
    """A :class:`Snapshot` of ``table`` (loaded at ``commit.version``) read from its log."""
    import pyarrow.compute as pc

    actions = add_actions(table, flatten=False)
    paths = actions.column("path").to_pylist()
    sizes = actions.column("size_bytes").to_pylist()
    records = actions.column("num_records")
    row_count = None if records.null_count else int(pc.sum(records).as_py() or 0)
    delta_schema = table.schema()
    return Snapshot(
        uri=uri,
        version=commit.version,
        commit_timestamp=isoformat_utc(commit.timestamp),
        schema=[(f.name, type_name(f.type)) for f in delta_schema.fields],
        row_count=row_count,
        fingerprint=fingerprint_files(paths, sizes, delta_schema.to_json()),
        num_files=len(paths),
        total_bytes=int(sum(sizes)),
        operation=commit.operation,
    )


def add_actions(table: DeltaTable, *, flatten: bool) -> pa.Table:
    """The version's add actions (path, size_bytes, num_records, stats) as a pyarrow Table."""
    import pyarrow as pa

    # Through the Arrow C stream: ``pa.table()`` would import pandas to check for a
    # DataFrame, which costs more than reading a 10,000-file log.
    return pa.RecordBatchReader.from_stream(table.get_add_actions(flatten=flatten)).read_all()


def type_name(dtype: Any) -> str:
    """A Delta type as a string: ``long``, ``timestamp``; nested types as their Delta JSON."""
    kind = getattr(dtype, "type", None)
    if kind in ("struct", "array", "map"):
        return json.dumps(json.loads(dtype.to_json()), sort_keys=True, separators=(",", ":"))
    return str(kind)


def _check_not_vacuumed(uri: str, latest: DeltaTable, table: DeltaTable, commit: Commit, newest: int) -> None:
    # Only a VACUUM after the pinned commit can have removed its files; checking the
    # files themselves is cheap only on a local disk, elsewhere the read reports it.
    vacuumed = any(
        c.version > commit.version and (c.operation or "").upper().startswith("VACUUM")
        for c in commit_history(latest, limit=newest - commit.version)
    )
    if not vacuumed or storage_kind(uri) != "local":
        return
    missing = [u for u in table.file_uris() if not Path(u.removeprefix("file://")).exists()]
    if missing:
        raise vacuumed_error(uri, commit.version, latest, len(missing))


def vacuumed_error(uri: str, version: int, latest: DeltaTable | None, missing: int | None = None) -> SnapshotError:
    """The error for a version whose data files were removed by VACUUM."""
    count = f"{missing} of its data files are" if missing else "its data files are"
    settings = retention_settings(latest) if latest is not None else ""
    return SnapshotError(
        f"{redact_uri(uri)}: version {version} was vacuumed, {count} gone; {settings}".rstrip("; ")
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
