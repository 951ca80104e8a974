"""The results ledger: every gate outcome, appended to a Delta table in the lake.

Append-only and idempotent per task try: each append commits the outcome together with a
Delta app transaction named after the outcome's id, so a retried append of the same try
(a worker that died after committing but before reporting) writes nothing the second time.
Partitioned by the day an outcome finished, so "since" queries read only the days they need.
Readable with one call (:func:`read_outcomes`) and through ``parity outcomes``.

The monitoring (SLO attainment, burn rates) and the Airflow view read their history here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.outcomes.model import GateOutcome, utc_now

if TYPE_CHECKING:
    import pyarrow as pa

LEDGER_APP_PREFIX = "parity-ledger/"
_FLAT = ("gate", "name", "status", "reason", "dataset", "fingerprint", "contract")


def ledger_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([
        ("outcome_id", pa.string()), ("day", pa.date32()),
        ("gate", pa.string()), ("name", pa.string()), ("status", pa.string()), ("blocking", pa.bool_()),
        ("reason", pa.string()), ("dataset", pa.string()), ("version", pa.int64()), ("fingerprint", pa.string()),
        ("contract", pa.string()), ("as_of", pa.timestamp("us", tz="UTC")),
        ("started_at", pa.timestamp("us", tz="UTC")), ("finished_at", pa.timestamp("us", tz="UTC")),
        ("dag_id", pa.string()), ("run_id", pa.string()), ("task_id", pa.string()), ("map_index", pa.int64()),
        ("try_number", pa.int64()), ("metrics", pa.string()), ("checks", pa.string()), ("reports", pa.string()),
        ("outcome", pa.string()),
    ])


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_rows(outcomes: Iterable[GateOutcome]) -> pa.Table:
    """Outcomes as ledger rows: flat columns to filter on, the whole outcome as JSON to rebuild it."""
    import pyarrow as pa

    rows = []
    for outcome in outcomes:
        finished = _moment(outcome.finished_at) or datetime.now(UTC)
        run = outcome.run
        data = outcome.to_dict()
        row: dict[str, Any] = {k: data[k] for k in _FLAT}
        row.update(
            outcome_id=outcome.outcome_id, day=finished.date(), blocking=outcome.blocking, version=outcome.version,
            as_of=_moment(outcome.as_of), started_at=_moment(outcome.started_at), finished_at=finished,
            dag_id=run.dag_id if run else None, run_id=run.run_id if run else None,
            task_id=run.task_id if run else None, map_index=run.map_index if run else None,
            try_number=run.try_number if run else None,
            metrics=json.dumps(data["metrics"], sort_keys=True), checks=json.dumps(data["checks"]),
            reports=json.dumps(data["reports"], sort_keys=True), outcome=json.dumps(data, sort_keys=True, default=str),
        )
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=ledger_schema())


def append_outcome(ledger_uri: str, outcome: GateOutcome, *,
                   storage_options: Mapping[str, str] | None = None) -> bool:
    """Append ``outcome`` to the ledger at ``ledger_uri`` (created on first use).

    Returns:
        True when written, False when this outcome (same task try) was already there.

    Raises:
        ServiceUnavailable: the store did not answer; nothing was written.
    """
    from deltalake import CommitProperties, DeltaTable, Transaction, write_deltalake

    from airflow_provider_parity.delta.storage import normalize_table_uri

    if outcome.finished_at is None:
        outcome = outcome.with_(finished_at=utc_now())
    uri = normalize_table_uri(ledger_uri)
    options = dict(storage_options or {}) or None
    app_id = LEDGER_APP_PREFIX + outcome.outcome_id
    with _store_errors(uri):
        if DeltaTable.is_deltatable(uri, options):
            if DeltaTable(uri, storage_options=options).transaction_version(app_id) is not None:
                return False
        write_deltalake(
            uri, to_rows([outcome]), mode="append", partition_by=["day"], storage_options=options,
            commit_properties=CommitProperties(
                custom_metadata={"parity.ledger": outcome.gate}, app_transactions=[Transaction(app_id=app_id, version=1)],
                max_commit_retries=50),
        )
    return True


def read_outcomes(
    ledger_uri: str,
    *,
    storage_options: Mapping[str, str] | None = None,
    dataset: str | None = None,
    gate: str | None = None,
    since: datetime | date | str | None = None,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> list[GateOutcome]:
    """The outcomes in the ledger, oldest first, filtered by dataset (substring), gate (kind or
    task id), finish time and DAG run. An absent ledger holds no outcomes.

    Raises:
        ServiceUnavailable: the store did not answer.
    """
    table = read_table(ledger_uri, storage_options=storage_options, since=since)
    if table is None:
        return []
    outcomes = []
    for row in table.select(["outcome", "dataset", "gate", "name", "task_id", "dag_id", "run_id"]).to_pylist():
        if dataset and dataset not in (row["dataset"] or ""):
            continue
        if gate and gate not in (row["gate"], row["name"], row["task_id"]):
            continue
        if (dag_id and row["dag_id"] != dag_id) or (run_id and row["run_id"] != run_id):
            continue
        outcomes.append(GateOutcome.from_dict(json.loads(row["outcome"])))
    return outcomes


def read_table(ledger_uri: str, *, storage_options: Mapping[str, str] | None = None,
               since: datetime | date | str | None = None,
               columns: Sequence[str] | None = None) -> pa.Table | None:
    """The ledger as an Arrow table sorted by finish time (None when there is no ledger yet).

    ``columns`` reads only those (plus ``finished_at`` and ``outcome_id``, the sort keys): the
    whole-outcome JSON column is most of the bytes, and a page that shows statuses needs none of it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable
    from pyarrow.parquet import filters_to_expression

    from airflow_provider_parity.delta.readers import arrow_dataset
    from airflow_provider_parity.delta.storage import normalize_table_uri

    uri = normalize_table_uri(ledger_uri)
    options = dict(storage_options or {}) or None
    moment = _since(since)
    with _store_errors(uri):
        if not DeltaTable.is_deltatable(uri, options):
            return None
        table = DeltaTable(uri, storage_options=options)
        filters = [("day", ">=", moment.date())] if moment else None
        wanted = None if columns is None else list(dict.fromkeys([*columns, "finished_at", "outcome_id"]))
        dataset = arrow_dataset(table, file_pruning_predicate=filters)
        data = dataset.to_table(columns=wanted, filter=None if filters is None else filters_to_expression(filters))
    if moment is not None:
        data = data.filter(pc.greater_equal(data["finished_at"], pa.scalar(moment, pa.timestamp("us", tz="UTC"))))
    return data.sort_by([("finished_at", "ascending"), ("outcome_id", "ascending")])


