"""The reference bundle on a production-like Airflow, driven through the REST API only.

PostgreSQL metadata database, LocalExecutor, ``api-server``, ``scheduler``, ``dag-processor``
and ``triggerer`` as real processes, MLflow as a real ``mlflow server`` (see conftest.py).
``feature_pipeline`` builds one clean day and commits it to the Delta lake, the online service
(the bundle's stand-in, run here) logs the day's traffic, ``daily_retraining`` trains on the
pinned snapshot, registers the model and promotes it to ``champion``, and
``serving_skew_monitor`` compares the traffic with the champion's training data.
The scheduler creates no run by itself here (``use_job_schedule`` off), so the runs the tests
trigger are the only ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import prodlike_stack as ps
import pytest
from prodlike_stack import RunningStack as Prodlike

pytestmark = [pytest.mark.integration, pytest.mark.deploy]

# A fixed day keeps a failure reproducible: every gate judges a run by its own date (the data
# interval end, dbt's parity_as_of), never by the wall clock. As in production, the runs are
# dated the midnight (UTC) that ends the day they process.
DAY = "2026-03-01"
"""The clean day feature_pipeline builds and the online service serves."""
RUN_DATE = "2026-03-02T00:00:00+00:00"
"""Every run's logical date: the midnight that ends ``DAY``."""
BUNDLE_DAGS = ("feature_pipeline", "daily_retraining", "serving_skew_monitor", "reproduce_training_set")
MODEL = "churn"
RUN_TIMEOUT = 420.0
"""Seconds a run may take before the test gives up (typically well under two minutes)."""


@dataclass(frozen=True)
class Run:
    """A finished DAG run as the REST API reports it."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str | None]

    def explain(self, env: Prodlike) -> str:
        """State, task states and the task logs' tails, for a failure message."""
        return (f"{self.dag_id} {self.run_id}: {self.state}; tasks {self.tasks}\n"
                f"{ps.task_log_tails(env.airflow, self.dag_id, self.run_id)}")


def _run(env: Prodlike, dag_id: str, conf: dict[str, Any]) -> Run:
    """Trigger ``dag_id`` through the API and wait for it to finish."""
    run_id = f"prodlike__{dag_id}"
    try:
        state = ps.run_to_end(env, dag_id, conf=conf, run_id=run_id, logical_date=RUN_DATE, timeout=RUN_TIMEOUT)
    except ps.StackError as error:
        pytest.fail(str(error), pytrace=False)
    return Run(dag_id, run_id, state, ps.task_states(env.api, dag_id, run_id))


@pytest.fixture(scope="module")
def feature_run(prodlike: Prodlike) -> Run:
    return _run(prodlike, "feature_pipeline", {"day": DAY})


@pytest.fixture(scope="module")
def served(prodlike: Prodlike, feature_run: Run) -> dict[str, Any]:
    """The online service's feature log for ``DAY``, which daily_retraining's skew gate reads."""
    if feature_run.state != "success":
        pytest.fail(f"feature_pipeline did not succeed, so there is nothing to serve: {feature_run.tasks}",
                    pytrace=False)
    return ps.serve_traffic(prodlike.airflow, DAY)


@pytest.fixture(scope="module")
def retraining_run(prodlike: Prodlike, served: dict[str, Any]) -> Run:
    return _run(prodlike, "daily_retraining", {})


@pytest.fixture(scope="module")
def monitor_run(prodlike: Prodlike, retraining_run: Run) -> Run:
    if retraining_run.state != "success":
        pytest.fail(f"daily_retraining did not succeed, so there is no champion to monitor: {retraining_run.tasks}",
                    pytrace=False)
    return _run(prodlike, "serving_skew_monitor", {})


@pytest.fixture(scope="module")
def lineage_events(prodlike: Prodlike, retraining_run: Run) -> list[dict[str, Any]]:
    path = prodlike.airflow.openlineage_file
    assert path.exists(), f"no OpenLineage events file at {path}"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_bundle_parses_without_import_errors(prodlike: Prodlike) -> None:
    for dag_id in BUNDLE_DAGS:
        dag = ps.wait_dag_parsed(prodlike.api, dag_id, alive=prodlike.stack.check_alive)
        assert dag["bundle_name"] == "dags-folder" and not dag["has_import_errors"], dag
    errors = prodlike.api.get("/api/v2/importErrors")
    assert errors["total_entries"] == 0, errors["import_errors"]


