"""Approval of a promotion by a person, through Airflow's human-in-the-loop operators.

Placed after ``MlflowPromotionGateOperator``: when the rendered policy says ``approval: none``
the gate has already promoted and this task returns at once, so a DAG keeps one shape whatever
its policy. With ``approval: required`` the gate decided and recorded without moving the alias;
this task then asks (Airflow 3.3 parks it in ``awaiting_input``; the UI's "Required actions" or
``PATCH /api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails`` answers),
with the evidence in the request's body. Only ``Approve`` moves ``champion``; ``Reject`` fails the
task with the reason, so the verdict reports the run blocked and the champion stays. The timeout
(``approval_timeout``) answers with the policy's ``on_timeout`` (Airflow's defaults-on-timeout).
The decision is a model-version tag set, a gate outcome in the ledger and the ``parity_outcome``
lineage facet, like every gate's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param

from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.mlflow import _MlflowOperator, promotion_outcome

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_parity.outcomes.model import GateOutcome
    from airflow_provider_parity.tracking.approval import Approval
    from airflow_provider_parity.tracking.promotion import PromotionPolicy

REASON_PARAM = "reason"


class MlflowPromotionApprovalOperator(GateMixin, _MlflowOperator, ApprovalOperator):  # type: ignore[misc]
    """Wait for a person to approve the challenger the promotion gate passed, then promote it.

    Args:
        model_name: the registered model (templated).
        policy: the same policy as the gate's (templated); ``approval``, ``on_timeout`` and
            ``approval_timeout`` decide whether and how long to ask.
        challenger_version: the version the gate passed (templated).
        mlflow_conn_id: an ``mlflow`` connection; None for the local store.
        **kwargs: ``ApprovalOperator``'s (``assigned_users``, ``notifiers``, ``subject``...).
    """

    gate_kind = "approval"
    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "policy", "challenger_version", "subject")

    def __init__(self, *, policy: PromotionPolicy | Mapping[str, Any] | str, challenger_version: str | int,
                 subject: str = "Promote {{ task.model_name }} v{{ task.challenger_version }} to champion?",
                 **kwargs: Any) -> None:
        # The request's form is this one field; the DAG's params (merged in by Airflow) stay the DAG's: the
        # templates still read them, and ApprovalOperator would drop them from the form anyway.
        kwargs.pop("params", None)
        params = {REASON_PARAM: Param("", type="string", source="task",
                                      description="Why (recorded on the model version and in its history).")}
        super().__init__(subject=subject, params=params, **kwargs)
        self.policy = policy
        self.challenger_version = challenger_version

    def execute(self, context: Context) -> Any:
        from airflow_provider_parity.tracking.promotion import PromotionPolicy

        policy = PromotionPolicy.coerce(self.policy)
        if policy.approval != "required":
            self.log.info("The policy needs no approval: the promotion gate decided on its own.")
            return None
        self.body = self._evidence(policy)
        if policy.approval_timeout:
            from airflow_provider_parity.contracts.model import parse_duration

            self.response_timeout = timedelta(seconds=parse_duration(policy.approval_timeout).total_seconds())
            # What Airflow answers when nobody does before the timeout (responded_by stays empty).
            self.defaults = [self.APPROVE if policy.on_timeout == "approve" else self.REJECT]
        return super().execute(context)

    def _evidence(self, policy: PromotionPolicy) -> str:
        from airflow_provider_parity.operators.base import storage_options
        from airflow_provider_parity.tracking.approval import evidence, pending_decision

        with self._session() as client:
            decision = pending_decision(client, self.model_name, str(self.challenger_version), policy)
            return evidence(client, self.model_name, str(self.challenger_version), policy, decision,
                            storage_options=storage_options())

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Record the answer and promote on ``Approve``; a rejection fails the task (the run is blocked)."""
        from airflow.providers.standard.operators.hitl import HITLOperator

        from airflow_provider_parity.tracking.approval import from_answer

        answer = HITLOperator.execute_complete(self, context, event)  # validates; no skip-downstream on Reject
        approval = from_answer(answer["chosen_options"][0], user=answer.get("responded_by_user"),
                               reason=str((answer.get("params_input") or {}).get(REASON_PARAM) or ""),
                               at=answer.get("responded_at"), timed_out=bool(event.get("timedout")))
        self.log.info("Promotion of %s v%s %s", self.model_name, self.challenger_version, approval.note)
        return self.run_gate(context, lambda: self._decide(context, approval), dataset=self.model_name).to_dict()

    def _decide(self, context: Context, approval: Approval) -> GateOutcome:
        from airflow_provider_parity.tracking.approval import decide
        from airflow_provider_parity.tracking.promotion import PromotionPolicy

        version = str(self.challenger_version)
        with self.hook().client() as client:
            try:
                result = decide(client, self.model_name, version, PromotionPolicy.coerce(self.policy), approval,
                                request_id=self._request_id(context))
            finally:
                self._note_version(client, version, context)
        reason = (f"{self.model_name} v{result.champion} is champion (was {result.previous_champion or 'none'}): "
                  f"{approval.note}")
        return promotion_outcome(result.decision, reason, self._model_uri()).with_(
            gate="approval", metrics={"promoted": result.promoted, "champion": result.champion,
                                      "approved_by": approval.by, "approval_reason": approval.reason})

    def _extra_run_facets(self) -> dict[str, Any]:
        return self.outcome_run_facets()
