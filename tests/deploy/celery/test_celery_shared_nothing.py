"""The bundle on the CeleryExecutor with two workers that share nothing but S3, PostgreSQL and Redis.

Each worker has its own queue, hostname and empty local folders; the cluster policy sends a
task and the task after it to different workers, so every handoff (gate result, built
features, model) has to travel through object storage, XCom or MLflow. The lake, the gate
reports and the results ledger live on moto's S3 server. Driven through the REST API only:

* a clean day ``D`` (yesterday, UTC), triggered the day after with only ``conf.day`` and no
  logical date, passes every gate of feature_pipeline; the online service logs the day's
  traffic; daily_retraining promotes the model it registered to ``champion``;
* a day whose contract breaks (``null_spike``) blocks at dbt_build and writes nothing;
* the ledger holds an outcome for every gate task that ran;
* no secret the stack configured (connections, Fernet key, database and broker passwords)
  appears in any log, task log, report, OpenLineage event or MLflow tag or param.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import prodlike_stack as ps
import pytest
from prodlike_stack import RunningStack as Stack

pytestmark = [pytest.mark.integration, pytest.mark.deploy]

DAY = (datetime.now(UTC) - timedelta(days=1)).date()
"""The clean day: yesterday, processed today, as a daily deployment does."""
BROKEN_DAY = DAY - timedelta(days=1)
"""The day whose raw extract breaks the contract (a spike of nulls)."""
MODEL = "churn"
RUN_TIMEOUT = 600.0
GATES = {"feature_pipeline": ("dbt_build", "contract_gate"),
         "daily_retraining": ("features_fresh", "contract_gate", "skew_gate", "promotion_gate")}
"""The gate tasks of each DAG (as their verdict tasks list them)."""
RAN = ("success", "failed")


@dataclass(frozen=True)
class Run:
    """A finished DAG run and its task instances, as the REST API reports them."""

    dag_id: str
    run_id: str
    state: str
    instances: dict[str, dict[str, Any]]

    @property
    def tasks(self) -> dict[str, str | None]:
        return {task_id: ti["state"] for task_id, ti in self.instances.items()}

    def explain(self, env: Stack) -> str:
        return (f"{self.dag_id} {self.run_id}: {self.state}; tasks {self.tasks}\n"
                f"{ps.task_log_tails(env.airflow, self.dag_id, self.run_id)}")


def _finish(env: Stack, dag_id: str, run_id: str) -> Run:
    """Wait for a triggered run to finish; its task instances from the REST API."""
    try:
        state = ps.finish_run(env, dag_id, run_id, timeout=RUN_TIMEOUT)
    except ps.StackError as error:
        pytest.fail(str(error), pytrace=False)
    answer = env.api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)
    return Run(dag_id, run_id, state, {ti["task_id"]: ti for ti in answer["task_instances"]})


def _start(env: Stack, dag_id: str, conf: dict[str, Any], run_id: str) -> tuple[str, str]:
    """Trigger ``dag_id`` through the REST API with ``conf`` and no logical date."""
    ps.start_run(env, dag_id, conf=conf, run_id=run_id, logical_date=None)
    return dag_id, run_id


@pytest.fixture(scope="module")
def clean_features(celery_stack: Stack) -> Run:
    return _finish(celery_stack, *_start(celery_stack, "feature_pipeline", {"day": DAY.isoformat()}, "celery__clean_day"))


@pytest.fixture(scope="module")
def later_runs(celery_stack: Stack, clean_features: Run) -> dict[str, Run]:
    """daily_retraining, once the clean day's traffic is served, and the broken day, side by side.

    Different DAGs on disjoint data (the broken day fails before it writes): running them at once
    saves a minute of the module's wall time.
    """
    started = []
    if clean_features.state == "success":
        ps.serve_traffic(celery_stack.airflow, DAY.isoformat())
        started.append(_start(celery_stack, "daily_retraining", {}, "celery__retraining"))
    started.append(_start(celery_stack, "feature_pipeline", {"day": BROKEN_DAY.isoformat(), "faults": "null_spike"},
                          "celery__broken_contract"))
    return {run_id: _finish(celery_stack, dag_id, run_id) for dag_id, run_id in started}


@pytest.fixture(scope="module")
def retraining(celery_stack: Stack, clean_features: Run, later_runs: dict[str, Run]) -> Run:
    if "celery__retraining" not in later_runs:
        pytest.fail(f"feature_pipeline did not succeed on the clean day: {clean_features.explain(celery_stack)}",
                    pytrace=False)
    return later_runs["celery__retraining"]


@pytest.fixture(scope="module")
def broken_features(later_runs: dict[str, Run]) -> Run:
    return later_runs["celery__broken_contract"]


@pytest.fixture(scope="module")
def all_runs(clean_features: Run, later_runs: dict[str, Run]) -> list[Run]:
    """Every run of the module (daily_retraining's only when the clean day let it run)."""
    return [clean_features, *later_runs.values()]


def test_a_clean_day_passes_every_gate_and_promotes(celery_stack: Stack, clean_features: Run, retraining: Run) -> None:
    assert clean_features.state == "success", clean_features.explain(celery_stack)
    assert set(clean_features.tasks.values()) == {"success"}, clean_features.explain(celery_stack)
    assert retraining.state == "success", retraining.explain(celery_stack)
    assert set(retraining.tasks.values()) == {"success"}, retraining.explain(celery_stack)

    from mlflow import MlflowClient

    from airflow_provider_parity.tracking import keys

    registered = _xcom(celery_stack, retraining, "register")
    champion = MlflowClient(tracking_uri=celery_stack.mlflow_url).get_model_version_by_alias(MODEL, keys.CHAMPION)
    assert str(champion.version) == str(registered["version"])
    assert champion.tags[keys.AIRFLOW_RUN_ID] == retraining.run_id
    # The features were committed to the lake on S3, partitioned by the day built.
    store = _store(celery_stack)
    assert store.keys(f"churn/features/customer_features/feature_date={DAY.isoformat()}/")


def test_a_broken_contract_blocks_at_its_gate_and_nothing_downstream_runs(celery_stack: Stack,
                                                                          broken_features: Run) -> None:
    run = broken_features
    assert run.state == "failed", run.explain(celery_stack)
    assert run.tasks["ingest_raw"] == "success", run.explain(celery_stack)
    assert run.tasks["dbt_build"] == "failed", run.explain(celery_stack)
    for task_id in ("contract_gate", "write_features"):
        assert run.tasks[task_id] == "upstream_failed", run.explain(celery_stack)
        assert not run.instances[task_id]["hostname"], run.instances[task_id]
    # Nothing of the broken day reached the feature table.
    assert not _store(celery_stack).keys(f"churn/features/customer_features/feature_date={BROKEN_DAY.isoformat()}/")


def test_consecutive_tasks_ran_on_different_workers(celery_stack: Stack, all_runs: list[Run]) -> None:
    addresses = {worker.address for worker in celery_stack.airflow.workers}
    consumer = {worker.queue: worker.address for worker in celery_stack.airflow.workers}
    used: set[str] = set()
    for run in all_runs:
        ran = {task_id: ti["hostname"] for task_id, ti in run.instances.items() if ti["state"] in RAN}
        assert set(ran.values()) <= addresses, (run.run_id, ran)
        # The cluster policy's queue decided where each task ran.
        assert {task_id: consumer.get(run.instances[task_id]["queue"]) for task_id in ran} == ran, run.instances
        used |= set(ran.values())
        handoffs = [(up, down) for up, downs in _downstream(celery_stack, run.dag_id).items()
                    for down in downs if up in ran and down in ran]
        assert handoffs, run.explain(celery_stack)
        same = [(up, down, ran[up]) for up, down in handoffs if ran[up] == ran[down]]
        assert not same, f"{run.run_id}: consecutive tasks on one worker: {same}"
    assert used == addresses


def test_the_ledger_holds_an_outcome_for_every_gate_that_ran(celery_stack: Stack, all_runs: list[Run]) -> None:
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    store = _store(celery_stack)
    outcomes = read_outcomes(celery_stack.airflow.env["AIRFLOW__PARITY__LEDGER_URI"],
                             storage_options=store.environment())
    recorded = {(o.run.dag_id, o.run.run_id, o.run.task_id): o for o in outcomes if o.run is not None}
    for run in all_runs:
        for task_id in GATES[run.dag_id]:
            state = run.tasks[task_id]
            if state not in RAN:
                continue
            outcome = recorded.get((run.dag_id, run.run_id, task_id))
            assert outcome is not None, f"no outcome of {run.dag_id}.{task_id} in {run.run_id}: {sorted(recorded)}"
            expected = "failed" if state == "failed" else "passed"
            assert outcome.status == expected, (run.run_id, task_id, outcome)
    blocked = recorded[("feature_pipeline", "celery__broken_contract", "dbt_build")]
    assert blocked.blocking and blocked.gate == "dbt" and blocked.reason, blocked


def test_every_freshness_judgement_of_a_run_uses_the_end_of_its_day(celery_stack: Stack, clean_features: Run,
                                                                     retraining: Run) -> None:
    # Triggered the day after, with no logical date: the "now" is still the end of the day processed.
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    end_of_day = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    outcomes = read_outcomes(celery_stack.airflow.env["AIRFLOW__PARITY__LEDGER_URI"],
                             storage_options=_store(celery_stack).environment())
    for run in (clean_features, retraining):
        moments = {datetime.fromisoformat(o.as_of) for o in outcomes
                   if o.run is not None and o.run.run_id == run.run_id and o.as_of}
        assert moments == {end_of_day}, (run.run_id, moments)


def test_every_openlineage_event_validates(celery_stack: Stack, all_runs: list[Run]) -> None:
    from lineage_schemas import validate_event

    events = _lineage_events(celery_stack)
    jobs = {event["job"]["name"] for event in events if event["eventType"] == "COMPLETE"}
    # Each worker writes its own file: together they hold every task that succeeded.
    ran = {f"{run.dag_id}.{task_id}" for run in all_runs for task_id, state in run.tasks.items() if state == "success"}
    assert ran <= jobs, sorted(ran - jobs)
    for event in events:
        validate_event(event)


def test_the_blocked_gate_fail_event_names_its_failed_checks(celery_stack: Stack, broken_features: Run) -> None:
    failed = [event for event in _lineage_events(celery_stack)
              if event["eventType"] == "FAIL" and event["job"]["name"] == "feature_pipeline.dbt_build"]
    assert failed, "no FAIL event of feature_pipeline.dbt_build"
    assertions = [assertion for event in failed for dataset in event.get("inputs") or []
                  for assertion in (dataset.get("inputFacets") or {}).get("dataQualityAssertions", {}).get("assertions", [])]
    assert any(not assertion["success"] and assertion.get("actual") is not None for assertion in assertions), failed


def _lineage_events(env: Stack) -> list[dict[str, Any]]:
    """Every OpenLineage event: the scheduler's file and each worker's."""
    return [json.loads(line) for path in env.airflow.openlineage_files if path.exists()
            for line in path.read_text().splitlines() if line.strip()]


def test_nothing_meant_for_object_storage_lands_on_a_worker_disk(celery_stack: Stack, all_runs: list[Run]) -> None:
    # A URI handled as a local path (Path("s3://lake/x") is the relative path "s3:/lake/x")
    # writes into the worker's working folder, where no other worker can read it.
    for worker in celery_stack.airflow.workers:
        strays = sorted(str(path.relative_to(worker.home)) for path in worker.home.rglob("*")
                        if path.is_file() and any(part.endswith(":") for part in path.relative_to(worker.home).parts))
        assert not strays, f"{worker.name} wrote object-store paths to its own disk: {strays}"


# --------------------------------------------------------------------------- secrets


@dataclass
class Scan:
    """Where every secret was looked for, and what was found."""

    # Out of repr: a failing assertion prints the object.
    secrets: dict[str, str] = field(repr=False)
    hits: list[str]
    scanned: dict[str, int]

    def look(self, source: str, where: str, text: str) -> None:
        self.scanned[source] = self.scanned.get(source, 0) + 1
        self.hits += [f"{name} in {where}" for name, value in self.secrets.items() if value in text]


def test_no_secret_reaches_a_log_report_lineage_event_or_mlflow(celery_stack: Stack, all_runs: list[Run]) -> None:
    scan = Scan(dict(celery_stack.secrets), [], {})
    assert {"AWS_SECRET_ACCESS_KEY", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW_CONN_MLFLOW_DEFAULT password",
            "AIRFLOW_CONN_AWS_DEFAULT password", "Redis password"} <= set(scan.secrets)
    # The scan matches: Redis's configuration file holds its password.
    control = Scan(scan.secrets, [], {})
    control.look("control", "redis.conf", (celery_stack.root / "redis" / "redis.conf").read_text())
    assert control.hits == ["Redis password in redis.conf"]

    airflow = celery_stack.airflow
    for path in _files(celery_stack.root / "logs"):
        scan.look("process log", str(path), path.read_text(errors="replace"))
    # Task logs, and whatever else a task left on a worker's disk (alerts, temporary files).
    for folder in (airflow.log_folder, *(worker.home for worker in airflow.workers)):
        for path in _files(folder):
            scan.look("task log or worker file", str(path), path.read_text(errors="replace"))
    served = _served_task_logs(celery_stack, all_runs)
    for where, text in served.items():
        scan.look("task log via REST", where, text)
    assert served, "no task ran"
    for path in airflow.openlineage_files:
        if path.exists():
            for number, line in enumerate(path.read_text().splitlines(), 1):
                scan.look("OpenLineage event", f"{path}:{number}", line)
    store = _store(celery_stack)
    for key in store.keys():
        body = store.client().get_object(Bucket=store.bucket, Key=key)["Body"].read()
        scan.look("report" if key.startswith("reports/") else "S3 object", key, body.decode(errors="replace"))
    for where, text in _mlflow_tags_and_params(celery_stack.mlflow_url):
        scan.look("MLflow tag or param", where, text)

    assert not scan.hits, scan.hits
    # The scan read what the runs left: reports, events, MLflow records, and the logs of both
    # workers' tasks (the REST API's copies fetched from each worker's log server).
    for source in ("process log", "task log or worker file", "OpenLineage event", "report", "MLflow tag or param"):
        assert scan.scanned.get(source), f"nothing scanned for {source}: {scan.scanned}"


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file())


