"""Writing a new Delta version that says who wrote it and under which contract.

Each commit carries ``parity.*`` keys in its ``commitInfo`` (dag id, run id, task id,
contract name, version and hash, write id), so ``parity history TABLE`` answers
"who wrote version 12, and under which contract?". Data that breaks the contract's
schema is refused before anything is committed.

A write is idempotent per ``write_id``: it is recorded as a Delta application
transaction (``txn`` action) in the same commit as the data, so a retried task
finds its earlier commit and returns it instead of appending the rows twice.

Example:
    >>> result = write_version("/data/lake/customers", arrow_table, contract=contract,
    ...                        metadata=commit_metadata(dag_id="daily", run_id="manual__1"))
    >>> result.snapshot.version
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.delta.conformance import check_not_null, check_schema, conform
from airflow_provider_parity.delta.snapshot import (
    Snapshot,
    entry_commit,
    labelled_history,
    open_table,
    resolve_snapshot,
)
from airflow_provider_parity.delta.storage import (
    normalize_table_uri,
    redact_uri,
    store_outage,
    with_bounded_waits,
)
from airflow_provider_parity.exceptions import DataError, SnapshotError, WriteConflict

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from airflow_provider_parity.contracts.model import Contract, Environment

WriteMode = Literal["append", "overwrite"]
SchemaMode = Literal["merge", "overwrite"]

METADATA_PREFIX = "parity."
WRITE_ID_KEY = "parity.write_id"
# How far back a retried write looks for its own commit.
_WRITE_LOOKBACK = 1000


@dataclass(frozen=True)
class WriteResult:
    """What a write committed (or found already committed by an earlier try)."""

    snapshot: Snapshot
    written: bool
    """False when the write id was already committed and nothing was written."""
    metadata: dict[str, str] = field(default_factory=dict)


def commit_metadata(
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    contract: Contract | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The ``parity.*`` commit metadata for a write.

    Returns:
        String keys and values; None values are left out.
    """
    values: dict[str, Any] = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id}
    if contract is not None:
        values.update(
            contract=contract.name,
            contract_version=contract.dataset.version,
            contract_hash=contract.fingerprint,
        )
    values.update(extra or {})
    return {f"{METADATA_PREFIX}{k}": str(v) for k, v in values.items() if v is not None}


def to_arrow(data: Any) -> pa.Table:
    """An Arrow table from an Arrow table, record batch, pandas DataFrame or Arrow stream.

    Raises:
        DataError: the object is none of those.
    """
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "__arrow_c_stream__"):
        return pa.table(data)
    raise DataError(f"cannot write a {type(data).__name__}: expected a pyarrow Table or a pandas DataFrame")


