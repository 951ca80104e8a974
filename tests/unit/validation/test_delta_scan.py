"""Delta tables in the default engine: DuckDB's parquet scan over the log's file list only where that is exact."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from deltalake import write_deltalake

from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.exceptions import EngineError
from airflow_provider_parity.validation.sql_engine import open_source, validate_source
from airflow_provider_parity.validation.validate import validate_table

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _counts(result):  # type: ignore[no-untyped-def]
    return {r.rule: (r.success, r.unexpected_count) for r in result.rules}


def test_removed_files_are_never_read(example_contract, tmp_path):
    clean, faulty = customer_features(300, now=NOW), customer_features(300, fault="range", now=NOW)
    write_deltalake(str(tmp_path / "t"), clean)
    write_deltalake(str(tmp_path / "t"), faulty, mode="overwrite")  # version 0's file stays in the folder
    latest = open_source(str(tmp_path / "t"))
    assert latest.relation.startswith("read_parquet(")  # DuckDB's own scan of the listed files
    assert _counts(validate_source(example_contract, latest, now=NOW)) == \
        _counts(validate_table(example_contract, faulty, source="t", engine="arrow", now=NOW))
    first = validate_source(example_contract, open_source(str(tmp_path / "t"), version=0), now=NOW)
    assert first.success and first.row_count == 300 and first.version == 0


@pytest.mark.parametrize("config", ["partitioned", "column_mapping"])
def test_tables_whose_files_are_not_the_rows_go_through_delta_rs_or_are_refused(example_contract, tmp_path, config):
    table = customer_features(300, fault="category", now=NOW)
    if config == "partitioned":  # the partition column's values are in the log, not in the files
        write_deltalake(str(tmp_path / "t"), table, partition_by=["region"])
    else:  # the files hold physical column names
        write_deltalake(str(tmp_path / "t"), table,
                        configuration={"delta.columnMapping.mode": "name", "delta.minReaderVersion": "2",
                                       "delta.minWriterVersion": "5"})
    if config == "column_mapping":  # never read as plain parquet (physical names): delta-rs refuses it clearly
        with pytest.raises(EngineError, match="column mapping"):
            open_source(str(tmp_path / "t"))
        return
    opened = open_source(str(tmp_path / "t"))
    assert not opened.relation.startswith("read_parquet(")
    assert _counts(validate_source(example_contract, opened, now=NOW)) == \
        _counts(validate_table(example_contract, table, source="t", engine="arrow", now=NOW))
