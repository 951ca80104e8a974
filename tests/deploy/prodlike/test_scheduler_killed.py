"""The scheduler ``kill -9``-ed mid-run (with the task processes of its session) and restarted.

A production-like stack (PostgreSQL, LocalExecutor, the four Airflow services) runs
``fault_dags/scheduler_fault.py``: pin the latest Delta version, hold, read the pinned version.
While ``hold`` runs, the scheduler and its task processes are killed, the table gets a new
version, and the scheduler is started again: the run must complete, reading the version it
pinned before the crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import prodlike_stack as ps
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.deploy]

FAULT_DAGS = Path(__file__).with_name("fault_dags")
DAG_ID = "scheduler_fault"


def _xcom(env: ps.RunningStack, run_id: str, task_id: str) -> dict[str, Any]:
    value = env.api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}"
                        "/xcomEntries/return_value")["value"]
    return dict(json.loads(value) if isinstance(value, str) else value)


def test_scheduler_killed_mid_run_completes_with_the_same_pin(tmp_path: Path) -> None:
    import pyarrow as pa

    from airflow_provider_parity.delta.writer import write_version

    if ps.postgres_bin_dir() is None:
        pytest.skip("the production-like stack needs PostgreSQL's server binaries")
    table, gate = tmp_path / "lake" / "events", tmp_path / "gate"
    write_version(str(table), pa.table({"id": [1, 2, 3]}))

    def settings(root: Path, mlflow_url: str) -> Mapping[str, str]:
        # A task whose process died is noticed after 15 s (default 300 s) and retried.
        return {"PARITY_FAULT_TABLE": str(table), "PARITY_FAULT_GATE": str(gate),
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "15",
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "10",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "10"}

    root = tmp_path / "stack"
    root.mkdir()
    with ps.running_stack(root, dags_folder=FAULT_DAGS, extra_env=settings, scheduled_runs=False) as env:
        ps.wait_dag_parsed(env.api, DAG_ID, alive=env.stack.check_alive)
        run_id = ps.trigger_run(env.api, DAG_ID, logical_date=datetime.now(UTC).isoformat())
        ps.wait_for("hold running", lambda: True if ps.task_states(env.api, DAG_ID, run_id).get("hold") == "running"
                    else None, timeout=300)
        pinned = _xcom(env, run_id, "pin")

        ps.kill_and_restart(env.stack, env.airflow, "scheduler")
        moved = write_version(str(table), pa.table({"id": [4]}))  # the table moves on meanwhile
        gate.touch()
        state = ps.wait_run(env.api, DAG_ID, run_id, timeout=420, alive=env.stack.check_alive)
        states = ps.task_states(env.api, DAG_ID, run_id)
        assert state == "success", f"{states}\n{ps.task_log_tails(env.airflow, DAG_ID, run_id)}"
        hold = env.api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/hold")
        assert hold["try_number"] >= 2, hold  # the killed try did not finish: a retry did
        read = _xcom(env, run_id, "read")
    assert moved.snapshot.version == pinned["version"] + 1
    assert read == {"version": pinned["version"], "fingerprint": pinned["fingerprint"], "rows": 3}
