"""PostPromotionWatchOperator: after a promotion, watch the new champion; roll back on a breached guardrail."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.mlflow import _MlflowOperator

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.sdk import Context

    from airflow_provider_parity.outcomes.model import GateOutcome
    from airflow_provider_parity.tracking.watch import LiveSignals, WatchPolicy


class PostPromotionWatchOperator(GateMixin, _MlflowOperator):
    """Compare the champion's live signals since its promotion with the previous champion's before it.

    The windows: ``[promoted, min(now, promoted + evaluation_window))`` for the new champion and the
    same length before the promotion for the previous one. Signals: the serving log's predictions and
    boundary verdicts (its ``prediction`` and ``boundary`` columns, when it has them), the
    ``feature_skew`` outcomes of the ledger, and the policy's KPIs (PromQL, from ``prometheus_url``).

    On a breached guardrail the champion alias returns to the previous champion
    (:func:`~airflow_provider_parity.tracking.rollback.rollback`: the reason is tagged on the demoted
    version), an alert goes through :class:`GateAlertNotifier`, and the task fails with the reason
    (gate ``watch``). Outside the evaluation window, or without a previous champion, it passes.

    Args:
        model_name: the registered model.
        policy: a :class:`~airflow_provider_parity.tracking.watch.WatchPolicy` dict or JSON (templated).
        serving_log: the serving log (Delta table URI; templated), or None.
        prometheus_url: Prometheus's base URL for the KPI queries (templated), or None.
        as_of: the run's moment (ISO 8601; templated; default the logical date, else run_after).
        promoted_at: when the champion was promoted (templated; default: the ledger's last promotion,
            dated by its run's ``as_of``, else the champion history's entry).
        alert_file: where GateAlertNotifier appends the rollback alert.
    """

    gate_kind = "watch"
    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "policy", "serving_log", "prometheus_url",
                                      "as_of", "promoted_at", "alert_file")
    ui_color = "#fbe9e7"

    def __init__(self, *, policy: Mapping[str, Any] | str, serving_log: str | None = None,
                 prometheus_url: str | None = None, as_of: str | None = None, promoted_at: str | None = None,
                 alert_file: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy
        self.serving_log = serving_log
        self.prometheus_url = prometheus_url
        self.as_of = as_of
        self.promoted_at = promoted_at
        self.alert_file = alert_file

    def execute(self, context: Context) -> dict[str, Any]:
        return self.run_gate(context, lambda: self._evaluate(context), dataset=self._model_uri()).to_dict()

    def _policy(self) -> WatchPolicy:
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.tracking.watch import WatchPolicy

        policy: Any = json.loads(self.policy) if isinstance(self.policy, str) and self.policy.strip() else self.policy
        if not isinstance(policy, Mapping):
            raise ConfigurationError(f"watch policy must be a mapping, got {type(policy).__name__}")
        return WatchPolicy.from_dict(policy)

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.operators.base import ledger_uri, storage_options
        from airflow_provider_parity.operators.retraining import run_moment
        from airflow_provider_parity.outcomes.ledger import read_outcomes
        from airflow_provider_parity.outcomes.model import GateOutcome
        from airflow_provider_parity.tracking import keys
        from airflow_provider_parity.tracking.client import aliases_of
        from airflow_provider_parity.tracking.history import latest_for, read_history
        from airflow_provider_parity.tracking.retraining import history
        from airflow_provider_parity.tracking.watch import analyse

        policy, now = self._policy(), run_moment(self.as_of, context, what="as_of")
        ledger = read_outcomes(ledger_uri(), storage_options=storage_options())
        with self.hook().client() as client:
            champion = aliases_of(client, self.model_name).get(keys.CHAMPION)
            entry = latest_for(read_history(client, self.model_name), champion)
        previous = entry.replaced if entry is not None and entry.action == "promote" else None
        if champion is None or entry is None or previous is None:
            return GateOutcome(gate="watch", status="no_baseline", blocking=False, dataset=self._model_uri(),
                               reason=f"no previous champion of {self.model_name} to compare v{champion} with")
        promoted = (run_moment(self.promoted_at, context, what="promoted_at") if self.promoted_at
                    else history(ledger, before=now)[1] or run_moment(entry.at, context))
        end = min(now, promoted + policy.evaluation_window)
        if now > promoted + policy.evaluation_window or end <= promoted:
            return GateOutcome(gate="watch", status="passed", blocking=False, dataset=self._model_uri(),
                               reason=f"v{champion} promoted at {promoted.isoformat()} is outside its evaluation "
                                      f"window of {policy.evaluation_window} at {now.isoformat()}: kept")
        before = self._signals(policy, ledger, promoted - (end - promoted), promoted)
        after = self._signals(policy, ledger, promoted, end)
        verdict = analyse(policy, before, after)
        reason = f"v{champion} (previous v{previous}) over {end - promoted} since {promoted.isoformat()}: {verdict.reason}"
        if verdict.breached:
            reason = self._roll_back(context, champion, previous, reason)
        outcome = verdict.outcome(dataset=self._model_uri(), version=int(champion) if champion.isdigit() else None,
                                  as_of=now.isoformat())
        return outcome.with_(reason=reason)

    def _signals(self, policy: WatchPolicy, ledger: list[GateOutcome], start: datetime, end: datetime) -> LiveSignals:
        from dataclasses import replace

        from airflow_provider_parity.tracking.watch import LiveSignals, log_signals, query_kpi, skew_rate

        signals = LiveSignals()
        if self.serving_log:
            from airflow_provider_parity.delta import read_arrow

            signals = log_signals(read_arrow(self.serving_log), start, end)
        url = self.prometheus_url
        # The range API includes its end; one step less keeps the window half-open like the others,
        # so the promotion's own instant counts for the new champion only.
        last = max(start, end - policy.step)
        kpis = {g.name: query_kpi(url, g.query, start, last, policy.step) for g in policy.kpis} if url else {}
        return replace(signals, skew_rate=skew_rate(ledger, start, end), kpis=kpis)

    def _roll_back(self, context: Context, champion: str, previous: str, reason: str) -> str:
        from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier
        from airflow_provider_parity.tracking.rollback import rollback

        ti = context["ti"]
        with self.hook().client() as client:
            done = rollback(client, self.model_name, reason=f"watch: {reason}", to_version=previous,
                            request_id=f"{ti.dag_id}/{ti.run_id}/{ti.task_id}")
        reason = f"rolled back to v{done.to_version}: {reason}"
        GateAlertNotifier(alert_file=self.alert_file).notify({**context, "exception": RuntimeError(reason)})
        return reason

    def _extra_run_facets(self) -> dict[str, Any]:
        return self.outcome_run_facets()