def test_api_requires_a_valid_login(prodlike: Prodlike) -> None:
    with pytest.raises(ps.ApiError) as refused:
        prodlike.api.login(prodlike.airflow.username, "not-the-password")
    assert refused.value.status == 401
    with pytest.raises(ps.ApiError) as refused:
        ps.AirflowApi(prodlike.airflow, token="not-a-jwt").get("/api/v2/dags")
    assert refused.value.status in (401, 403)
    assert prodlike.api.get("/api/v2/dags")["total_entries"] >= len(BUNDLE_DAGS)


def test_feature_pipeline_succeeds_on_a_clean_day(prodlike: Prodlike, feature_run: Run) -> None:
    assert feature_run.state == "success", feature_run.explain(prodlike)
    assert feature_run.tasks and set(feature_run.tasks.values()) == {"success"}, feature_run.explain(prodlike)


def test_feature_pipeline_emits_the_features_asset_event(prodlike: Prodlike, feature_run: Run) -> None:
    events = prodlike.api.get("/api/v2/assets/events", source_dag_id="feature_pipeline",
                              source_run_id=feature_run.run_id)["asset_events"]
    assert [e["source_task_id"] for e in events] == ["write_features"], events


def test_daily_retraining_succeeds_and_promotes_a_champion(prodlike: Prodlike, retraining_run: Run) -> None:
    assert retraining_run.state == "success", retraining_run.explain(prodlike)
    assert retraining_run.tasks and set(retraining_run.tasks.values()) == {"success"}, retraining_run.explain(prodlike)

    registered = _xcom(prodlike, retraining_run, "register")
    pin = _xcom(prodlike, retraining_run, "pin_snapshot")
    from mlflow import MlflowClient

    from airflow_provider_parity.tracking import keys

    champion = MlflowClient(tracking_uri=prodlike.mlflow_url).get_model_version_by_alias(MODEL, keys.CHAMPION)
    assert (str(champion.version), champion.run_id) == (str(registered["version"]), registered["run_id"])
    # The champion carries the Delta version it was trained on, as pinned by this very run.
    assert champion.tags[keys.AIRFLOW_RUN_ID] == retraining_run.run_id
    inputs = json.loads(champion.tags[keys.DATA])
    assert [(i["version"], i["fingerprint"]) for i in inputs] == [(pin["version"], pin["fingerprint"])], inputs


def test_serving_skew_monitor_compares_with_the_champion_and_asks_nothing(prodlike: Prodlike,
                                                                          monitor_run: Run) -> None:
    # The champion's training snapshot is found through the mlflow server; same-day traffic does
    # not drift from it, and every served value equals its offline value, so no retraining is requested.
    # The retraining policy decides "skip" (recorded, and the task may skip with it); the watch of the new
    # champion finds nothing to roll back.
    expected = {"find_champion": "success", "serving_skew": "success", "feature_skew": "success",
                "request_retraining": "skipped", "watch_champion": "success", "verdict": "success"}
    tasks = dict(monitor_run.tasks)
    assert tasks.pop("retraining_policy", None) in ("success", "skipped"), monitor_run.explain(prodlike)
    assert (monitor_run.state, tasks) == ("success", expected), monitor_run.explain(prodlike)


def test_task_logs_are_served_by_the_api(prodlike: Prodlike, retraining_run: Run) -> None:
    answer = prodlike.api.get(f"/api/v2/dags/daily_retraining/dagRuns/{retraining_run.run_id}"
                              "/taskInstances/train/logs/1")
    # The training step reached the mlflow server through the mlflow_default connection.
    assert prodlike.mlflow_url in json.dumps(answer["content"])


def test_openlineage_events_reach_the_file_transport(lineage_events: list[dict[str, Any]], feature_run: Run,
                                                     retraining_run: Run) -> None:
    completed = {e["job"]["name"] for e in lineage_events if e["eventType"] == "COMPLETE"}
    for run in (feature_run, retraining_run):
        expected = {f"{run.dag_id}.{task_id}" for task_id in run.tasks}
        assert expected <= completed, f"no COMPLETE event for {sorted(expected - completed)}"
    assert {e["job"]["namespace"] for e in lineage_events} == {ps.OPENLINEAGE_NAMESPACE}

    gate = [e for e in lineage_events
            if e["eventType"] == "COMPLETE" and e["job"]["name"] == "daily_retraining.contract_gate"]
    facets = [name for event in gate for dataset in event["inputs"] for name in dataset.get("inputFacets", {})]
    assert "dataQualityAssertions" in facets, gate


