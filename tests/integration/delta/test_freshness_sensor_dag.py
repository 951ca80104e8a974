"""The freshness sensor inside real DAG runs: it defers, the trigger polls the log, the task resumes."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deltalake import write_deltalake

from airflow_provider_parity.delta.demo import event_rows

pytestmark = pytest.mark.integration

SENSOR_DAG = """
import json
from airflow.sdk import DAG, task
from airflow_provider_parity.sensors.delta import DeltaFreshnessSensor

class Sensor(DeltaFreshnessSensor):
    def _defer(self, context):
        # Tells the test's writer that the first poke found stale data.
        open({deferring!r}, "w").write("deferring")
        super()._defer(context)

def record_failure(context):
    open({failure!r}, "w").write(str(context["exception"]))

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False) as dag:
    fresh = Sensor(task_id="fresh", table={uri!r}, contract={contract!r}, deferrable={deferrable!r},
                                 poke_interval=0.2, timeout={timeout!r}, on_failure_callback=record_failure)

    @task
    def downstream(result):
        open({out!r}, "w").write(json.dumps(result))

    downstream(fresh.output)
"""

# Events in the demo rows are at 2024-01-01T00:xx; the run's data interval ends at 06:00,
# so the 2h SLO needs an event at or after 04:00.
INTERVAL_END = datetime(2024, 1, 1, 6, tzinfo=UTC)


def _run(run_dag, tmp_path: Path, dag_id: str, *, deferrable: bool, timeout: float):  # type: ignore[no-untyped-def]
    contract = tmp_path / "events.yaml"  # written by the events_contract fixture
    out, failure = tmp_path / f"{dag_id}.json", tmp_path / f"{dag_id}.failure"
    source = SENSOR_DAG.format(dag_id=dag_id, uri=str(tmp_path / "events"), contract=str(contract),
                               deferring=str(tmp_path / f"{dag_id}.deferring"),
                               deferrable=deferrable, timeout=timeout, out=str(out), failure=str(failure))
    run = run_dag(dag_id, source, logical_date=INTERVAL_END)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    return states, out, failure


def _write_once_deferred(uri: str, marker: Path) -> threading.Thread:
    """Append fresh rows once the sensor has poked, found stale data and started deferring."""

    def write() -> None:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        write_deltalake(uri, event_rows([7], hour=5), mode="append")

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def _logs(capfd, caplog) -> str:  # type: ignore[no-untyped-def]
    # Airflow logs through stdlib logging (caplog) or straight to stdout, depending on
    # whether an earlier run in this process configured structlog.
    captured = capfd.readouterr()
    return captured.out + captured.err + caplog.text


def test_sensor_defers_and_resumes_when_fresh_data_lands(run_dag, events_contract, tmp_path: Path, capfd,
                                                         caplog) -> None:
    caplog.set_level("INFO")
    events_contract()
    uri = str(tmp_path / "events")
    write_deltalake(uri, event_rows([1, 2]))  # stale: newest event 00:02
    writer = _write_once_deferred(uri, tmp_path / "fresh_deferred.deferring")
    states, out, _ = _run(run_dag, tmp_path, "fresh_deferred", deferrable=True, timeout=120)
    writer.join()
    assert states == {"fresh": "success", "downstream": "success"}
    assert "running trigger in line" in _logs(capfd, caplog)  # dag.test() ran the deferred task's trigger
    outcome = json.loads(out.read_text())  # the sensor's value is its gate outcome
    assert (outcome["gate"], outcome["status"], outcome["blocking"]) == ("freshness", "passed", False)
    assert outcome["version"] == 1
    [check] = outcome["checks"]
    assert check["observed"] == "newest 2024-01-01T05:07:00.000000Z"
    assert check["expected"] == ">= 2024-01-01T04:00:00.000000Z"
    assert outcome["as_of"] == "2024-01-01T06:00:00.000000Z"  # the run's one "now", shown in the outcome


def test_sensor_fails_with_the_slo_breach_after_its_timeout(run_dag, events_contract, tmp_path: Path) -> None:
    events_contract()
    write_deltalake(str(tmp_path / "events"), event_rows([1, 2]))
    states, out, failure = _run(run_dag, tmp_path, "fresh_breach", deferrable=True, timeout=1)
    assert states == {"fresh": "failed", "downstream": "upstream_failed"}
    message = failure.read_text()
    assert "freshness SLO of events@1.0.0" in message
    assert "column:event_time newest=2024-01-01T00:02:00.000000Z" in message
    assert "expected >= 2024-01-01T04:00:00.000000Z" in message
    assert not out.exists()


def test_poking_sensor_names_the_breach_too(run_dag, events_contract, tmp_path: Path) -> None:
    events_contract()
    write_deltalake(str(tmp_path / "events"), event_rows([1, 2]))
    states, _, failure = _run(run_dag, tmp_path, "fresh_poke_breach", deferrable=False, timeout=1)
    assert states["fresh"] == "failed"
    assert "freshness SLO of events@1.0.0" in failure.read_text()


def test_already_fresh_data_passes_without_deferring(run_dag, events_contract, tmp_path: Path, capfd,
                                                     caplog) -> None:
    caplog.set_level("INFO")
    events_contract()
    write_deltalake(str(tmp_path / "events"), event_rows([1], hour=5))
    states, out, _ = _run(run_dag, tmp_path, "fresh_now", deferrable=True, timeout=60)
    assert states == {"fresh": "success", "downstream": "success"}
    assert "running trigger in line" not in _logs(capfd, caplog)
    assert json.loads(out.read_text())["status"] == "passed"
