"""The compiled rules run inside a real PostgreSQL (``sql=``/``conn_id=``): DuckDB's verdicts and counts, no rows moved."""

from __future__ import annotations

import pyarrow as pa
import pytest
from unit.validation.test_engine_agreement import FAULTS, NOW, _counts, _faulty

from airflow_provider_parity.cli import main
from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.operators.common import open_sql
from airflow_provider_parity.validation.pushdown import PushdownSource
from airflow_provider_parity.validation.validate import validate_data, validate_table

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def loaded(postgres):  # type: ignore[no-untyped-def]
    """The engine-agreement cases, one PostgreSQL table per fault, and their Arrow originals."""
    tables = {fault: _faulty(fault) for fault in FAULTS}
    for fault, table in tables.items():
        postgres.load(f"features_{fault}", table)
    return tables


def _pushdown(example_contract, sql: str):  # type: ignore[no-untyped-def]
    opened = open_sql("parity_pg", sql, engine="duckdb")
    assert isinstance(opened, PushdownSource)  # nothing fetched: the database runs the rules
    return validate_data(example_contract, opened, engine="duckdb", now=NOW)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_postgres_gives_duckdbs_verdict_counts_and_samples(example_contract, loaded, fault):
    result = _pushdown(example_contract, f"features_{fault}")
    expected = validate_table(example_contract, loaded[fault], source="t", engine="duckdb", now=NOW)
    assert result.engine == "postgres"
    assert [r.rule for r in result.failures] == FAULTS[fault]
    assert result.status == expected.status
    assert _counts(result) == _counts(expected)
    assert [r.observed for r in result.rules] == [r.observed for r in expected.rules]  # samples included
    assert result.column_metrics == expected.column_metrics


def test_a_select_is_wrapped_as_a_subquery(example_contract, loaded):
    result = _pushdown(example_contract, "SELECT * FROM features_category WHERE plan <> 'enterprise';")
    expected = validate_table(example_contract, loaded["category"].filter(pa.compute.field("plan") != "enterprise"),
                              source="t", engine="duckdb", now=NOW)
    assert _counts(result) == _counts(expected)
    assert result.source == "parity_pg:SELECT * FROM features_category WHERE plan <> 'enterprise';"


def test_no_rows_are_pulled_to_the_worker(example_contract, loaded, postgres):
    postgres.reset_statistics()
    result = _pushdown(example_contract, "features_range")
    calls, rows = postgres.rows_returned("features_range")
    # One aggregate row, and the 4 offending values of the one failed value rule as samples.
    assert result.failures[0].unexpected_count == 4
    assert (calls, rows) == (3, 1 + 4)  # the LIMIT 0 schema probe, the scan, the samples
    # The measure can fail: the fetching path (engine arrow) moves every row.
    postgres.reset_statistics()
    open_sql("parity_pg", "features_range", engine="arrow")
    assert postgres.rows_returned("features_range")[1] == loaded["range"].num_rows


UNIQUE_CONTRACT = """
dataset: {name: keys, owner: t, version: 1.0.0}
columns:
  - {name: id, type: integer, constraints: {unique: true}}
  - {name: a, type: string, nullable: false}
  - {name: c, type: integer, nullable: false}
  - {name: b, type: float, constraints: {min: 0}}
primary_key: [a, c]
"""


def test_duplicates_and_nan_as_in_duckdb(postgres, tmp_path):
    from airflow_provider_parity.contracts import load_contract

    (tmp_path / "c.yaml").write_text(UNIQUE_CONTRACT)
    contract = load_contract(tmp_path / "c.yaml")
    # id: 7 three times, 8 twice, nulls skipped; (a, c): ("x", 1) twice; one negative b.
    table = pa.table({"id": [7, 7, 7, 8, 8, 1, None, None], "a": ["x", "x", "y", "z", "w", "v", "u", "t"],
                      "c": [1, 1, 2, 3, 4, 5, 6, 7], "b": [1.0, 2.0, 3.0, -1.0, 5.0, 6.0, 7.0, 8.0]})
    postgres.load("keys", table)
    result = validate_data(contract, open_sql("parity_pg", "keys", engine="duckdb"), engine="duckdb")
    expected = validate_table(contract, table, source="t", engine="duckdb")
    assert _counts(result) == _counts(expected)
    assert {r.rule: r.unexpected_count for r in result.failures} == {"unique(id)": 5, "compound_unique(a,c)": 2,
                                                                     "between(b)": 1}
    postgres.load("nan", table.set_column(3, "b", pa.array([float("nan")] + [1.0] * 7)))
    with pytest.raises(DataError, match="column 'b' holds 1 NaN and 0 infinite"):
        validate_data(contract, open_sql("parity_pg", "nan", engine="duckdb"), engine="duckdb")


def test_cli_pushes_down_and_refuses_bad_queries_in_one_line(example_contract_path, postgres, capsys):
    from airflow_provider_parity.examples import customer_features

    postgres.load("fresh", customer_features(200))  # the CLI judges freshness against the clock
    postgres.load("fresh_range", customer_features(200, fault="range"))
    contract = str(example_contract_path)
    assert main(["validate", "--contract", contract, "--conn-id", "parity_pg", "--sql", "fresh"]) == 0
    assert main(["validate", "--contract", contract, "--conn-id", "parity_pg", "--sql", "fresh_range"]) == 1
    capsys.readouterr()
    assert main(["validate", "--contract", contract, "--conn-id", "parity_pg", "--sql", "no_such_table"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and 'relation "no_such_table" does not exist' in err, err
    assert main(["validate", "--contract", contract, "--sql", "features_none"]) == 2
    assert "--sql needs --conn-id" in capsys.readouterr().err
    assert main(["validate", "--contract", contract, "--conn-id", "nowhere", "--sql", "features_none"]) == 2
    assert "connection 'nowhere'" in capsys.readouterr().err


def test_the_gate_operator_pushes_sql_down(example_contract_path, loaded, postgres):
    from airflow_provider_parity.operators.contract_gate import DataContractGateOperator

    gate = DataContractGateOperator(task_id="gate", contract_path=str(example_contract_path), conn_id="parity_pg",
                                    sql="features_category")
    assert isinstance(gate._load(), PushdownSource)
    fetched = DataContractGateOperator(task_id="fetched", contract_path=str(example_contract_path),
                                       conn_id="parity_pg", sql="features_category", engine="arrow")
    assert fetched._load().table.num_rows == loaded["category"].num_rows  # gx/arrow still fetch the rows
