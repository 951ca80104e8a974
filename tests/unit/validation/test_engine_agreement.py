"""Every engine (DuckDB SQL, Great Expectations, Arrow, and Spark SQL on the run's one Spark session) gives the
same verdict and counts on the same data. The Spark cases are marked ``integration``/``spark``: they start a JVM."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.exceptions import DataError, SchemaMismatchError
from airflow_provider_parity.validation.validate import ENGINES, open_data, validate_data, validate_table

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
ALL_ENGINES = (*ENGINES, pytest.param("spark", marks=[pytest.mark.integration, pytest.mark.spark]))
ROWS = 400


def _with(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _faulty(fault: str) -> pa.Table:
    if fault in ("none", "nulls", "range", "duplicates", "category", "stale"):
        return customer_features(ROWS, fault=fault, now=NOW)  # type: ignore[arg-type]
    table = customer_features(ROWS, now=NOW)
    if fault == "regex":  # three keys that break ^C[0-9]{6}$ but stay unique
        ids = table["customer_id"].to_pylist()
        return _with(table, "customer_id", pa.array(["bad-1", "bad-2", "c000003"] + ids[3:]))
    if fault == "completeness":  # 30% nulls where the contract wants 80% filled
        mask = pa.array([i % 10 < 3 for i in range(ROWS)])
        return _with(table, "avg_ticket_30d", pc.if_else(mask, pa.scalar(None, pa.float64()),
                                                         table["avg_ticket_30d"]))
    if fault == "row_count":
        return table.slice(0, 50)
    if fault == "null_category":  # nulls in a set-checked column: a not_null failure, never an in_set one
        plan = table["plan"].to_pylist()
        return _with(table, "plan", pa.array([None, None] + plan[2:], pa.string()))
    raise AssertionError(fault)


FAULTS = {"none": [], "nulls": ["not_null(tenure_days)"], "range": ["between(orders_30d)"],
          "duplicates": ["compound_unique(customer_id,feature_date)"], "category": ["in_set(plan)"],
          "stale": ["freshness(updated_at)"], "regex": ["regex(customer_id)"],
          "completeness": ["completeness(avg_ticket_30d)"], "row_count": ["row_count(table)"],
          "null_category": ["not_null(plan)"]}


@pytest.fixture
def engine(request):  # type: ignore[no-untyped-def]
    """The engine under test (parametrised indirectly); ``spark`` makes the shared session the active one."""
    if request.param == "spark":
        request.getfixturevalue("spark")
    return request.param


def _counts(result):  # type: ignore[no-untyped-def]
    return {r.rule: (r.success, r.unexpected_count,
                     None if r.unexpected_fraction is None else round(r.unexpected_fraction, 9)) for r in result.rules}


@pytest.fixture(scope="module")
def arrow_results(example_contract):  # type: ignore[no-untyped-def]
    return {fault: validate_table(example_contract, _faulty(fault), source="t", engine="arrow", now=NOW)
            for fault in FAULTS}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_same_verdict_failures_and_counts(example_contract, arrow_results, engine, fault):
    result = validate_table(example_contract, _faulty(fault), source="t", engine=engine, now=NOW)
    assert [r.rule for r in result.failures] == FAULTS[fault]
    assert result.status == ("passed" if fault == "none" else "failed")
    assert _counts(result) == _counts(arrow_results[fault])
    failed = {r.rule: r for r in result.failures}
    for rule in arrow_results[fault].failures:
        assert failed[rule.rule].observed == rule.observed
        if rule.kind in ("between", "in_set", "regex"):  # GX also samples key rows; the report shows values only
            assert failed[rule.rule].sample == rule.sample


def test_duckdb_reports_the_same_wording_metrics_and_samples(example_contract, arrow_results):
    result = validate_table(example_contract, _faulty("range"), source="t", engine="duckdb", now=NOW)
    expected = arrow_results["range"]
    assert result.summary().replace("duckdb", "arrow") == expected.summary()
    assert result.column_metrics == expected.column_metrics
    assert result.failures[0].sample == [-1, -1, -1, -1]


def _write(table: pa.Table, kind: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if kind == "parquet":
        pq.write_table(table, tmp_path / "t.parquet", row_group_size=100)
        return str(tmp_path / "t.parquet")
    if kind == "folder":
        (tmp_path / "dir").mkdir()
        pq.write_table(table.slice(0, 150), tmp_path / "dir" / "a.parquet")
        pq.write_table(table.slice(150), tmp_path / "dir" / "b.parquet")
        return str(tmp_path / "dir")
    from deltalake import write_deltalake

    write_deltalake(str(tmp_path / "delta"), table)
    return str(tmp_path / "delta")


@pytest.mark.parametrize("kind", ["parquet", "folder", "delta"])
@pytest.mark.parametrize("fault", ["none", "range", "duplicates", "category"])
def test_file_and_delta_sources_agree(example_contract, arrow_results, tmp_path, kind, fault):
    path = _write(_faulty(fault), kind, tmp_path)
    opened = open_data(path, engine="duckdb")
    assert not hasattr(opened, "table")  # scanned where it lies: nothing loaded into Arrow
    result = validate_data(example_contract, opened, engine="duckdb", now=NOW)
    assert result.engine == "duckdb"
    assert result.version == (0 if kind == "delta" else None)
    assert _counts(result) == _counts(arrow_results[fault])
    loaded = validate_data(example_contract, open_data(path, engine="arrow"), engine="arrow", now=NOW)
    assert _counts(loaded) == _counts(result)


@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_bad_input_is_refused_the_same_way(example_contract, engine):
    table = customer_features(100, now=NOW)
    nan = _with(table, "avg_ticket_30d", pa.array([float("nan")] + table["avg_ticket_30d"].to_pylist()[1:]))
    with pytest.raises(DataError, match="column 'avg_ticket_30d' holds 1 NaN and 0 infinite"):
        validate_table(example_contract, nan, source="t", engine=engine)
    with pytest.raises(DataError, match="empty"):
        validate_table(example_contract, table.slice(0, 0), source="t", engine=engine)
    with pytest.raises(SchemaMismatchError, match="exists\\(tenure_days\\)"):
        validate_table(example_contract, table.drop_columns(["tenure_days"]), source="t", engine=engine)


def test_unreadable_parquet_is_a_data_error(tmp_path):
    bad = tmp_path / "x.parquet"
    bad.write_text("not parquet")
    with pytest.raises(DataError, match="cannot read as parquet"):
        open_data(str(bad), engine="duckdb")
    with pytest.raises(DataError, match="path does not exist"):
        open_data(str(tmp_path / "missing"), engine="duckdb")


UNIQUE_CONTRACT = """
dataset: {name: keys, owner: t, version: 1.0.0}
columns:
  - {name: id, type: integer, constraints: {unique: true}}
  - {name: a, type: string, nullable: false}
  - {name: b, type: integer, nullable: false}