def _xcom(env: Prodlike, run: Run, task_id: str) -> dict[str, Any]:
    """A task's return value, read through the REST API."""
    value = env.api.get(f"/api/v2/dags/{run.dag_id}/dagRuns/{run.run_id}/taskInstances/{task_id}"
                        "/xcomEntries/return_value")["value"]
    # The API hands back the stored JSON: a document, or a string holding one.
    return dict(json.loads(value) if isinstance(value, str) else value)


# Outside `make test` (run it with `make test-approval`): under LocalExecutor, Airflow 3.3 sometimes marks a task
# that just paused AWAITING_INPUT up_for_retry (the executor reports the paused process as finished while the
# TI is queued), and the run then asks again instead of resuming. The approval path itself is tested against a
# real api-server in tests/integration/tracking/test_mlflow_approval.py, which runs in `make test`.
@pytest.mark.approval_stack
def test_a_challenger_waits_for_approval_and_the_rest_api_approves_it(prodlike: Prodlike, retraining_run: Run) -> None:
    """The full stack's approve path: the scheduler parks promotion_approval in awaiting_input, the REST API
    answers, the scheduler resumes it, and only then does the alias move."""
    from mlflow import MlflowClient

    from airflow_provider_parity.tracking import keys

    if retraining_run.state != "success":
        pytest.fail(f"daily_retraining did not succeed, so there is no champion to replace: {retraining_run.tasks}",
                    pytrace=False)
    dag_id, run_id = "daily_retraining", "prodlike__approval"
    policy = {"required_gates": ["contract", "skew"], "approval": "required", "approval_timeout": "1h"}
    # The same day again, on purpose: the retraining policy must not skip it as too soon after the last one.
    from churn.retraining_policy import RETRAINING_POLICY

    retraining = {**RETRAINING_POLICY, "min_interval": None, "evaluation_window": None}
    # A run without a logical date (RUN_DATE has one already), judged on the same day through its ``day`` param.
    ps.start_run(prodlike, dag_id, conf={"promotion_policy": policy, "retraining_policy": retraining, "day": DAY},
                 run_id=run_id, logical_date=None)
    hitl = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/promotion_approval/-1/hitlDetails"

    def asked() -> dict[str, Any] | None:
        states = ps.task_states(prodlike.api, dag_id, run_id)
        if "failed" in states.values():
            pytest.fail(f"the run failed before asking: {states}", pytrace=False)
        if states.get("promotion_approval") in ("skipped", "upstream_failed", "success"):
            pytest.fail(f"the run ended without asking: {states}", pytrace=False)
        return prodlike.api.get(hitl) if states.get("promotion_approval") == "awaiting_input" else None

    request = ps.wait_for("the approval request", asked, timeout=RUN_TIMEOUT, interval=2,
                          alive=prodlike.stack.check_alive)
    client = MlflowClient(tracking_uri=prodlike.mlflow_url)
    before = client.get_model_version_by_alias(MODEL, keys.CHAMPION).version
    assert "Champion vs challenger per slice" in request["body"] and f"over v{before}" in request["body"]
    prodlike.api.patch(hitl, {"chosen_options": ["Approve"], "params_input": {"reason": "read the evidence"}})
    state = ps.finish_run(prodlike, dag_id, run_id, timeout=RUN_TIMEOUT)
    run = Run(dag_id, run_id, state, ps.task_states(prodlike.api, dag_id, run_id))
    assert state == "success", run.explain(prodlike)
    champion = client.get_model_version_by_alias(MODEL, keys.CHAMPION)
    assert str(champion.version) == str(_xcom(prodlike, run, "register")["version"]) != str(before)
    assert (champion.tags[keys.APPROVAL_STATUS], champion.tags[keys.APPROVAL_REASON]) == \
        ("approved", "read the evidence")
    assert champion.tags[keys.APPROVAL_BY] == prodlike.airflow.username
