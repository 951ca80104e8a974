"""Freshness and completeness of a Delta version, read from the log's file statistics.

Freshness (the contract's SLO): the newest moment the table holds, either the
maximum of the contract's event-time column (``freshness.column``) or the newest
commit time, must be at most ``max_age`` older than a reference moment, the run's
data interval end by default. In symbols: ``newest >= reference - max_age``. With
``max_age`` 0 this is "the table holds data up to the data interval end".

Completeness: the non-null ratio of each critical column (``completeness`` in the
contract) must reach its minimum.

Both read only the Delta log (per-file ``numRecords``, ``nullCount``, ``maxValues``),
so a sensor can poll a large table cheaply; a file written without statistics makes
the check fall back to scanning that column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.delta.asof import isoformat_utc, parse_timestamp
from airflow_provider_parity.delta.readers import arrow_dataset
from airflow_provider_parity.delta.snapshot import add_actions, commit_history, open_table, uses_column_mapping
from airflow_provider_parity.delta.storage import normalize_table_uri, redact_uri
from airflow_provider_parity.exceptions import (
    ContractViolation,
    DataError,
    EngineError,
    FreshnessBreach,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

    from airflow_provider_parity.contracts.model import Contract


@dataclass(frozen=True)
class FreshnessResult:
    """One freshness observation. ``fresh`` is the verdict."""

    uri: str
    version: int
    measure: str
    """``column:<name>`` (max event time) or ``commit_time`` (newest commit)."""
    newest: str | None
    """ISO UTC of the newest event or commit; None for a table without rows in that column."""
    reference: str
    max_age_seconds: float
    required: str
    """``reference - max_age``: ``newest`` must be at or after it."""
    fresh: bool
    lag_seconds: float | None
    """How far ``newest`` is behind ``required`` (negative: ahead)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def breach_message(self, contract_ref: str | None = None) -> str:
        """One line naming the SLO, observed vs expected."""
        slo = f"freshness SLO of {contract_ref}" if contract_ref else "freshness SLO"
        return (
            f"{slo} breached on {redact_uri(self.uri)} v{self.version}: {self.measure} newest={self.newest}, "
            f"expected >= {self.required} (reference {self.reference} minus max_age {self.max_age_seconds:g}s)"
        )


@dataclass(frozen=True)
class ColumnCompleteness:
    column: str
    non_null_ratio: float | None
    """None when the version has no rows."""
    min_ratio: float
    passed: bool


