"""RetrainingPolicyOperator: retrain, skip or forbid, by the retraining policy, with the reason on record."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import AirflowSkipException, BaseOperator
from airflow_provider_parity.operators.base import XCOM_OUTCOME, GateMixin

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.outcomes.model import GateOutcome
    from airflow_provider_parity.tracking.retraining import RetrainingPolicy


def run_moment(text: str | None, context: Context, *, what: str = "moment") -> datetime:
    """``text`` (ISO 8601; a naive one is UTC), else the run's logical date, else its run_after.

    Raises:
        ConfigurationError: ``text`` is not an ISO 8601 moment.
    """
    from datetime import UTC, datetime

    from airflow_provider_parity.exceptions import ConfigurationError

    if text:
        try:
            moment = datetime.fromisoformat(str(text))
        except ValueError:
            raise ConfigurationError(f"{what} is not an ISO 8601 moment: {text!r}") from None
    else:
        run = context["dag_run"]
        moment = getattr(run, "logical_date", None) or run.run_after
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class RetrainingPolicyOperator(GateMixin, BaseOperator):
    """Decide whether this run retrains, from the policy, the gates' signals and the ledger's history.

    The decision (``retrain``, ``skip`` or ``forbid``) is a gate outcome (gate ``retraining_policy``,
    ``metrics.decision``) pushed to XCom and appended to the ledger, its reason one line. ``retrain``
    lets downstream tasks run; ``skip`` skips this task, so what follows with the default trigger rule
    is skipped too; ``forbid`` (labels under the floor) fails it, like any blocking gate.

    The last retraining and promotion come from the ledger (earlier ``retrain`` decisions of runs in
    ``train`` mode and the promotion gates of those runs), dated by the runs' ``as_of``.

    Args:
        policy: a :class:`~airflow_provider_parity.tracking.retraining.RetrainingPolicy` dict, or its
            JSON text (templated: ``"{{ params.retraining_policy }}"``).
        as_of: the run's moment, ISO 8601 (templated; default: the logical date, else run_after).
        drift_task: the task whose outcome's ``max_score`` is the drift signal.
        skew_task: the task whose outcome's ``max_mismatch_rate`` is the per-entity skew signal.
        labels_task: the label gate whose outcome gives the label quality; without it (or when it did
            not publish) the latest ``label_audit`` outcome of the ledger does.
        requested: why a retraining was asked for (templated, e.g. a triggering asset event's reason).
        mode: ``train`` (this run trains: its ``retrain`` counts as a retraining) or ``request`` (a
            monitor asking for one).

    Example:
        >>> decide = RetrainingPolicyOperator(task_id="retraining_policy", policy="{{ params.retraining_policy }}",
        ...                                   as_of="{{ day_end(ds) }}", drift_task="skew_gate",
        ...                                   labels_task="label_gate")
        >>> [gates] >> decide >> train
    """

    gate_kind = "retraining_policy"
    template_fields: Sequence[str] = ("policy", "as_of", "requested")
    ui_color = "#fdf3e1"

    def __init__(self, *, policy: Mapping[str, Any] | str, as_of: str | None = None, drift_task: str | None = None,
                 skew_task: str | None = None, labels_task: str | None = None, requested: str | None = None,
                 mode: Literal["train", "request"] = "train", **kwargs: Any) -> None:
        from airflow_provider_parity.exceptions import OperatorArgumentError

        super().__init__(**kwargs)
        if mode not in ("train", "request"):
            raise OperatorArgumentError(f"RetrainingPolicyOperator: mode must be 'train' or 'request', got {mode!r}")
        self.policy = policy
        self.as_of = as_of
        self.drift_task, self.skew_task, self.labels_task = drift_task, skew_task, labels_task
        self.requested = requested
        self.mode = mode

    def execute(self, context: Context) -> dict[str, Any]:
        outcome = self.run_gate(context, lambda: self._evaluate(context))
        if outcome.metrics.get("decision") == "skip":
            raise AirflowSkipException(outcome.reason)
        return outcome.to_dict()

    def _policy(self) -> RetrainingPolicy:
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.tracking.retraining import RetrainingPolicy

        policy: Any = self.policy
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except ValueError:
                raise ConfigurationError(f"retraining policy is not a mapping nor JSON: {policy[:80]!r}") from None
        if not isinstance(policy, Mapping):
            raise ConfigurationError(f"retraining policy must be a mapping, got {type(policy).__name__}")
        return RetrainingPolicy.from_dict(policy)

    def _pulled(self, context: Context, task_id: str | None) -> GateOutcome | None:
        from airflow_provider_parity.outcomes.model import coerce_outcomes

        if not task_id:
            return None
        found = coerce_outcomes(context["ti"].xcom_pull(task_ids=task_id, key=XCOM_OUTCOME))
        return found[0] if found else None

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.operators.base import ledger_uri, storage_options
        from airflow_provider_parity.outcomes.ledger import read_outcomes
        from airflow_provider_parity.tracking.retraining import RetrainingSignals, decide, history, signal

        policy, now = self._policy(), run_moment(self.as_of, context, what="as_of")
        ledger = read_outcomes(ledger_uri(), storage_options=storage_options())
        last_retraining, last_promotion = history(ledger, before=now)
        labels = self._pulled(context, self.labels_task) or next(
            (o for o in reversed(ledger) if o.gate == "label_audit"), None)
        signals = RetrainingSignals(
            now=now, last_retraining=last_retraining, last_promotion=last_promotion,
            drift=signal(self._pulled(context, self.drift_task), "max_score"),
            skew=signal(self._pulled(context, self.skew_task), "max_mismatch_rate"),
            label_quality=signal(labels, policy.label_metric), requested=self.requested or None)
        return decide(policy, signals).outcome(mode=self.mode, as_of=now.isoformat())

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        return lineage.operator_lineage(run_facets={**lineage.error_facets(error), **self.outcome_run_facets()})
