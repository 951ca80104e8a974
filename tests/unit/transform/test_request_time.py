"""Request-time features, defined once: the training-set build and the service compute the same values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.serving.online_store import SQLiteOnlineStore, newest_rows, served_columns, to_batch
from airflow_provider_parity.transform.request_time import (
    REQUEST_FEATURE_NAMES,
    add_request_features,
    model_inputs,
)
from churn.training import NUMERIC, training_frame

FEATURE_DAY = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def _rows(tenure: list[int | None], days: list[date | None]) -> pa.Table:
    return pa.table({"tenure_days": pa.array(tenure, pa.int64()), "feature_date": pa.array(days, pa.date32())})


def test_tenure_grows_by_whole_utc_days_from_the_feature_date():
    table = _rows([10, 10, 10, None, 10], [date(2026, 3, 4)] * 4 + [None])
    times = pa.array([datetime(2026, 3, 4, 23, 59, tzinfo=UTC), datetime(2026, 3, 5, 0, 0, tzinfo=UTC),
                      datetime(2026, 3, 1, tzinfo=UTC),  # before the feature date: a clock behind adds nothing
                      datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)],
                     pa.timestamp("us", tz="UTC"))
    out = add_request_features(table, times)
    assert out.column("tenure_days_at_request").to_pylist() == [10, 11, 10, None, None]
    assert out.column("tenure_days_at_request").type == pa.int64()


def test_the_request_date_is_taken_in_utc():
    # 23:30 in New York on 4 March is 04:30 UTC on 5 March: one day later.
    eastern = datetime(2026, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    out = add_request_features(_rows([5], [date(2026, 3, 4)]), eastern)
    assert out.column("tenure_days_at_request").to_pylist() == [6]


def test_bad_inputs_are_data_errors():
    with pytest.raises(DataError, match="no time zone"):
        add_request_features(_rows([1], [date(2026, 1, 1)]), datetime(2026, 1, 2))
    with pytest.raises(DataError, match="'feature_date'"):
        add_request_features(pa.table({"tenure_days": [1]}), FEATURE_DAY)
    with pytest.raises(DataError, match="2 request time"):
        add_request_features(_rows([1], [date(2026, 1, 1)]), pa.array([date(2026, 1, 1)] * 2, pa.date32()))


def _served_batch(table: pa.Table, contract, tmp_path: Path) -> pa.Table:  # type: ignore[no-untyped-def]
    """The rows as the service sees them: through the project's online store (JSON) and back into Arrow."""
    from airflow_provider_parity.serving.online_store import entity_keys, event_time_column

    keys = entity_keys(contract)
    store = SQLiteOnlineStore(str(tmp_path / "online.db"))
    try:
        store.replace("features", newest_rows(table, keys, event_time_column(contract), served_columns(contract)), 0)
        entities = [[c] for c in table.column("customer_id").to_pylist()]
        return to_batch(contract, entities, store.read("features", entities).rows)
    finally:
        store.close()


@pytest.mark.parametrize("days_later", [0, 3])
def test_training_set_and_service_compute_identical_model_inputs(example_contract, tmp_path, days_later):
    offline = customer_features(200, now=FEATURE_DAY)
    request = FEATURE_DAY + timedelta(days=days_later)
    served = model_inputs(_served_batch(offline, example_contract, tmp_path),
                          ["tenure_days", "orders_30d", "avg_ticket_30d"], request)
    if days_later == 0:
        # The training-set build (churn.training): each row a request made on its feature date.
        trained = training_frame(offline)
    else:
        trained = add_request_features(offline, pa.array([request] * offline.num_rows,
                                                         pa.timestamp("us", tz="UTC"))).to_pandas()
    for name in NUMERIC:
        assert served.column(name).to_pylist() == [None if v != v else v for v in trained[name].tolist()], name
    assert "tenure_days_at_request" in NUMERIC and set(REQUEST_FEATURE_NAMES) <= set(served.column_names)
    expected = [t + days_later for t in offline.column("tenure_days").to_pylist()]
    assert served.column("tenure_days_at_request").to_pylist() == expected


def test_small_and_large_batches_number_days_alike():
    from airflow_provider_parity.transform.request_time import SMALL_BATCH, _days

    days = [date(1969, 12, 31), None, date(1970, 1, 1), date(2026, 3, 4)] * (SMALL_BATCH // 2)
    large = pa.array(days, pa.date32())
    assert len(large) > SMALL_BATCH
    small = [_days(large.slice(i, 4), "d") for i in range(0, 8, 4)]
    assert _days(large, "d")[:8] == small[0] + small[1] == [-1, None, 0, 20516] * 2
