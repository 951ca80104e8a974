"""DriftGateOperator's pieces that do not need a DAG run: arguments, cold start, OpenLineage."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from airflow_provider_parity.examples import customer_features, write_parquet
from airflow_provider_parity.operators.drift import DriftGateOperator


@pytest.fixture
def paths(tmp_path):
    ref = customer_features(1000, seed=1)
    cur = customer_features(1000, seed=2)
    cur = cur.set_column(cur.schema.get_field_index("orders_30d"), "orders_30d", pc.add(cur["orders_30d"], 10))
    return write_parquet(ref, str(tmp_path / "ref.parquet")), write_parquet(cur, str(tmp_path / "cur.parquet"))


def test_needs_exactly_one_current_source():
    with pytest.raises(ValueError, match="exactly one of current= and sql="):
        DriftGateOperator(task_id="t", reference="r")
    with pytest.raises(ValueError, match="needs conn_id"):
        DriftGateOperator(task_id="t", reference="r", sql="select 1")


def test_a_profile_that_does_not_exist_yet_is_a_cold_start(paths, tmp_path):
    op = DriftGateOperator(task_id="t", reference=str(tmp_path / "none.profile.json"), current=paths[1])
    result, profile = op._run({})
    assert result.verdict == "no_baseline" and profile is None


def test_a_drifted_feature_blocks_with_its_outcome_in_xcom_ledger_and_lineage(paths, example_contract_path,
                                                                               task_context, tmp_path):
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    op = DriftGateOperator(task_id="drift_gate", reference=paths[0], current=paths[1],
                           contract_path=str(example_contract_path))
    start = op.get_openlineage_facets_on_start()
    assert [d.name for d in start.inputs] == list(paths)
    assert "parity_outcome" not in start.run_facets
    context = task_context("drift_gate")
    with pytest.raises(AirflowFailException, match="orders_30d"):
        op.execute(context)
    pushed = context["ti"].pushed["parity_outcome"]
    assert pushed["gate"] == "drift" and pushed["status"] == "failed" and pushed["blocking"] is True
    [stored] = read_outcomes(str(tmp_path / "ledger"))
    assert stored.to_dict() == {**pushed, "exit_code": 1}
    assert stored.run is not None and stored.run.task_id == "drift_gate"
    failure = op.get_openlineage_facets_on_failure(None)
    facet = failure.run_facets["parity_outcome"]
    assert facet.status == "failed" and "orders_30d" in failure.run_facets["errorMessage"].message
    columns = {c["column"] for c in facet.checks}
    assert columns == {"tenure_days", "orders_30d", "avg_ticket_30d", "plan"}
    fired = {c["name"] for c in facet.checks if not c["success"]}
    assert fired and all(name.endswith("(orders_30d)") for name in fired)  # which checks fired, by name
    # The current side's quality facet carries the same checks, with what was observed.
    assertions = failure.inputs[1].inputFacets["dataQualityAssertions"].assertions
    failed = [a for a in assertions if not a.success]
    assert {a.column for a in failed} == {"orders_30d"} and all(a.actual for a in failed)


def test_bad_input_is_in_the_failure_lineage_and_the_ledger(tmp_path, task_context):
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    op = DriftGateOperator(task_id="t", reference=str(tmp_path / "missing.parquet"), current=str(tmp_path / "x"),
                           report_dir=str(tmp_path))
    with pytest.raises(AirflowFailException, match="no such file"):
        op.execute(task_context())
    failure = op.get_openlineage_facets_on_failure(None)
    assert "no such file" in failure.run_facets["errorMessage"].message
    [stored] = read_outcomes(str(tmp_path / "ledger"))
    assert (stored.status, stored.blocking, stored.exit_code) == ("error", True, 2)


def test_credentials_in_a_uri_never_reach_lineage_or_messages(tmp_path):
    from airflow_provider_parity.drift.sources import open_source
    from airflow_provider_parity.exceptions import DataError

    op = DriftGateOperator(task_id="t", reference="s3://AKIAKEY:s3cr3t@bucket/train", current="s3://bucket/cur")
    lineage = op.get_openlineage_facets_on_start()
    assert "s3cr3t" not in repr(lineage.inputs)
    with pytest.raises(DataError) as info:
        open_source("s3://AKIAKEY:s3cr3t@bucket/train.parquet", version=3)
    assert "s3cr3t" not in str(info.value)


def test_current_lookback_compares_only_the_recent_rows(tmp_path, example_contract_path):
    from datetime import UTC, datetime, timedelta

    import pyarrow as pa

    # Old serving rows drifted; the last day's rows look like training: only they count.
    ref = customer_features(2000, seed=1)
    old = customer_features(2000, seed=2)
    old = old.set_column(old.schema.get_field_index("orders_30d"), "orders_30d", pc.add(old["orders_30d"], 10))
    recent = customer_features(2000, seed=3)
    end = datetime(2026, 11, 20, tzinfo=UTC)
    stamp = pa.timestamp("us", tz="UTC")
    old = old.append_column("served_at", pa.array([end - timedelta(days=3)] * old.num_rows, stamp))
    recent = recent.append_column("served_at", pa.array([end - timedelta(hours=2)] * recent.num_rows, stamp))
    current = write_parquet(pa.concat_tables([old, recent]), str(tmp_path / "log.parquet"))
    reference = write_parquet(ref, str(tmp_path / "ref.parquet"))
    op = DriftGateOperator(task_id="t", reference=reference, current=current, contract_path=str(example_contract_path),
                           time_column="served_at", current_lookback="24h")
    result, _ = op._run({"data_interval_end": end})
    assert result.verdict == "passed", result.message
    whole = DriftGateOperator(task_id="t", reference=reference, current=current,
                              contract_path=str(example_contract_path))
    assert whole._run({})[0].verdict == "failed"


def test_current_lookback_needs_a_timestamp_column(paths, example_contract_path):
    from datetime import UTC, datetime

    from airflow_provider_parity.exceptions import DataError

    op = DriftGateOperator(task_id="t", reference=paths[0], current=paths[1], time_column="plan",
                           current_lookback="24h", contract_path=str(example_contract_path))
    with pytest.raises(DataError, match="not a timestamp"):
        op._run({"data_interval_end": datetime(2026, 11, 20, tzinfo=UTC)})
