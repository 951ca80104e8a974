"""Promotion with a person in the loop, in real DAG runs answered through Airflow's REST API.

``dag.test()`` parks the approval task in ``awaiting_input`` and waits for an answer recorded in
the metadata database; a real ``airflow api-server`` on that same database (SQLite, the session's)
takes the answer, as the UI's "Required actions" does: ``PATCH .../taskInstances/{task}/-1/hitlDetails``.
One server start for the module. The timeout path runs the scheduler's own sweep
(``check_awaiting_input_timeouts``), which applies the policy's answer when nobody answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from live_servers import Store, free_port, stop_process_group, train_run, wait_listening, write_table

from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of
from airflow_provider_parity.tracking.history import read_history

pytestmark = pytest.mark.integration

AIRFLOW = str(Path(sys.executable).parent / "airflow")
CONN_ID = "parity_approval_mlflow"
POLICY = {"required_gates": ["contract"], "approval": "required", "on_timeout": "block",
          "metrics": [{"metric": "auc", "slices": ["overall"], "max_drop": 0.05}]}

DAG_SOURCE = """
from airflow.sdk import DAG
from airflow_provider_parity.operators.approval import MlflowPromotionApprovalOperator
from airflow_provider_parity.operators.mlflow import MlflowPromotionGateOperator

POLICY = {policy!r}

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False, render_template_as_native_obj=True,
         params={{"policy": POLICY}}) as dag:
    gate = MlflowPromotionGateOperator(task_id="promotion_gate", model_name={model!r}, policy="{{{{ params.policy }}}}",
                                       challenger_version={version!r}, mlflow_conn_id={conn_id!r})
    approval = MlflowPromotionApprovalOperator(task_id="promotion_approval", model_name={model!r},
                                               policy="{{{{ params.policy }}}}", challenger_version={version!r},
                                               mlflow_conn_id={conn_id!r})
    gate >> approval
