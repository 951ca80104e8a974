"""GateAlertNotifier: tell people that a gate blocked, with the gate's one-line reason.

Attach it to a gate task's (or a verdict task's) ``on_failure_callback``. Each alert is a
JSON line appended to ``alert_file`` (a file a log shipper, an on-call bridge or a test can
read) and an ERROR log line; chain Airflow's own Slack, SMTP or PagerDuty notifiers beside it
for delivery. The reason is the task's exception message, which the provider's gates keep to
one line naming the rule, the column and observed versus expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

if TYPE_CHECKING:
    from airflow.sdk import Context


def failure_reason(context: Any) -> str:
    """The failed task's exception as one line (its first line), or a generic note."""
    exc = context.get("exception")
    text = str(exc).strip() if exc is not None else ""
    return text.splitlines()[0] if text else "the task failed (see its log)"


class GateAlertNotifier(BaseNotifier):
    """Append an alert for a blocked gate to a JSON-lines file and log it.

    Args:
        alert_file: where alerts go (templated). Empty: ``{AIRFLOW_HOME}/parity/alerts.jsonl``.
        severity: a label for routing (``critical``, ``warning``, ...).
    """

    template_fields: Sequence[str] = ("alert_file", "severity")

    def __init__(self, *, alert_file: str = "", severity: str = "critical") -> None:
        super().__init__()
        self.alert_file = alert_file
        self.severity = severity

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
        alert = self.alert(context)
        path = self.alert_file or os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")),
                                               "parity", "alerts.jsonl")
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # One write of one line: concurrent alerts from several workers do not interleave.
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(alert, sort_keys=True) + "\n")
        self.log.error("ALERT [%s] %s.%s: %s", self.severity, alert["dag_id"], alert["task_id"], alert["reason"])
