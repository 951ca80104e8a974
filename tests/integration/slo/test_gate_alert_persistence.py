"""GateAlertNotifier with persistence and a cooldown, in real hourly DAG runs: the blocked windows are
counted in an Airflow Variable in the metadata database, and only the decided alerts reach the file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

DAG_SOURCE = """
from airflow.sdk import DAG, task
from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier

with DAG(dag_id="alert_persistence", schedule="@hourly", catchup=False, default_args={{"retries": 0}}) as dag:
    @task(on_failure_callback=[GateAlertNotifier(alert_file={alerts!r}, persistence="2/3", cooldown="2h")])
    def skew_gate():
        raise RuntimeError("drift(avg_ticket_30d): observed psi 0.41, expected <= 0.25")

    skew_gate()
"""


def test_alerts_after_two_blocked_windows_of_three_then_holds_for_the_cooldown(run_dag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alerts = tmp_path / "alerts.jsonl"
    source = DAG_SOURCE.format(alerts=str(alerts))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    sent_after = []
    for hour in (0, 1, 2, 6, 7):  # 0: 1 of 3; 1: 2 of 3, alert; 2: within 2h of it; 6: 1 of 3; 7: 2 of 3, 6h later
        dag_run = run_dag("alert_persistence", source, logical_date=start + timedelta(hours=hour))
        assert {ti.task_id: ti.state for ti in dag_run.get_task_instances()} == {"skew_gate": "failed"}
        sent_after.append(len(alerts.read_text().splitlines()) if alerts.exists() else 0)
    assert sent_after == [0, 1, 1, 1, 2]
    lines = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert all(line["reason"].startswith("drift(avg_ticket_30d): observed psi 0.41") for line in lines)