def write_version(
    table_uri: str,
    data: Any,
    *,
    mode: WriteMode = "append",
    contract: Contract | None = None,
    environment: Environment | None = None,
    metadata: Mapping[str, str] | None = None,
    write_id: str | None = None,
    storage_options: Mapping[str, str] | None = None,
    partition_by: list[str] | None = None,
    schema_mode: SchemaMode | None = None,
    replace_where: str | None = None,
) -> WriteResult:
    """Commit ``data`` as a new version of a Delta table (created if absent).

    Args:
        table_uri: the table root.
        data: a pyarrow Table or RecordBatch, or a pandas DataFrame.
        mode: ``append`` or ``overwrite``.
        contract: when given, the data must match its schema (names, types, extra
            column policy, non-nullable columns) or nothing is written.
        environment: check only the columns of ``training`` or ``serving``.
        metadata: commit metadata, e.g. from :func:`commit_metadata`.
        write_id: makes the write idempotent: a second write with the same id commits
            nothing and returns the first one's snapshot. A random id when None.
        storage_options: delta-rs storage options.
        partition_by: partition columns when the table is created.
        schema_mode: ``merge`` to add new columns (schema evolution), ``overwrite`` to replace.
        replace_where: a SQL predicate, e.g. ``feature_date = '2026-11-20'``: the rows matching it
            are replaced by ``data`` in one commit (``mode`` must be ``overwrite``), so re-running
            a day replaces that day instead of appending it twice.

    Returns:
        The :class:`WriteResult` with the committed version's snapshot.

    Raises:
        SchemaMismatchError: the data breaks the contract's schema.
        SnapshotError: the commit failed (e.g. a schema change without ``schema_mode``).
        WriteConflict: a concurrent commit conflicts with this one (nothing committed; retry).
        ServiceUnavailable: the object store did not answer (no partial version is visible).
    """
    from deltalake import CommitProperties, Transaction, write_deltalake
    from deltalake.exceptions import CommitFailedError, DeltaError

    if replace_where is not None and mode != "overwrite":
        raise DataError("replace_where needs mode='overwrite'")
    uri = normalize_table_uri(table_uri)
    options = with_bounded_waits(uri, storage_options)
    table = to_arrow(data)
    if contract is not None:
        check_schema(table.schema, contract, environment=environment, source=redact_uri(uri))
        check_not_null(table, contract, source=redact_uri(uri))
        table = conform(table, contract)
    # Only an overwrite takes a predicate (delta-rs' typed overloads say so too).
    replace: dict[str, Any] = {"predicate": replace_where} if replace_where is not None else {}
    write_id = write_id or uuid.uuid4().hex
    meta = {**dict(metadata or {}), WRITE_ID_KEY: write_id}
    if _is_table(uri, options):
        existing = open_table(uri, storage_options=options)
        if existing.transaction_version(write_id) is not None:
            return WriteResult(_snapshot_of_write(uri, existing, write_id, options), written=False, metadata=meta)
    try:
        write_deltalake(
            uri,
            table,
            mode=mode,
            partition_by=partition_by,
            schema_mode=schema_mode,
            storage_options=options or None,
            commit_properties=CommitProperties(
                custom_metadata=meta, app_transactions=[Transaction(app_id=write_id, version=1)]
            ),
            **replace,
        )
    except (DeltaError, ValueError, OSError) as exc:  # schema clashes arrive as DeltaError subclasses
        outage = store_outage(uri, exc, writing=True)
        if outage is not None:
            raise outage from None
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, CommitFailedError):  # delta-rs already retried the commits that did not conflict
            raise WriteConflict(f"{redact_uri(uri)}: write not committed, another writer's commit conflicts with "
                                f"it ({message}); nothing was changed, a retry applies it to the new version") from None
        raise SnapshotError(f"{redact_uri(uri)}: write failed: {message}") from None
    latest = open_table(uri, storage_options=options)
    return WriteResult(_snapshot_of_write(uri, latest, write_id, options), written=True, metadata=meta)


def _is_table(uri: str, options: Mapping[str, str]) -> bool:
    from deltalake import DeltaTable

    try:
        return bool(DeltaTable.is_deltatable(uri, dict(options) or None))
    except OSError as exc:  # a store that does not answer, before anything is written
        outage = store_outage(uri, exc)
        if outage is not None:
            raise outage from None
        raise


def _snapshot_of_write(uri: str, latest: DeltaTable, write_id: str, options: Mapping[str, str]) -> Snapshot:
    # Other writers may have committed since: find the version by its write id.
    for entry in labelled_history(latest, _WRITE_LOOKBACK):
        if entry.get(WRITE_ID_KEY) == write_id:
            return resolve_snapshot(uri, int(entry["version"]), storage_options=options)
    raise SnapshotError(
        f"{redact_uri(uri)}: write {write_id} is recorded in the log but its commit is not among the "
        f"last {_WRITE_LOOKBACK} versions"
    )


def history_with_metadata(
    table_uri: str, *, storage_options: Mapping[str, str] | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The table's commits, newest first: version, timestamp, operation and ``parity.*`` metadata.

    Returns:
        JSON-serialisable dicts.
    """
    from airflow_provider_parity.delta.asof import isoformat_utc

    latest = open_table(normalize_table_uri(table_uri), storage_options=storage_options)
    rows = []
    for entry in labelled_history(latest, limit):
        commit = entry_commit(entry)
        rows.append({
            "version": commit.version,
            "timestamp": isoformat_utc(commit.timestamp),
            "operation": entry.get("operation"),
            "parameters": entry.get("operationParameters") or {},
            "metadata": {k: v for k, v in entry.items() if k.startswith(METADATA_PREFIX)},
        })
    return rows