_CACHE: dict[tuple[str, tuple[str, ...]], tuple[int, pa.Table | None]] = {}
_CACHE_LOCK = threading.Lock()


def read_table_cached(ledger_uri: str, columns: Sequence[str], *,
                      storage_options: Mapping[str, str] | None = None) -> pa.Table | None:
    """:func:`read_table` for a long-lived reader (the api-server): reused while the table's Delta
    version is unchanged. Checking the version reads the log's tail only, not a data file, so a page
    costs a full read once per ledger commit instead of once per request.

    Raises:
        ServiceUnavailable: the store did not answer.
    """
    from deltalake import DeltaTable

    from airflow_provider_parity.delta.storage import normalize_table_uri

    uri = normalize_table_uri(ledger_uri)
    options = dict(storage_options or {}) or None
    with _store_errors(uri):
        if not DeltaTable.is_deltatable(uri, options):
            return None
        delta = DeltaTable(uri, storage_options=options)
        version = delta.version()
    key = (uri, tuple(columns))
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    table = _read_rolled_up(delta, uri, columns, storage_options)
    if table is None:
        table = read_table(uri, storage_options=storage_options, columns=columns)
    with _CACHE_LOCK:
        _CACHE[key] = (version, table)
    return table


def _read_rolled_up(delta: Any, uri: str, columns: Sequence[str],
                    storage_options: Mapping[str, str] | None) -> pa.Table | None:
    """:func:`read_table`'s answer through the rollup ``compact_ledger`` leaves (None: no usable rollup)."""
    from airflow_provider_parity.outcomes.rollup import read_rollup

    wanted = list(dict.fromkeys([*columns, "finished_at", "outcome_id"]))
    with _store_errors(uri):
        data = read_rollup(delta, uri, wanted, storage_options=storage_options)
    return None if data is None else data.sort_by([("finished_at", "ascending"), ("outcome_id", "ascending")])


def compact_ledger(ledger_uri: str, *, storage_options: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Rewrite the ledger's small files (one per append) into few large ones per day partition, then
    write the rollup cold readers use (``outcomes/rollup.py``).

    Every gate outcome is its own commit and file, so a year of daily runs is thousands of files and
    a read opens each. Run it daily (e.g. at the end of the DAG that monitors the gates) or whenever
    the view slows down; readers keep working meanwhile (Delta's snapshot isolation).

    Returns:
        deltalake's compaction metrics (files added and removed) and ``version``, the ledger's
        Delta version after the compaction.

    Raises:
        ServiceUnavailable: the store did not answer.
    """
    from deltalake import DeltaTable

    from airflow_provider_parity.delta.storage import normalize_table_uri
    from airflow_provider_parity.outcomes.rollup import build_rollup

    uri = normalize_table_uri(ledger_uri)
    with _store_errors(uri):
        table = DeltaTable(uri, storage_options=dict(storage_options or {}) or None)
        metrics = dict(table.optimize.compact())
        metrics["version"] = table.version()
        # Every column but the whole-outcome JSON: what the view and the monitoring read, in one file.
        build_rollup(uri, [f.name for f in ledger_schema() if f.name != "outcome"], storage_options=storage_options)
    return metrics


def _since(value: datetime | date | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


@contextmanager
def _store_errors(uri: str) -> Iterator[None]:
    """Turn an unreachable store into ServiceUnavailable naming the endpoint (never credentials)."""
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        from airflow_provider_parity.delta.storage import redact_uri
        from airflow_provider_parity.exceptions import ServiceUnavailable

        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ServiceUnavailable(f"ledger {redact_uri(uri)} unreachable: {first}; nothing was written") from None
