"""FeatureSkewGateOperator: blocks with its outcome in XCom, the ledger and lineage; passes a clean log."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from skew_data import DAY2, offline_days, round_ticket, served, write_delta

from airflow_provider_parity.operators.feature_skew import FeatureSkewGateOperator


@pytest.fixture
def tables(tmp_path):
    day1, day2 = offline_days(2000)
    offline = write_delta(tmp_path / "features", day1, day2)
    morning = served(day2, DAY2 + timedelta(hours=10))
    log, rounded = round_ticket(morning, 0.02)
    return {"offline": offline, "skewed": write_delta(tmp_path / "skewed_log", log),
            "clean": write_delta(tmp_path / "clean_log", morning), "rounded": rounded}


def test_rounding_skew_blocks_with_the_outcome_in_xcom_ledger_reports_and_lineage(tables, example_contract_path,
                                                                                 task_context, tmp_path):
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    op = FeatureSkewGateOperator(task_id="feature_skew", serving_log=tables["skewed"], offline=tables["offline"],
                                 offline_version="1", contract_path=str(example_contract_path))
    start = op.get_openlineage_facets_on_start()
    assert [d.name for d in start.inputs] == [tables["skewed"], tables["offline"]]
    assert start.inputs[1].facets["version"].datasetVersion == "1" and "parity_outcome" not in start.run_facets
    context = task_context("feature_skew")
    with pytest.raises(AirflowFailException, match="avg_ticket_30d: 2.00% of entities mismatched"):
        op.execute(context)
    pushed = context["ti"].pushed["parity_outcome"]
    assert (pushed["gate"], pushed["status"], pushed["blocking"]) == ("feature_skew", "failed", True)
    assert (pushed["dataset"], pushed["version"], pushed["metrics"]["offline_version"]) == (tables["skewed"], 0, 1)
    checks = {c["column"]: c for c in pushed["checks"] if c["column"]}
    assert set(checks) == {"tenure_days", "orders_30d", "avg_ticket_30d", "plan"}
    assert [c for c, check in checks.items() if not check["success"]] == ["avg_ticket_30d"]
    assert any(customer in checks["avg_ticket_30d"]["observed"] for customer in tables["rounded"])
    [stored] = read_outcomes(str(tmp_path / "ledger"))
    assert stored.to_dict() == {**pushed, "exit_code": 1}
    report = json.loads(open(pushed["reports"]["json"]).read())
    assert report["features"][2]["name"] == "avg_ticket_30d" and report["features"][2]["mismatched_entities"] == 40
    assert "avg_ticket_30d" in open(pushed["reports"]["html"]).read()
    assert context["ti"].pushed["report_html"] == pushed["reports"]["html"]
    failure = op.get_openlineage_facets_on_failure(None)
    assert failure.run_facets["parity_outcome"].status == "failed"
    assert "avg_ticket_30d" in failure.run_facets["errorMessage"].message
    log_input, offline_input = failure.inputs
    assert (log_input.name, log_input.facets["version"].datasetVersion) == (tables["skewed"], "0")
    assert offline_input.facets["version"].datasetVersion == "1"
    failed = [a for a in log_input.inputFacets["dataQualityAssertions"].assertions if not a.success]
    assert [a.column for a in failed] == ["avg_ticket_30d"] and failed[0].actual


def test_a_clean_log_passes_and_the_lookback_keeps_only_recent_requests(tables, example_contract_path, task_context):
    op = FeatureSkewGateOperator(task_id="feature_skew", serving_log=tables["clean"], offline=tables["offline"],
                                 contract_path=str(example_contract_path), log_lookback="1h",
                                 as_of=(DAY2 + timedelta(hours=10, minutes=30)).isoformat())
    context = task_context("feature_skew")
    outcome = op.execute(context)
    assert (outcome["status"], outcome["blocking"], outcome["metrics"]["requests"]) == ("passed", False, 2000)
    assert context["ti"].pushed["skew_result"]["window"].endswith("< 2026-11-22T06:30:00+00:00")
    # A window with no request in it: nothing to judge, a warning by default.
    empty = FeatureSkewGateOperator(task_id="empty", serving_log=tables["clean"], offline=tables["offline"],
                                    contract_path=str(example_contract_path), log_lookback="1h",
                                    as_of=(DAY2 + timedelta(hours=5)).isoformat())
    assert empty.execute(task_context("empty"))["status"] == "insufficient_data"


def test_bad_input_is_an_error_outcome_in_the_ledger(tables, tmp_path, task_context):
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    op = FeatureSkewGateOperator(task_id="t", serving_log=str(tmp_path / "no_log"), offline=tables["offline"],
                                 keys=["customer_id"])
    with pytest.raises(AirflowFailException, match="does not exist"):
        op.execute(task_context())
    [stored] = read_outcomes(str(tmp_path / "ledger"))
    assert (stored.gate, stored.status, stored.exit_code) == ("feature_skew", "error", 2)
    assert "does not exist" in op.get_openlineage_facets_on_failure(None).run_facets["errorMessage"].message


def test_credentials_in_a_uri_never_reach_lineage():
    op = FeatureSkewGateOperator(task_id="t", serving_log="s3://AKIAKEY:s3cr3t@bucket/log",
                                 offline="s3://AKIAKEY:s3cr3t@bucket/features")
    assert "s3cr3t" not in repr(op.get_openlineage_facets_on_start().inputs)