primary_key: [a, b]
"""


@pytest.mark.parametrize("engine", ALL_ENGINES, indirect=True)
def test_duplicates_mean_every_row_of_a_repeated_key(tmp_path, engine):
    from airflow_provider_parity.contracts import load_contract

    (tmp_path / "c.yaml").write_text(UNIQUE_CONTRACT)
    contract = load_contract(tmp_path / "c.yaml")
    # id: 7 three times, 8 twice, nulls skipped -> 5 rows; (a, b): ("x", 1) twice -> 2 rows.
    table = pa.table({"id": [7, 7, 7, 8, 8, 1, None, None], "a": ["x", "x", "y", "z", "w", "v", "u", "t"],
                      "b": [1, 1, 2, 3, 4, 5, 6, 7]})
    result = validate_table(contract, table, source="t", engine=engine)
    assert {r.rule: r.unexpected_count for r in result.failures} == {"unique(id)": 5, "compound_unique(a,b)": 2}
    assert [r.observed for r in result.failures] == ["5 duplicated values (83.3333%)", "2 rows with a repeated key (25.0000%)"]


@pytest.mark.integration
@pytest.mark.spark
@pytest.mark.parametrize("kind", ["folder", "delta"])
def test_spark_scans_files_and_delta_versions_where_they_lie(example_contract, arrow_results, tmp_path, spark, kind):
    path = _write(_faulty("duplicates"), kind, tmp_path)
    opened = open_data(path, engine="spark")
    result = validate_data(example_contract, opened, engine="spark", now=NOW)
    assert (result.engine, result.version) == ("spark", 0 if kind == "delta" else None)
    assert _counts(result) == _counts(arrow_results["duplicates"])
    # One aggregate query for every rule, then the GROUP BY that counts the repeated keys' rows.
    queries = opened.con.queries  # type: ignore[union-attr]
    assert len(queries) == 2 and "GROUP BY" in queries[1]
    assert "`customer_id`" in queries[0]  # Spark's identifier quoting, not DuckDB's
