"""Both engines (Great Expectations, Arrow) give the same verdicts from the same compiled rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.validation import check_batch, validate_table

FAULTS = {"none": [], "nulls": ["not_null(tenure_days)"], "range": ["between(orders_30d)"],
          "duplicates": ["compound_unique(customer_id,feature_date)"], "category": ["in_set(plan)"],
          "stale": ["freshness(updated_at)"]}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("engine", ["gx", "arrow"])
def test_exactly_the_injected_fault_fails(example_contract, fault, engine):
    result = validate_table(example_contract, customer_features(400, fault=fault), source="t", engine=engine,
                            environment="training")
    assert [r.rule for r in result.failures] == FAULTS[fault]
    assert result.status == ("passed" if fault == "none" else "failed")


def test_engines_agree_on_counts(example_contract):
    table = customer_features(400, fault="range")
    gx_rules = {r.rule: r for r in validate_table(example_contract, table, source="t", engine="gx").rules}
    arrow_rules = {r.rule: r for r in validate_table(example_contract, table, source="t", engine="arrow").rules}
    assert gx_rules.keys() == arrow_rules.keys()
    bad_gx, bad_arrow = gx_rules["between(orders_30d)"], arrow_rules["between(orders_30d)"]
    assert bad_gx.unexpected_count == bad_arrow.unexpected_count == 4
    assert bad_gx.observed == bad_arrow.observed
    assert bad_gx.sample == bad_arrow.sample == [-1, -1, -1, -1]


def test_failure_message_names_rule_column_observed_and_expected(example_contract):
    result = validate_table(example_contract, customer_features(400, fault="range"), source="t.parquet")
    summary = result.summary()
    assert "\n" not in summary
    assert "between(orders_30d): observed 4 offending values (1.0000%), e.g. [-1, -1, -1, -1], " \
           "expected values within [0, 1000]" in summary


def test_tolerance_forgives_a_small_share(example_contract):
    lenient = example_contract.model_copy(update={"tolerances": example_contract.tolerances.model_copy(
        update={"max_invalid_fraction": 0.02})})
    result = validate_table(lenient, customer_features(400, fault="range"), source="t", engine="gx")
    assert result.success


def test_serving_check_reports_schema_problems_as_data(example_contract):
    batch = customer_features(50).drop_columns(["churned", "tenure_days"])
    result = check_batch(example_contract, batch)
    assert [r.rule for r in result.failures] == ["exists(tenure_days)"]
    typed = customer_features(50).set_column(2, "tenure_days", pa.array(["x"] * 50))
    result = check_batch(example_contract, typed)
    assert [r.rule for r in result.failures] == ["type(tenure_days)"]
    assert "expected type integer" in result.summary()


def test_serving_check_accepts_pandas_and_dicts(example_contract):
    frame = customer_features(20, fault="range").to_pandas()
    assert [r.rule for r in check_batch(example_contract, frame).failures] == ["between(orders_30d)"]
    now = datetime.now(UTC)
    result = check_batch(example_contract.model_copy(update={"row_count": None}), {
        "customer_id": ["C000001"], "feature_date": [now.date()], "tenure_days": [3], "orders_30d": [2],
        "avg_ticket_30d": [12.5], "plan": ["gold"], "region": ["north"], "updated_at": [now]})
    assert [r.rule for r in result.failures] == ["in_set(plan)"]


def test_serving_check_leaves_dataset_rules_to_the_dataset_gate(example_contract):
    # A request log repeats customers and a batch is small: neither breaks the contract's dataset rules.
    batch = pa.concat_tables([customer_features(20)] * 3)
    assert check_batch(example_contract, batch).success
    whole = check_batch(example_contract, batch, dataset_rules=True)
    assert {r.rule for r in whole.failures} == {"compound_unique(customer_id,feature_date)", "row_count(table)"}
