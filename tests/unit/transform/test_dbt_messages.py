"""What a failed dbt build says: one line naming the test, model, column, observed versus expected."""

from __future__ import annotations

import dataclasses
import json

import pytest

from airflow_provider_parity.exceptions import ConfigurationError, DbtBuildFailed, DbtTestFailed, GateFailure
from airflow_provider_parity.transform.dbt_build import (
    DbtBuildResult,
    DbtNodeResult,
    _one_line,
    describe_failure,
    run_dbt_build,
)


def _test(test: str, *, column: str | None = "plan", failures: int = 1, **arguments) -> DbtNodeResult:  # type: ignore[no-untyped-def]
    return DbtNodeResult(unique_id=f"test.churn.{test}_x", name=f"{test}_x", resource_type="test", status="fail",
                         execution_seconds=0.1, failures=failures, model="customer_features", column=column,
                         test=test, arguments=arguments)


@pytest.mark.parametrize("node, sample, expected", [
    (_test("not_null", failures=812), None,
     "dbt test not_null on customer_features.plan failed: 812 null rows (expected 0)"),
    (_test("accepted_values", failures=2, values=["basic", "plus"]), (["value_field", "n_records"], [("gold", 3), ("free", 1)]),
     "dbt test accepted_values on customer_features.plan failed: 2 unexpected values, e.g. ['gold', 'free'] "
     "(expected one of ['basic', 'plus'])"),
    (_test("parity_between", column="avg_ticket_30d", min=0, max=5000, mostly=1.0),
     (["non_null", "offending"], [(393, 16)]),
     "dbt test parity_between on customer_features.avg_ticket_30d failed: 16 of 393 non-null values outside "
     "[0, 5000] (expected 0)"),
    (_test("parity_between", column="orders_30d", min=0, mostly=0.99), (["non_null", "offending"], [(100, 5)]),
     "dbt test parity_between on customer_features.orders_30d failed: 5 of 100 non-null values outside [0, inf] "
     "(expected at most 1.00% of non-null values)"),
    (_test("parity_regex", column="customer_id", regex="^C[0-9]{6}$", mostly=1.0), (["non_null", "offending"], [(10, 2)]),
     "dbt test parity_regex on customer_features.customer_id failed: 2 of 10 non-null values not matching "
     "^C[0-9]{6}$ (expected 0)"),
    (_test("parity_not_null_proportion", column="avg_ticket_30d", at_least=0.8), (["non_null_ratio"], [(0.61234,)]),
     "dbt test parity_not_null_proportion on customer_features.avg_ticket_30d failed: non-null share 0.6123 "
     "(expected at least 0.8)"),
    (_test("parity_row_count", column=None, min=100), (["n"], [(42,)]),
     "dbt test parity_row_count on customer_features failed: 42 rows (expected min 100)"),
    (_test("parity_unique", column="customer_id", failures=4), (["customer_id", "n"], [("C1", 2), ("C2", 2)]),
     "dbt test parity_unique on customer_features.customer_id failed: 4 duplicated values, e.g. ['C1', 'C2'] "
     "(expected each value once)"),
    (_test("relationships", column="customer_id", failures=1, to="ref('customers')", field="id"),
     (["from_field"], [("C9",)]),
     "dbt test relationships on customer_features.customer_id failed: 1 rows without a match in "
     "ref('customers').id, e.g. ['C9'] (expected 0)"),
    (_test("parity_unique_combination", column=None, failures=12, columns=["customer_id", "feature_date"]),
     (["customer_id", "feature_date", "n"], [("C000001", "2026-01-02", 2)]),
     "dbt test parity_unique_combination on customer_features failed: 12 rows with a repeated key (customer_id, feature_date)"
     ", e.g. [('C000001', '2026-01-02')] (expected each combination once)"),
    (_test("parity_max_age", column="updated_at", max_age_seconds=129600), (["newest"], [("2026-01-01 00:00:00+00",)]),
     "dbt test parity_max_age on customer_features.updated_at failed: newest value 2026-01-01 00:00:00+00 "
     "(expected within 36h of now)"),
    (_test("my_custom_test", failures=7), None,
     "dbt test my_custom_test on customer_features.plan failed: 7 failing rows (expected 0)"),
])
def test_each_failed_test_reads_as_one_line(node, sample, expected):
    assert describe_failure(node, sample) == expected


def test_freshness_names_its_reference_time():
    node = _test("parity_max_age", column="updated_at", max_age_seconds=90)
    said = describe_failure(node, (["newest"], [("2026-01-01 00:00:00+00",)]), as_of="2026-01-02T00:00:00+00:00")
    assert said.endswith("(expected within 90s of 2026-01-02T00:00:00+00:00)")


def test_without_the_sample_the_count_still_speaks():
    node = _test("parity_between", column="avg_ticket_30d", min=0, max=5000)
    assert describe_failure(node) == ("dbt test parity_between on customer_features.avg_ticket_30d failed: "
                                      "1 failing rows (expected 0)")


def test_database_errors_keep_the_cause_only():
    message = ("Runtime Error in model stg_customers (models/staging/stg_customers.sql)\n"
               '  Binder Error: Table "raw_customers" does not have a column named "signup_date"\n\n'
               "  LINE 5:     cast(raw_customers.signup_date as date) as signup_date,\n"
               "               ^")
    assert _one_line(message) == 'Binder Error: Table "raw_customers" does not have a column named "signup_date"'


def test_a_model_contract_mismatch_names_each_column():
    message = """Compilation Error in model customer_features (models/marts/customer_features.sql)
  This model has an enforced contract that failed.
  Please ensure the name, data_type, and number of columns in your contract match the columns in your model's definition.

  | column_name | definition_type          | contract_type | mismatch_reason       |
  | ----------- | ------------------------ | ------------- | --------------------- |
  | updated_at  | TIMESTAMP                | TIMESTAMP WITH TIME ZONE | data type mismatch    |
  | orders_7d   | BIGINT                   |               | missing in contract   |

  > in macro assert_columns_equivalent (macros/relations/column/columns_spec_ddl.sql)"""
    assert _one_line(message) == (
        "model contract mismatch: updated_at: model TIMESTAMP vs contract TIMESTAMP WITH TIME ZONE "
        "(data type mismatch); orders_7d: model BIGINT vs contract none (missing in contract)")


def test_the_result_is_json_serialisable():
    result = DbtBuildResult(project="churn", target="duckdb", vars={"feature_date": "2026-01-02"}, success=False,
                            nodes=[_test("not_null")], failures=1, elapsed_seconds=1.5, dbt_version="1.11.0")
    assert json.loads(json.dumps(dataclasses.asdict(result)))["nodes"][0]["arguments"] == {}
    assert result.node("not_null_x").test == "not_null"
    assert result.summary() == "dbt build churn: 1 test failed in 1.5 s"
    with pytest.raises(KeyError):
        result.node("missing")


def test_gate_classes():
    assert issubclass(DbtTestFailed, DbtBuildFailed) and issubclass(DbtBuildFailed, GateFailure)
    assert DbtTestFailed("x").exit_code == 1


def test_not_a_dbt_project_is_bad_input(tmp_path):
    with pytest.raises(ConfigurationError, match="no dbt_project.yml"):
        run_dbt_build(tmp_path)