@dataclass(frozen=True)
class CompletenessResult:
    uri: str
    version: int
    row_count: int
    columns: list[ColumnCompleteness] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def check_freshness(
    table_uri: str,
    *,
    reference: str | datetime | None = None,
    max_age: timedelta = timedelta(0),
    column: str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> FreshnessResult:
    """Observe the latest version's freshness against ``reference - max_age``.

    Args:
        table_uri: the table root.
        reference: the moment the data must reach (time-zone aware); now when None.
        max_age: how far behind ``reference`` the newest data may be.
        column: the event-time column (timestamp or date); None to use the newest commit time.
        storage_options: delta-rs storage options.

    Returns:
        The observation; this function never raises on staleness (see :func:`require_fresh`).

    Raises:
        SnapshotError: no such table.
        DataError: the column does not exist or is not a timestamp or date.
    """
    uri = normalize_table_uri(table_uri)
    ref = parse_timestamp(reference) if reference is not None else datetime.now(UTC)
    for _attempt in range(5):
        table = open_table(uri, storage_options=storage_options)
        if column is None:
            commits = commit_history(table, limit=1)
            newest: datetime | None = commits[0].timestamp if commits else None
            measure = "commit_time"
        else:
            newest = _max_event_time(table, uri, column)
            measure = f"column:{column}"
        # delta-rs reads history from the log as it is now: a commit landing between loading
        # the table and reading its history would pair a newer commit time with an older
        # version. Observe again until the table did not move underneath.
        if open_table(uri, storage_options=storage_options).version() == table.version():
            break
    required = ref - max_age
    lag = None if newest is None else (required - newest).total_seconds()
    return FreshnessResult(
        uri=uri,
        version=table.version(),
        measure=measure,
        newest=None if newest is None else isoformat_utc(newest),
        reference=isoformat_utc(ref),
        max_age_seconds=max_age.total_seconds(),
        required=isoformat_utc(required),
        fresh=newest is not None and newest >= required,
        lag_seconds=lag,
    )


def check_contract_freshness(
    table_uri: str,
    contract: Contract,
    *,
    reference: str | datetime | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> FreshnessResult:
    """:func:`check_freshness` with the contract's ``freshness`` SLO (max age 0 without one)."""
    slo = contract.freshness
    return check_freshness(
        table_uri,
        reference=reference,
        max_age=slo.max_age_delta if slo else timedelta(0),
        column=slo.column if slo else None,
        storage_options=storage_options,
    )


def require_fresh(result: FreshnessResult, contract_ref: str | None = None) -> FreshnessResult:
    """Return ``result`` when fresh.

    Raises:
        FreshnessBreach: naming the SLO, the newest time and the required one.
    """
    if not result.fresh:
        raise FreshnessBreach(result.breach_message(contract_ref), result=result.to_dict())
    return result


def _max_event_time(table: DeltaTable, uri: str, column: str) -> datetime | None:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pt

    schema = pa.schema(table.schema().to_arrow())
    if column not in schema.names:
        raise DataError(f"freshness column {column!r} is not in the table", source=redact_uri(uri), column=column)
    kind = schema.field(column).type
    if not (pt.is_timestamp(kind) or pt.is_date(kind)):
        raise DataError(f"freshness column {column!r} has type {kind}, expected a timestamp or date",
                        source=redact_uri(uri), column=column)
    actions = add_actions(table, flatten=True)
    stat = f"max.{column}"
    part = f"partition.{column}"
    source = part if part in actions.column_names else stat
    if actions.num_rows == 0:
        return None
    if source not in actions.column_names or actions.column(source).null_count:
        values = _scan(table, [column]).column(column)  # a file without statistics
    else:
        values = actions.column(source)
    newest = pc.max(values).as_py()
    return None if newest is None else _as_utc(newest)


def _as_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        # Naive timestamps (timestamp_ntz) are read as UTC, by this project's convention.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def check_completeness(
    table_uri: str,
    minimums: Mapping[str, float],
    *,
    version: int | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> CompletenessResult:
    """Non-null ratio of each column in ``minimums`` for one version, from the log's statistics.

    Args:
        table_uri: the table root.
        minimums: column -> minimum non-null ratio (the contract's ``completeness``).
        version: the version; the latest when None.
        storage_options: delta-rs storage options.

    Returns:
        Per-column ratios and verdicts (see :func:`require_complete`).

    Raises:
        DataError: a column is not in the table.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    uri = normalize_table_uri(table_uri)
    table = open_table(uri, version, storage_options=storage_options)
    actions = add_actions(table, flatten=True)
    names = pa.schema(table.schema().to_arrow()).names
    missing_stats = actions.column("num_records").null_count > 0
    rows = int(pc.sum(actions.column("num_records")).as_py() or 0) if not missing_stats else None
    scanned: pa.Table | None = None
    results = []
    for column, minimum in minimums.items():
        if column not in names:
            raise DataError(f"completeness column {column!r} is not in the table", source=redact_uri(uri), column=column)
        nulls = _null_count_from_log(actions, column)
        if nulls is None or rows is None:
            scanned = scanned if scanned is not None else _scan(table, list(minimums))
            rows, nulls = scanned.num_rows, scanned.column(column).null_count
        ratio = None if rows == 0 else (rows - nulls) / rows
        results.append(ColumnCompleteness(column, ratio, float(minimum), ratio is None or ratio >= minimum))
    return CompletenessResult(uri=uri, version=table.version(), row_count=rows or 0, columns=results)


def _null_count_from_log(actions: pa.Table, column: str) -> int | None:
    import pyarrow.compute as pc

    partition = f"partition.{column}"
    if partition in actions.column_names:
        # A partition value is null for every row of a file, or for none.
        is_null = actions.column(partition).is_null()
        return int(pc.sum(pc.if_else(is_null, actions.column("num_records"), 0)).as_py() or 0)
    stat = f"null_count.{column}"
    if stat not in actions.column_names or actions.column(stat).null_count:
        return None
    return int(pc.sum(actions.column(stat)).as_py() or 0)


def require_complete(result: CompletenessResult, contract_ref: str | None = None) -> CompletenessResult:
    """Return ``result`` when every column reaches its minimum.

    Raises:
        ContractViolation: naming the first incomplete column, observed vs expected ratio.
    """
    for col in result.columns:
        if not col.passed:
            owner = f"contract {contract_ref}: " if contract_ref else ""
            raise ContractViolation(
                f"{owner}completeness of column {col.column!r} on {redact_uri(result.uri)} v{result.version}: "
                f"non-null ratio {col.non_null_ratio:.4f} < minimum {col.min_ratio:.4f}",
                result=result.to_dict(),
            )
    return result


def _scan(table: DeltaTable, columns: list[str]) -> pa.Table:
    if uses_column_mapping(table):  # delta-rs's pyarrow dataset reads such columns as nulls: no false verdict
        raise EngineError(f"{redact_uri(table.table_uri)} version {table.version()} uses column mapping, "
                          "which delta-rs's pyarrow reader reads as nulls")
    return arrow_dataset(table).to_table(columns=columns)
