"""Freshness and completeness from the Delta log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.delta.freshness import (
    check_completeness,
    check_contract_freshness,
    check_freshness,
    require_complete,
    require_fresh,
)
from airflow_provider_parity.exceptions import (
    ContractViolation,
    DataError,
    FreshnessBreach,
)


def test_event_time_freshness_uses_the_newest_event(evolving_table, contract: Contract) -> None:
    # Newest event in version 3 is 2024-01-01T03:15Z; the SLO allows 2h.
    fresh = check_contract_freshness(evolving_table.uri, contract, reference="2024-01-01T05:00:00Z")
    assert fresh.fresh
    assert fresh.newest == "2024-01-01T03:15:00.000000Z"
    assert fresh.measure == "column:event_time"
    stale = check_contract_freshness(evolving_table.uri, contract, reference="2024-01-01T05:16:00Z")
    assert not stale.fresh
    assert stale.lag_seconds == 60
    with pytest.raises(FreshnessBreach) as info:
        require_fresh(stale, contract.ref)
    message = str(info.value)
    assert "freshness SLO of events@1.0.0" in message
    assert "column:event_time newest=2024-01-01T03:15:00.000000Z" in message
    assert "expected >= 2024-01-01T03:16:00.000000Z" in message


def test_commit_time_freshness(evolving_table) -> None:
    newest_commit = DeltaTable(evolving_table.uri).history(1)[0]["timestamp"]
    at = datetime.fromtimestamp(newest_commit / 1000, tz=UTC)
    assert check_freshness(evolving_table.uri, reference=at).fresh
    result = check_freshness(evolving_table.uri, reference=at + timedelta(seconds=10))
    assert not result.fresh
    assert result.measure == "commit_time"
    assert check_freshness(evolving_table.uri, reference=at + timedelta(seconds=10), max_age=timedelta(minutes=1)).fresh


def test_freshness_column_must_be_a_time(evolving_table) -> None:
    with pytest.raises(DataError, match="'name' has type string"):
        check_freshness(evolving_table.uri, column="name")


def test_freshness_from_a_partition_column(tmp_path) -> None:
    uri = str(tmp_path / "p")
    days = pa.array([datetime(2024, 1, d).date() for d in (1, 2, 3)], pa.date32())
    write_deltalake(uri, pa.table({"day": days, "v": [1, 2, 3]}), partition_by=["day"])
    result = check_freshness(uri, column="day", reference="2024-01-03T00:00:00Z")
    assert result.fresh
    assert result.newest == "2024-01-03T00:00:00.000000Z"


def test_completeness_from_statistics_matches_the_data(evolving_table) -> None:
    result = check_completeness(evolving_table.uri, {"name": 0.5, "score": 0.5, "id": 1.0})
    data = evolving_table.versions[3]
    ratios = {c.column: c.non_null_ratio for c in result.columns}
    for column in ("name", "score", "id"):
        assert ratios[column] == pytest.approx((data.num_rows - data.column(column).null_count) / data.num_rows)
    assert result.row_count == 6
    assert not result.passed  # score is null in 4 of 6 rows
    with pytest.raises(ContractViolation, match=r"completeness of column 'score'.*0\.3333 < minimum 0\.5000"):
        require_complete(result, "events@1.0.0")


def test_completeness_of_a_pinned_version(evolving_table) -> None:
    result = check_completeness(evolving_table.uri, {"name": 0.5}, version=0)
    assert result.version == 0
    assert result.columns[0].non_null_ratio == pytest.approx(2 / 3)
    assert require_complete(result) is result


def test_completeness_of_an_unknown_column(evolving_table) -> None:
    with pytest.raises(DataError, match="'nope' is not in the table"):
        check_completeness(evolving_table.uri, {"nope": 1.0})
