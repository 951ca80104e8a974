"""Data sources of the gate: Delta tables (latest and pinned), parquet, frames and callables."""

from __future__ import annotations

import pytest

from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.exceptions import BadInputError, DataError
from airflow_provider_parity.validation.sources import load_data
from airflow_provider_parity.validation.validate import validate_table


@pytest.fixture
def delta_table(tmp_path):  # type: ignore[no-untyped-def]
    from deltalake import write_deltalake

    uri = str(tmp_path / "features")
    write_deltalake(uri, customer_features(300))  # version 0: clean
    write_deltalake(uri, customer_features(300, fault="range"), mode="overwrite")  # version 1: broken
    return uri


def test_delta_latest_and_pinned_versions(delta_table, example_contract):
    latest = load_data(delta_table)
    assert (latest.version, latest.kind) == (1, "delta")
    result = validate_table(example_contract, latest.table, source=latest.source, version=latest.version)
    assert [r.rule for r in result.failures] == ["between(orders_30d)"]
    assert "(version 1)" in result.summary()
    pinned = load_data(delta_table, version=0)
    assert pinned.version == 0
    assert validate_table(example_contract, pinned.table, source=pinned.source, version=0).success


def test_a_version_the_table_never_had_is_bad_input(delta_table):
    with pytest.raises(BadInputError, match="version 7 does not exist, the latest version is 1"):
        load_data(delta_table, version=7)


def test_version_on_parquet_is_bad_input(tmp_path):
    from airflow_provider_parity.examples import write_parquet

    path = write_parquet(customer_features(10), str(tmp_path / "x.parquet"))
    with pytest.raises(DataError, match="not a Delta table"):
        load_data(path, version=3)


def test_callables_frames_and_garbage(example_contract):
    assert load_data(lambda: customer_features(20).to_pandas()).table.num_rows == 20
    assert load_data(customer_features(20)).kind == "dataframe"
    with pytest.raises(DataError, match="cannot convert"):
        load_data(lambda: 42)
