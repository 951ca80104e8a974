"""GateVerdictOperator: the one place a run says which gate blocked it, and why.

A blocked gate fails its task, and Airflow marks everything downstream ``upstream_failed``;
what is left is to say so plainly. Each gate gets ``record_block_reason`` as its
``on_failure_callback`` (the reason is its one-line exception message, kept as an XCom), and
the verdict task runs last whatever happened (``trigger_rule="all_done"``), writes
``verdict.json`` beside the run's gate reports, and fails with ``blocked at <gate>: <reason>``
when a gate blocked, so the run itself is failed, not quietly green.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import AirflowFailException, BaseOperator
from airflow_provider_parity.operators.arguments import check_names
from airflow_provider_parity.operators.base import XCOM_OUTCOME, LineageMixin

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

XCOM_BLOCK_REASON = "parity_block_reason"
_FAILED = ("failed", "upstream_failed")


def verdict_uri(dag_id: str, run_id: str, base: str | None = None) -> str:
    """Where a run's ``verdict.json`` is: beside its gate reports, under ``[parity] report_dir``."""
    from airflow_provider_parity.artifacts import join_uri
    from airflow_provider_parity.operators.base import report_root

    return join_uri(base or report_root(), dag_id, str(run_id), "verdict.json")


def read_verdict(dag_id: str, run_id: str, base: str | None = None) -> dict[str, Any] | None:
    """A run's verdict, or None when its verdict task has not written one."""
    from airflow_provider_parity.artifacts import ArtifactStore
    from airflow_provider_parity.operators.base import storage_options

    store = ArtifactStore(storage_options())
    uri = verdict_uri(dag_id, run_id, base)
    return store.read_json(uri) if store.exists(uri) else None  # type: ignore[no-any-return]


def record_block_reason(context: Any) -> None:
    """``on_failure_callback`` for gate tasks: keep the one-line reason for the verdict."""
    from airflow_provider_parity.notifications.gate_alert import failure_reason

    context["ti"].xcom_push(key=XCOM_BLOCK_REASON, value=failure_reason(context))


class GateVerdictOperator(LineageMixin, BaseOperator):
    """Summarise the gates of this run; fail with the first blocking gate's reason.

    Args:
        gates: the gate task ids, in pipeline order.
        report_dir: base folder for ``verdict.json`` (default: the ``[parity] report_dir`` option).

    Returns (XCom ``return_value``):
        ``{"status": "passed" | "blocked", "blocked_by": task id or None, "reason": str or None,
        "gates": {task id: {"state", "status", "reason"}}, "tasks": {task id: state}}``; a gate's
        status and reason come from its outcome (XCom ``parity_outcome``) when it published one.
    """

    template_fields: Sequence[str] = ("report_dir",)
    ui_color = "#f0f0f0"

    def __init__(self, *, gates: Sequence[str], report_dir: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        super().__init__(**kwargs)
        check_names("GateVerdictOperator", "gates", gates, optional=False)
        self.gates = list(gates)
        self.report_dir = report_dir
        self._verdict: dict[str, Any] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.artifacts import ArtifactStore
        from airflow_provider_parity.operators.base import storage_options

        ti = context["ti"]
        states = _task_states(context)
        gates = {}
        for gate in self.gates:
            outcome = ti.xcom_pull(task_ids=gate, key=XCOM_OUTCOME) or {}
            reason = outcome.get("reason") if outcome.get("blocking") else None
            if states.get(gate) == "failed" and not reason:
                reason = ti.xcom_pull(task_ids=gate, key=XCOM_BLOCK_REASON)
            if states.get(gate) == "skipped":
                # A gate that decided to skip the rest (the retraining policy) says why.
                reason = outcome.get("reason")
            gates[gate] = {"state": states.get(gate), "status": outcome.get("status"),
                           "reason": reason if states.get(gate) in ("failed", "skipped") else None}
        blocked_by = next((g for g, info in gates.items() if info["state"] == "failed"), None)
        other = sorted(t for t, s in states.items() if s == "failed" and t not in gates and t != self.task_id)
        reason = gates[blocked_by]["reason"] if blocked_by else None
        if blocked_by is None and other:
            blocked_by, reason = other[0], "the task failed (see its log)"
        verdict = {"status": "blocked" if blocked_by else "passed", "blocked_by": blocked_by, "reason": reason,
                   "gates": gates, "tasks": {t: s for t, s in states.items() if t != self.task_id}}
        self._verdict = verdict
        ArtifactStore(storage_options()).write_json(
            verdict_uri(context["dag"].dag_id, context["run_id"], self.report_dir), verdict)
        for gate, info in gates.items():
            self.log.info("gate %-18s %s%s", gate, info["state"] or "not run",
                          f": {info['reason']}" if info["reason"] else "")
        if blocked_by:
            ti.xcom_push(key="return_value", value=verdict)
            raise AirflowFailException(f"blocked at {blocked_by}: {reason}")
        return verdict

    # --- OpenLineage: the verdict as a run facet; a blocked run carries the reason as its error.

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        verdict = self._verdict
        blocked = verdict is not None and verdict["status"] == "blocked"
        facets = lineage.error_facets(
            AirflowFailException(f"blocked at {verdict['blocked_by']}: {verdict['reason']}") if blocked and verdict
            else error)
        if verdict is not None:
            facets[LINEAGE_FACET] = lineage.verdict_run_facet(verdict)
        return lineage.operator_lineage(run_facets=facets)


LINEAGE_FACET = "parity_verdict"


def _task_states(context: Any) -> dict[str, str | None]:
    """This run's task states, through the Task SDK (tasks cannot read the database)."""
    ti = context["ti"]
    found = ti.get_task_states(dag_id=ti.dag_id, run_ids=[ti.run_id])
    return {task: (str(state) if state is not None else None) for task, state in found.get(ti.run_id, {}).items()}
