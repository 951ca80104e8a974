"""The run ``test_scheduler_killed.py`` kills the scheduler under: pin, hold, read the pinned version.

``hold`` runs until the test's gate file exists, so the scheduler (and every task process of
its session) is killed while a task is running. The table and the gate come from
``PARITY_FAULT_TABLE`` and ``PARITY_FAULT_GATE``.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_parity.operators.delta import DeltaSnapshotOperator

TABLE = os.environ.get("PARITY_FAULT_TABLE", "/tmp/parity-fault/events")
GATE = os.environ.get("PARITY_FAULT_GATE", "/tmp/parity-fault/gate")

with DAG("scheduler_fault", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         default_args={"retries": 2, "retry_delay": timedelta(seconds=1)}):
    pin = DeltaSnapshotOperator(task_id="pin", table=TABLE, pin="latest")

    @task
    def hold() -> None:
        deadline = time.monotonic() + 600
        while not Path(GATE).exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no gate file {GATE}")
            time.sleep(0.5)

    @task
    def read(pinned: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_parity.delta import read_arrow, resolve_snapshot

        snapshot = resolve_snapshot(TABLE, pinned["version"])
        return {"version": snapshot.version, "fingerprint": snapshot.fingerprint,
                "rows": read_arrow(TABLE, pinned["version"]).num_rows}

    pin >> hold() >> read(pin.output)
