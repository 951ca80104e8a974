"""GateAlertNotifier: tell people that a gate blocked, with the gate's one-line reason.

Attach it to a gate task's (or a verdict task's) ``on_failure_callback``. Each alert is a
JSON line appended to ``alert_file`` (a file a log shipper, an on-call bridge or a test can
read) and an ERROR log line; chain Airflow's own Slack, SMTP or PagerDuty notifiers beside it
for delivery. The reason is the task's exception message, which the provider's gates keep to
one line naming the rule, the column and observed versus expected.

With ``persistence`` or ``cooldown`` it alerts only as :func:`~.cooldown.decide` says (N blocked
windows of the last M, at most once per cooldown), counting the run's data windows, not the wall
clock: an hourly monitor's windows are what persistence counts, and a backfill is judged window by
window. The state is an Airflow Variable per (gate, dataset), as :class:`~.gate.GateNotifier` keeps.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

if TYPE_CHECKING:
    from airflow.sdk import Context


def failure_reason(context: Any) -> str:
    """The failed task's exception as one line (its first line), or a generic note."""
    exc = context.get("exception")
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0] if text else "the task failed (see its log)"


def data_window(context: Any) -> tuple[datetime, timedelta]:
    """The end of the run's data interval and its length (the logical date and one hour without one)."""
    end, start = context.get("data_interval_end"), context.get("data_interval_start")
    moment = end or context.get("logical_date") or datetime.now(UTC)
    window = (end - start) if end is not None and start is not None and end > start else timedelta(hours=1)
    return moment, window


class GateAlertNotifier(BaseNotifier):
    """Append an alert for a blocked gate to a JSON-lines file and log it.

    Args:
        alert_file: where alerts go (templated). Empty: ``{AIRFLOW_HOME}/parity/alerts.jsonl``.
        severity: a label for routing (``critical``, ``warning``, ...).
        persistence: ``"N/M"``: alert once N of the last M windows blocked (default: every time).
        cooldown: quiet time after an alert for the same (gate, dataset), e.g. ``"6h"`` (default: none).
            With either, attach the notifier to ``on_success_callback`` as well: a pass closes the alert.

    Raises:
        ConfigurationError: a bad persistence or cooldown.
    """

    template_fields: Sequence[str] = ("alert_file", "severity")

    def __init__(self, *, alert_file: str = "", severity: str = "critical", persistence: str | None = None,
                 cooldown: str | None = None) -> None:
        from airflow_provider_parity.contracts.model import parse_duration
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.notifications.cooldown import Persistence

        super().__init__()
        self.alert_file = alert_file
        self.severity = severity
        try:
            self.persistence = Persistence.parse(persistence) if persistence else Persistence()
            self.cooldown = parse_duration(cooldown) if cooldown else timedelta(0)
        except ValueError as exc:
            raise ConfigurationError(f"GateAlertNotifier: {exc}") from None
        self.gated = persistence is not None or cooldown is not None

    def alert(self, context: Any) -> dict[str, Any]:
        ti = context.get("ti")
        return {
            "time": datetime.now(UTC).isoformat(),
            "severity": self.severity,
            "dag_id": getattr(ti, "dag_id", None),
            "run_id": getattr(ti, "run_id", None),
            "task_id": getattr(ti, "task_id", None),
            "reason": failure_reason(context),
        }

    def notify(self, context: Context) -> None:
        if self.gated and not self._decided_to_alert(context):
            return
        alert = self.alert(context)
        path = self.alert_file or os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")),
                                               "parity", "alerts.jsonl")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # One write of one line: concurrent alerts from several workers do not interleave.
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(alert, sort_keys=True) + "\n")
        self.log.error("ALERT [%s] %s.%s: %s", self.severity, alert["dag_id"], alert["task_id"], alert["reason"])

    def _decided_to_alert(self, context: Any) -> bool:
        """Record this window's outcome in the (gate, dataset)'s Variable; whether it writes an alert.

        As a success callback too, a gate that passes again closes the open alert: the next block
        is a new incident and alerts without waiting out the cooldown.
        """
        from airflow.sdk import Variable

        from airflow_provider_parity.notifications.cooldown import decide, state_key
        from airflow_provider_parity.notifications.gate import gate_outcome
        from airflow_provider_parity.slo.events import dataset_key

        outcome = gate_outcome(context)
        ti = context.get("ti")
        label = outcome.label if outcome else (getattr(ti, "task_id", None) or "gate")
        blocked = context.get("exception") is not None or (outcome is not None and outcome.blocking)
        key = state_key(label, dataset_key(outcome) if outcome else "")
        stored = Variable.get(key, default=None)
        moment, window = data_window(context)
        decision = decide(json.loads(stored) if stored else None, blocked=blocked, now=moment, cooldown=self.cooldown,
                          persistence=self.persistence, window=window)
        Variable.set(key, json.dumps(decision.state))
        if blocked and decision.action is None:
            self.log.warning("gate %s blocked, no alert: %s", label, decision.why)
        elif decision.action == "resolve":
            self.log.info("gate %s passes again: its alert is closed", label)
        return decision.action == "trigger"
