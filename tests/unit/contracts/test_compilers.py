"""One contract, compiled into every gate: rules, Great Expectations, dbt."""

from __future__ import annotations

from airflow_provider_parity.contracts.dbt import to_dbt_model
from airflow_provider_parity.contracts.gx import to_expectation_suite
from airflow_provider_parity.contracts.rules import compile_rules


def test_rules_follow_the_contract(example_contract):
    ids = [r.id for r in compile_rules(example_contract, "training")]
    assert "not_null(tenure_days)" in ids
    assert "between(tenure_days)" in ids
    assert "in_set(plan)" in ids
    assert "regex(customer_id)" in ids
    assert "completeness(avg_ticket_30d)" in ids
    assert "compound_unique(customer_id,feature_date)" in ids
    assert "row_count(table)" in ids
    assert "freshness(updated_at)" in ids
    assert "not_null(churned)" in ids
    assert "not_null(churned)" not in [r.id for r in compile_rules(example_contract, "serving")]


def test_tolerances_become_mostly(example_contract):
    relaxed = example_contract.model_copy(update={"tolerances": example_contract.tolerances.model_copy(
        update={"max_null_fraction": 0.001})})
    rule = next(r for r in compile_rules(relaxed) if r.id == "not_null(tenure_days)")
    assert rule.mostly == 0.999


def test_gx_suite_has_one_expectation_per_rule(example_contract):
    suite = to_expectation_suite(example_contract, "serving")
    rules = compile_rules(example_contract, "serving")
    metas = [e.meta["parity_rule"] for e in suite.expectations]
    assert [m for m in metas if not m.startswith("exists(")] == [r.id for r in rules]
    assert suite.name == "customer_features.serving"
    between = next(e for e in suite.expectations if e.meta["parity_rule"] == "between(orders_30d)")
    assert (between.min_value, between.max_value) == (0, 1000)
    assert suite.meta["parity_contract_hash"] == example_contract.fingerprint


def test_dbt_model_carries_contract_and_tests(example_contract):
    model = to_dbt_model(example_contract, adapter="duckdb")
    assert model["config"]["contract"] == {"enforced": True}
    cols = {c["name"]: c for c in model["columns"]}
    assert cols["tenure_days"]["data_type"] == "bigint"
    # No not_null constraint by default: the database would abort the build at the first null;
    # the not_null test counts the null rows instead.
    assert "constraints" not in cols["tenure_days"]
    assert to_dbt_model(example_contract, constraints=True)["columns"][2]["constraints"] == [{"type": "not_null"}]
    assert "not_null" in cols["tenure_days"]["data_tests"]
    # accepted_values counts rows (dbt's default counts distinct values), as every engine does.
    assert {"accepted_values": {"arguments": {"values": ["basic", "plus", "premium"]},
                                "config": {"fail_calc": "coalesce(sum(n_records), 0)"}}} in cols["plan"]["data_tests"]
    assert model["data_tests"][0] == {"parity_unique_combination": {"arguments": {"columns": ["customer_id", "feature_date"]}}}