"""


@dataclass
class Api:
    url: str
    token: str
    answered: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(self.url + path, method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())


@pytest.fixture(scope="module")
def api(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """An api-server on the session's metadata database, logged in as ``admin``."""
    root = tmp_path_factory.mktemp("approval-api")
    (root / "passwords.json").write_text(json.dumps({"admin": "approval-test-password"}))
    port = free_port()
    env = os.environ | {
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(root / "passwords.json"),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "approval-test-jwt-secret-" * 4,
    }
    log = (root / "api-server.log").open("wb")
    proc = subprocess.Popen([AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_listening(port, timeout=300)
        url = f"http://127.0.0.1:{port}"
        login = urllib.request.Request(f"{url}/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                       data=json.dumps({"username": "admin", "password": "approval-test-password"})
                                       .encode())
        with urllib.request.urlopen(login, timeout=60) as answer:
            yield Api(url=url, token=json.loads(answer.read())["access_token"])
    finally:
        stop_process_group(proc)
        log.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A SQLite MLflow store with model ``churn-approval``: v1 champion, v2 and v3 trained and registered."""
    from airflow_provider_parity.tracking.promotion import promote
    from airflow_provider_parity.tracking.registry import register_model

    root = tmp_path_factory.mktemp("approval-mlflow")
    uri = f"sqlite:///{root}/mlflow.db"
    os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = json.dumps({"conn_type": "mlflow",
                                                                "extra": {"tracking_uri": uri}})
    store = Store(kind="local", tracking_uri=uri, conn_id=CONN_ID)
    table = write_table(root / "features", rows=200, seed=1)
    client = store.client()
    for version, auc in (("1", 0.80), ("2", 0.82), ("3", 0.83)):
        run_id = train_run(store, table, metrics={"overall": auc}, gates={"contract": "passed"})
        register_model(client, run_id=run_id, name="churn-approval")
        if version == "1":
            promote(client, "churn-approval", {}, challenger_version="1")
    try:
        yield store
    finally:
        os.environ.pop(f"AIRFLOW_CONN_{CONN_ID.upper()}", None)


def _answer_when_asked(api: Api, dag_id: str, answer: dict[str, Any] | None, stop: threading.Event) -> None:
    """Answer the first open request of ``dag_id`` through the REST API (None: run the timeout sweep).

    Answers only once the task is parked in ``awaiting_input``. The request row is written a moment
    before the task parks, and on SQLite (no row locks) an answer landing in that moment can be lost
    between the two transactions: recorded, yet nobody resumes the task (PostgreSQL's locks order
    them). Failed calls are retried (the api-server and the in-process run share one SQLite file, so
    a write can meet "database is locked"): a responder that gave up would leave ``dag.test()``
    waiting for input forever.
    """
    while not stop.is_set():
        try:
            found = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails")["hitl_details"]
            parked = [d for d in found if not d.get("response_received")
                      and d["task_instance"]["state"] == "awaiting_input"]
            if parked and answer is None:
                _sweep_timeouts()  # until the task leaves awaiting_input
            elif parked:
                ti = parked[0]["task_instance"]
                api.call("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                                  f"{ti['task_id']}/-1/hitlDetails", answer)
                api.answered.append(parked[0])
                return
        except Exception as error:  # any failed call is retried; the test's asserts judge the end
            api.errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.5)


def _sweep_timeouts() -> None:
    """What the scheduler does each loop: answer requests past their deadline with their defaults."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.utils.session import create_session

    time.sleep(1.5)  # past the 1 s approval_timeout of the test's policy
    with create_session() as session:
        SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts(session=session)


def _run(run_dag: Any, api: Api, store: Store, version: str, answer: dict[str, Any] | None,
         policy: dict[str, Any] = POLICY) -> dict[str, str]:
    dag_id = f"approval_v{version}"
    stop = threading.Event()
    responder = threading.Thread(target=_answer_when_asked, args=(api, dag_id, answer, stop), daemon=True)
    responder.start()
    try:
        dag_run = run_dag(dag_id, DAG_SOURCE.format(dag_id=dag_id, model="churn-approval", version=version,
                                                     conn_id=store.conn_id, policy=policy))
    finally:
        stop.set()
        responder.join(timeout=30)
    return {ti.task_id: ti.state for ti in dag_run.get_task_instances()}


def test_an_approval_through_the_rest_api_promotes_and_records_who_and_why(run_dag: Any, api: Api,
                                                                         store: Store) -> None:
    states = _run(run_dag, api, store, "2", {"chosen_options": ["Approve"],
                                             "params_input": {"reason": "checked the plan=basic slice"}})
    assert states == {"promotion_gate": "success", "promotion_approval": "success"}
    client = store.client()
    assert aliases_of(client, "churn-approval")[keys.CHAMPION] == "2"
    tags = client.get_model_version("churn-approval", "2").tags
    assert (tags[keys.APPROVAL_STATUS], tags[keys.APPROVAL_BY]) == ("approved", "admin")
    assert tags[keys.APPROVAL_REASON] == "checked the plan=basic slice"
    assert "approved by admin: checked the plan=basic slice" in read_history(client, "churn-approval")[-1].reason
    body = api.answered[-1]["body"]  # the evidence the person read
    assert "Champion vs challenger per slice" in body and "| overall | auc | 0.8200 | 0.8000 | +0.0200 |" in body
    assert "| gate contract | passed | passed | passed |" in body and "auc.overall: 0.8000 -> 0.8200 (+0.0200)" in body


def test_a_rejection_leaves_the_champion_and_blocks_the_run(run_dag: Any, api: Api, store: Store) -> None:
    from airflow_provider_parity.operators.base import ledger_uri
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    client = store.client()
    champion = aliases_of(client, "churn-approval")[keys.CHAMPION]
    states = _run(run_dag, api, store, "3", {"chosen_options": ["Reject"],
                                             "params_input": {"reason": "wait for the holiday data"}})
    assert states == {"promotion_gate": "success", "promotion_approval": "failed"}
    assert aliases_of(client, "churn-approval")[keys.CHAMPION] == champion
    tags = client.get_model_version("churn-approval", "3").tags
    assert (tags[keys.APPROVAL_STATUS], tags[keys.APPROVAL_BY], tags[keys.PROMOTION_STATUS]) == \
        ("rejected", "admin", "rejected")
    [outcome] = [o for o in read_outcomes(ledger_uri(), gate="approval") if o.run and o.run.dag_id == "approval_v3"]
    assert outcome.status == "failed" and "rejected by admin: wait for the holiday data" in outcome.reason


def test_a_timeout_follows_the_policy(run_dag: Any, api: Api, store: Store) -> None:
    client = store.client()
    champion = aliases_of(client, "churn-approval")[keys.CHAMPION]
    policy = POLICY | {"approval_timeout": "1s", "on_timeout": "block"}
    states = _run(run_dag, api, store, "3", None, policy)
    assert states["promotion_approval"] == "failed"
    assert aliases_of(client, "churn-approval")[keys.CHAMPION] == champion
    tags = client.get_model_version("churn-approval", "3").tags
    assert (tags[keys.APPROVAL_STATUS], tags[keys.APPROVAL_BY]) == ("rejected", "timeout")
    assert tags[keys.APPROVAL_REASON] == "no answer before the approval timeout"
