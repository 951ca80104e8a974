"""The verdict task's summary and the gate alert, without a DAG run (the DAG runs are in tests/integration/bundle)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_parity.compat import AirflowFailException
from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier, failure_reason
from airflow_provider_parity.operators.verdict import LINEAGE_FACET, XCOM_BLOCK_REASON, GateVerdictOperator


class FakeTI:
    """The task instance API the verdict uses: XCom and this run's task states (a Task SDK call)."""

    dag_id, run_id, task_id = "daily", "manual__1", "verdict"

    def __init__(self, states: dict[str, str], reasons: dict[str, str]) -> None:
        self.states, self.reasons, self.pushed = states, reasons, {}

    def get_task_states(self, *, dag_id: str, run_ids: list[str]) -> dict[str, Any]:
        return {self.run_id: self.states}

    def xcom_pull(self, *, task_ids: str, key: str) -> Any:
        return self.reasons.get(task_ids) if key == XCOM_BLOCK_REASON else None

    def xcom_push(self, *, key: str, value: Any) -> None:
        self.pushed[key] = value


def _context(tmp_path, states, reasons):  # type: ignore[no-untyped-def]
    return {"ti": FakeTI(states, reasons), "run_id": "manual__1", "dag": SimpleNamespace(dag_id="daily")}


def test_a_blocked_gate_fails_the_run_with_its_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    op = GateVerdictOperator(task_id="verdict", gates=["contract_gate", "skew_gate"], report_dir=str(tmp_path))
    context = _context(tmp_path, {"contract_gate": "success", "skew_gate": "failed", "train": "upstream_failed"},
                       {"skew_gate": "drift in 1 of 4 features: plan: jensen_shannon=0.31 > 0.1"})
    with pytest.raises(AirflowFailException, match=r"^blocked at skew_gate: drift in 1 of 4 features: plan"):
        op.execute(context)
    verdict = json.loads((tmp_path / "daily" / "manual__1" / "verdict.json").read_text())
    assert verdict["status"] == "blocked" and verdict["blocked_by"] == "skew_gate"
    assert verdict["gates"]["contract_gate"] == {"state": "success", "status": None, "reason": None}
    facets = op.get_openlineage_facets_on_failure(None).run_facets
    assert "skew_gate" in facets["errorMessage"].message
    assert facets[LINEAGE_FACET].blocked_by == "skew_gate"


def test_all_gates_passed_is_a_passed_verdict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    op = GateVerdictOperator(task_id="verdict", gates=["contract_gate"], report_dir=str(tmp_path))
    verdict = op.execute(_context(tmp_path, {"contract_gate": "success", "train": "success"}, {}))
    assert verdict["status"] == "passed" and verdict["blocked_by"] is None
    assert "errorMessage" not in op.get_openlineage_facets_on_complete(None).run_facets


def test_a_failed_task_that_is_not_a_gate_still_fails_the_verdict(tmp_path) -> None:  # type: ignore[no-untyped-def]
    op = GateVerdictOperator(task_id="verdict", gates=["contract_gate"], report_dir=str(tmp_path))
    with pytest.raises(AirflowFailException, match="blocked at train: the task failed"):
        op.execute(_context(tmp_path, {"contract_gate": "success", "train": "failed"}, {}))


def test_the_verdict_runs_whatever_happened_upstream() -> None:
    assert GateVerdictOperator(task_id="v", gates=[]).trigger_rule == "all_done"


def test_gate_alert_appends_one_json_line_with_the_reason(tmp_path) -> None:  # type: ignore[no-untyped-def]
    alerts = tmp_path / "alerts" / "a.jsonl"
    notifier = GateAlertNotifier(alert_file=str(alerts), severity="warning")
    ti = SimpleNamespace(dag_id="m", run_id="r", task_id="serving_skew")
    notifier.notify({"ti": ti, "exception": ValueError("drift in plan\nsecond line")})
    notifier.notify({"ti": ti, "exception": None})
    first, second = (json.loads(line) for line in alerts.read_text().splitlines())
    assert (first["task_id"], first["severity"], first["reason"]) == ("serving_skew", "warning", "drift in plan")
    assert second["reason"] == failure_reason({}) == "the task failed (see its log)"
