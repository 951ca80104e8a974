"""The ``references`` (foreign key) rule: every engine counts the child rows whose non-null value the
parent lacks (dbt's relationships count), and a missing parent is bad input, never a pass."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.contracts.rules import compile_rules
from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.validation.validate import ENGINES, open_data, validate_data

CONTRACT = Contract.model_validate({
    "dataset": {"name": "orders", "owner": "shop", "version": "1.0.0"},
    "columns": [{"name": "order_id", "type": "integer", "nullable": False},
                {"name": "customer_id", "type": "integer", "constraints": {"references": "customers.customer_id"}}],
})
ORDERS = pa.table({"order_id": list(range(1, 9)), "customer_id": [1, 2, 2, 3, None, 7, 7, 9]})
# A parent with a repeated key: the anti-join must not multiply rows, and duplicates are not its business.
CUSTOMERS = pa.table({"customer_id": [1, 2, 3, 3, 4], "name": list("abcde")})


def test_the_rule_compiles_from_the_constraint() -> None:
    rule = compile_rules(CONTRACT)[-1]
    assert (rule.kind, rule.column, rule.params) == ("references", "customer_id",
                                                     {"dataset": "customers", "column": "customer_id"})
    assert rule.expected == "values present in customers.customer_id"


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_counts_the_orphans(engine: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pq.write_table(ORDERS, tmp_path / "orders.parquet")
    pq.write_table(CUSTOMERS, tmp_path / "customers.parquet")
    data = open_data(str(tmp_path / "orders.parquet"), engine=engine)  # type: ignore[arg-type]
    result = validate_data(CONTRACT, data, engine=engine,  # type: ignore[arg-type]
                           references={"customers": str(tmp_path / "customers.parquet")})
    rule = next(r for r in result.rules if r.kind == "references")
    # 7, 7 and 9 have no customer; the null is not an orphan.
    assert (rule.success, rule.unexpected_count) == (False, 3)
    assert rule.unexpected_fraction == pytest.approx(3 / 7)
    assert {int(v) for v in rule.sample} == {7, 9}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_complete_parent_passes(engine: str) -> None:
    data = open_data(ORDERS.slice(0, 5), engine=engine)  # type: ignore[arg-type]
    result = validate_data(CONTRACT, data, engine=engine, references={"customers": CUSTOMERS})  # type: ignore[arg-type]
    assert result.success


@pytest.mark.parametrize("engine", ENGINES)
def test_a_missing_parent_is_bad_input(engine: str) -> None:
    data = open_data(ORDERS, engine=engine)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="--reference customers=PATH"):
        validate_data(CONTRACT, data, engine=engine)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="has no column 'customer_id'"):
        validate_data(CONTRACT, data, engine=engine,  # type: ignore[arg-type]
                      references={"customers": pa.table({"id": [1]})})


def test_references_must_name_dataset_and_column() -> None:
    with pytest.raises(ValueError, match="'dataset.column'"):
        Contract.model_validate({"dataset": {"name": "o", "owner": "x", "version": "1.0.0"},
                                 "columns": [{"name": "a", "type": "integer", "constraints": {"references": "nodot"}}]})


def test_odcs_round_trip_and_diff_keep_the_foreign_key() -> None:
    from airflow_provider_parity.contracts.diff import diff_contracts
    from airflow_provider_parity.contracts.odcs import from_odcs, to_odcs

    assert from_odcs(to_odcs(CONTRACT)).fingerprint == CONTRACT.fingerprint
    without = Contract.model_validate({**CONTRACT.canonical_dict(), "columns": [
        c.model_dump(exclude={"constraints"}) for c in CONTRACT.columns]})
    added = diff_contracts(without, CONTRACT).changes
    assert [(c.kind, c.breaking) for c in added] == [("references_changed", True)]
    assert [(c.kind, c.breaking) for c in diff_contracts(CONTRACT, without).changes] == [("references_changed", False)]


def test_a_gx_export_leaves_the_foreign_key_out_and_says_so() -> None:
    from airflow_provider_parity.contracts.gx import to_expectation_suite

    suite = to_expectation_suite(CONTRACT)
    assert suite.meta["parity_unchecked"] == ["references(customer_id)"]
    assert "references(customer_id)" not in {e.meta["parity_rule"] for e in suite.expectations}
    checked = to_expectation_suite(CONTRACT, references={"customers": CUSTOMERS})
    assert "parity_unchecked" not in checked.meta
    fk = next(e for e in checked.expectations if e.meta["parity_rule"] == "references(customer_id)")
    assert sorted(fk.value_set) == [1, 2, 3, 4]


@pytest.mark.integration
@pytest.mark.spark
def test_spark_counts_the_orphans_like_duckdb(tmp_path, spark) -> None:  # type: ignore[no-untyped-def]
    # The parent's keys become a temporary view on the session, as DuckDB registers them.
    pq.write_table(ORDERS, tmp_path / "orders.parquet")
    result = validate_data(CONTRACT, open_data(str(tmp_path / "orders.parquet"), engine="spark"), engine="spark",
                           references={"customers": CUSTOMERS})
    rule = next(r for r in result.rules if r.kind == "references")
    assert (result.engine, rule.success, rule.unexpected_count) == ("spark", False, 3)
    assert {int(v) for v in rule.sample} == {7, 9}


def test_the_contract_gate_operator_checks_references_and_lists_the_parent_in_lineage(tmp_path, task_context) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.operators.contract_gate import DataContractGateOperator

    pq.write_table(ORDERS, tmp_path / "orders.parquet")
    pq.write_table(CUSTOMERS, tmp_path / "customers.parquet")
    contract_path = tmp_path / "orders.yaml"
    contract_path.write_text(yaml.safe_dump(CONTRACT.model_dump(mode="json", exclude_none=True)))
    op = DataContractGateOperator(task_id="gate", contract_path=str(contract_path),
                                  data=str(tmp_path / "orders.parquet"),
                                  references={"customers": str(tmp_path / "customers.parquet")},
                                  as_of="2026-01-01T00:00:00Z")
    context = task_context("gate")
    with pytest.raises(AirflowFailException, match=r"references\(customer_id\)"):
        op.execute(context)
    outcome = context["ti"].pushed["parity_outcome"]
    [failed] = [c for c in outcome["checks"] if not c["success"]]
    assert (failed["column"], failed["value"]) == ("customer_id", pytest.approx(3 / 7))  # the offending fraction
    lineage = op.get_openlineage_facets_on_failure(None)
    assert [d.name for d in lineage.inputs] == [str(tmp_path / "orders.parquet"), str(tmp_path / "customers.parquet")]