def _served_task_logs(env: Stack, runs: list[Run]) -> dict[str, str]:
    """Every try's log of every task that ran, as the api-server serves it.

    The api-server has none of the workers' folders: it fetches each log from the log server of
    the worker that ran the task, at the task instance's hostname, and says so in the log.
    """
    logs = {}
    for run in runs:
        for task_id, ti in run.instances.items():
            for attempt in range(1, int(ti["try_number"]) + 1):
                path = f"/api/v2/dags/{run.dag_id}/dagRuns/{run.run_id}/taskInstances/{task_id}/logs/{attempt}"
                text = json.dumps(env.api.get(path, full_content="true")["content"])
                if ti["state"] in RAN and ti["try_number"] == attempt:
                    assert f"http://{ti['hostname']}:" in text and task_id in text, (path, text[:2000])
                logs[path] = text
    return logs


def _mlflow_tags_and_params(url: str) -> Iterator[tuple[str, str]]:
    """Every tag and param of every run, and every tag of every registered model and model version."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=url)
    for experiment in client.search_experiments():
        for run in client.search_runs([experiment.experiment_id]):
            for kind, values in (("tag", run.data.tags), ("param", run.data.params)):
                for key, value in values.items():
                    yield f"run {run.info.run_id} {kind} {key}", f"{key}={value}"
    for model in client.search_registered_models():
        for key, value in model.tags.items():
            yield f"model {model.name} tag {key}", f"{key}={value}"
        for version in client.search_model_versions(f"name='{model.name}'"):
            for key, value in version.tags.items():
                yield f"model {model.name} v{version.version} tag {key}", f"{key}={value}"


# --------------------------------------------------------------------------- helpers


def _store(env: Stack) -> ps.ObjectStore:
    assert env.store is not None, "the CeleryExecutor layout has an object store"
    return env.store


def _downstream(env: Stack, dag_id: str) -> dict[str, list[str]]:
    """Each task's downstream task ids, from the REST API."""
    tasks = env.api.get(f"/api/v2/dags/{dag_id}/tasks")["tasks"]
    return {task["task_id"]: list(task["downstream_task_ids"]) for task in tasks}


def _xcom(env: Stack, run: Run, task_id: str) -> dict[str, Any]:
    value = env.api.get(f"/api/v2/dags/{run.dag_id}/dagRuns/{run.run_id}/taskInstances/{task_id}"
                        "/xcomEntries/return_value")["value"]
    return dict(json.loads(value) if isinstance(value, str) else value)

