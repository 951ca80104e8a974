from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_provider_parity.delta.asof import (
    Commit,
    isoformat_utc,
    monotonic,
    parse_timestamp,
    version_at,
)
from airflow_provider_parity.exceptions import SnapshotError

NOW = datetime(2024, 6, 1, tzinfo=UTC)
T0 = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1000)
COMMITS = [Commit(0, T0), Commit(1, T0 + 1000), Commit(2, T0 + 2000)]


@pytest.mark.parametrize("naive", ["2024-01-01T00:00:00", datetime(2024, 1, 1)])
def test_naive_timestamps_are_rejected(naive: object) -> None:
    with pytest.raises(SnapshotError, match="no time zone"):
        parse_timestamp(naive)  # type: ignore[arg-type]


def test_offsets_and_z_mean_the_same_instant() -> None:
    z = parse_timestamp("2024-01-01T00:00:00Z")
    plus2 = parse_timestamp("2024-01-01T02:00:00+02:00")
    aware = parse_timestamp(datetime(2024, 1, 1, 3, tzinfo=timezone(timedelta(hours=3))))
    assert z == plus2 == aware
    assert z.tzinfo == UTC


def test_garbage_timestamp_is_a_one_line_error() -> None:
    with pytest.raises(SnapshotError, match="not ISO 8601"):
        parse_timestamp("yesterday")


@pytest.mark.parametrize(
    ("offset_ms", "expected"),
    [(0, 0), (999, 0), (1000, 1), (1500, 1), (2000, 2), (86_400_000, 2)],
)
def test_newest_version_at_or_before_the_moment(offset_ms: int, expected: int) -> None:
    at = datetime.fromtimestamp((T0 + offset_ms) / 1000, tz=UTC)
    assert version_at(COMMITS, at, now=NOW) == expected


def test_before_the_first_commit_is_an_error_not_a_clamp() -> None:
    with pytest.raises(SnapshotError, match="before the oldest commit .*version 0"):
        version_at(COMMITS, "2023-12-31T23:59:59Z", now=NOW)


def test_a_future_moment_is_an_error_not_a_clamp() -> None:
    with pytest.raises(SnapshotError, match="in the future"):
        version_at(COMMITS, NOW + timedelta(seconds=1), now=NOW)


def test_out_of_order_commit_times_are_made_monotonic() -> None:
    # Version 2 claims an earlier time than version 1 (clock skew): it counts as 1 ms after it.
    skewed = [Commit(0, T0), Commit(1, T0 + 5000), Commit(2, T0 + 10)]
    assert [c.timestamp_ms for c in monotonic(skewed)] == [T0, T0 + 5000, T0 + 5001]
    at = datetime.fromtimestamp((T0 + 5000) / 1000, tz=UTC)
    assert version_at(skewed, at, now=NOW) == 1


def test_isoformat_is_utc_with_z() -> None:
    assert isoformat_utc(datetime(2024, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))) == "2024-01-01T00:00:00.000000Z"


def test_pendulum_datetimes_become_plain_utc_datetimes() -> None:
    import pendulum

    moment = parse_timestamp(pendulum.datetime(2024, 1, 1, 2, tz="Europe/Paris"))
    assert type(moment) is datetime
    assert moment == datetime(2024, 1, 1, 1, tzinfo=UTC)
    assert (moment - datetime(2024, 1, 1, tzinfo=UTC)).total_seconds() == 3600
