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

NOTIFY = GateAlertNotifier(alert_file={alerts!r}, persistence="2/3", cooldown="6h")

with DAG(dag_id="alert_persistence", schedule="@hourly", catchup=False, default_args={{"retries": 0}},
         params={{"blocked": True}}) as dag:
    @task(on_failure_callback=[NOTIFY], on_success_callback=[NOTIFY])
    def skew_gate(params=None):
        if params["blocked"]:
            raise RuntimeError("drift(avg_ticket_30d): observed psi 0.41, expected <= 0.25")

    skew_gate()
"""


def test_alerts_after_two_blocked_windows_of_three_holds_for_the_cooldown_and_a_pass_closes_it(
        run_dag, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alerts = tmp_path / "alerts.jsonl"
    source = DAG_SOURCE.format(alerts=str(alerts))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    sent_after = []
    # hour 0: 1 of 3 blocked; 1: 2 of 3, alert; 2: within the 6h cooldown; 3: passes, the alert closes;
    # 4: 2 of the last 3 (hours 2 and 4) and a new incident: alert despite the cooldown.
    for hour, blocked in ((0, True), (1, True), (2, True), (3, False), (4, True)):
        dag_run = run_dag("alert_persistence", source, logical_date=start + timedelta(hours=hour),
                          run_conf={"blocked": blocked})
        state = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
        assert state == {"skew_gate": "failed" if blocked else "success"}
        sent_after.append(len(alerts.read_text().splitlines()) if alerts.exists() else 0)
    assert sent_after == [0, 1, 1, 1, 2]
    lines = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert all(line["reason"].startswith("drift(avg_ticket_30d): observed psi 0.41") for line in lines)
