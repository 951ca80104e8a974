"""Strict "as of" time travel, the same for every engine.

delta-rs clamps a timestamp before the first commit or after the last one, and
reads a naive datetime as local time; Spark raises in both cases. This project
resolves a timestamp to a version itself, from the commit timestamps in the Delta
log, and hands engines a version number, so both engines read the same rows.

The rule (documented in the README):

* A timestamp must carry a time zone. Naive datetimes and strings without an offset
  are rejected; write ``...Z`` or ``+00:00`` for UTC.
* The version chosen is the newest one whose commit timestamp is at or before the
  timestamp. Commit timestamps are taken from the log's ``commitInfo`` (the in-commit
  timestamp when the table records one), made monotonic as Delta's protocol
  prescribes: a commit that claims to be older than its predecessor counts as
  one millisecond after it.
* A timestamp before the oldest commit still in the log is an error (no version existed,
  or its log expired).
* A timestamp in the future is an error: a commit may still land before it, so the
  answer is not yet fixed. A timestamp after the newest commit but not in the future
  resolves to the newest version, which no later commit can change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from airflow_provider_parity.exceptions import SnapshotError


@dataclass(frozen=True)
class Commit:
    """One entry of a table's history."""

    version: int
    timestamp_ms: int
    operation: str | None = None

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)


def parse_timestamp(value: str | datetime) -> datetime:
    """A time-zone aware UTC datetime from an ISO 8601 string or an aware datetime.

    Args:
        value: e.g. ``"2024-05-01T00:00:00Z"``, ``"2024-05-01T02:00:00+02:00"`` or an aware datetime.

    Returns:
        The same instant in UTC.

    Raises:
        SnapshotError: the value has no time zone or is not ISO 8601.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise SnapshotError(
                f"as-of timestamp {value!r} is not ISO 8601: expected e.g. 2024-05-01T00:00:00Z"
            ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise SnapshotError(
            f"as-of timestamp {value!s} has no time zone: a naive time is ambiguous, "
            "add an offset such as Z or +00:00"
        )
    try:
        utc = parsed.astimezone(UTC)
        utc.timestamp()  # Delta compares epoch milliseconds
    except (OverflowError, ValueError):
        raise SnapshotError(f"as-of timestamp {value!s} is out of range once converted to UTC") from None
    # A plain datetime, even from a pendulum DateTime (Airflow's context), whose
    # arithmetic with stdlib datetimes misbehaves.
    return datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC)


def isoformat_utc(moment: datetime) -> str:
    """``2024-05-01T00:00:00.123000Z``: the one timestamp format of snapshots and reports."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def monotonic(commits: Sequence[Commit]) -> list[Commit]:
    """Commits in version order with timestamps forced to increase strictly."""
    ordered = sorted(commits, key=lambda c: c.version)
    adjusted: list[Commit] = []
    previous = None
    for commit in ordered:
        ts = commit.timestamp_ms if previous is None else max(commit.timestamp_ms, previous + 1)
        adjusted.append(Commit(commit.version, ts, commit.operation))
        previous = ts
    return adjusted


def version_at(commits: Sequence[Commit], at: str | datetime, *, now: datetime | None = None) -> int:
    """The version of the table as of ``at``, under the strict rule of this module.

    Args:
        commits: the history still in the log, any order.
        at: the moment, time-zone aware.
        now: the current time (for tests); defaults to the clock.

    Returns:
        The newest version committed at or before ``at``.

    Raises:
        SnapshotError: ``at`` is naive, in the future, or before the oldest retained commit.
    """
    moment = parse_timestamp(at)
    current = (now or datetime.now(UTC)).astimezone(UTC)
    if moment > current:
        raise SnapshotError(
            f"as-of timestamp {isoformat_utc(moment)} is in the future (now {isoformat_utc(current)}): "
            "a commit may still land before it, so no version can be pinned yet"
        )
    history = monotonic(commits)
    if not history:
        raise SnapshotError("the table has no commits in its log")
    target_ms = int(moment.timestamp() * 1000)
    chosen = None
    for commit in history:
        if commit.timestamp_ms <= target_ms:
            chosen = commit.version
        else:
            break
    if chosen is None:
        first = history[0]
        raise SnapshotError(
            f"as-of timestamp {isoformat_utc(moment)} is before the oldest commit in the log "
            f"(version {first.version} at {isoformat_utc(first.timestamp)})"
        )
    return chosen
