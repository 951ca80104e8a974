"""When the hourly skew monitor alerts: persistence (N breaches in the last M windows) and a cooldown.

An hourly monitor that pages on every breached window pages for one noisy hour and
pages again every hour of one long incident. The decision here is a pure function
of the monitor's recent windows (:func:`decide`), so it is tested without Airflow;
the state it reads and returns is a small JSON document kept in an Airflow Variable
(:data:`STATE_VARIABLE`), durable across workers, pods and lakes on object storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

STATE_VARIABLE = "parity_serving_skew_monitor_state"
_PERSISTENCE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class AlertPolicy:
    """Alert after ``breaches`` breached windows among the last ``windows``, at most once per ``cooldown``."""

    breaches: int = 1
    windows: int = 1
    cooldown: timedelta = timedelta(hours=6)

    @classmethod
    def parse(cls, persistence: str, cooldown: timedelta) -> AlertPolicy:
        """From ``"N/M"`` (e.g. ``"2/3"``: two breached windows among the last three).

        Raises:
            ValueError: not ``N/M`` with ``1 <= N <= M``.
        """
        match = _PERSISTENCE.match(persistence)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ValueError(f"persistence must be N/M with 1 <= N <= M (e.g. 2/3), got {persistence!r}")
        return cls(int(match[1]), int(match[2]), cooldown)


@dataclass(frozen=True)
class Decision:
    alert: bool
    why: str
    state: dict[str, Any]
    """The state to store for the next window."""


def decide(state: dict[str, Any] | None, *, breached: bool, now: datetime, policy: AlertPolicy) -> Decision:
    """Record this window and say whether to alert.

    Args:
        state: what the previous call returned (None the first time).
        breached: this window's gate blocked.
        now: this window's time (timezone-aware).
        policy: persistence and cooldown.

    Returns:
        The decision with its reason and the new state.
    """
    state = state or {}
    history = [*list(state.get("windows", [])), {"time": now.isoformat(), "breached": breached}][-policy.windows:]
    last_alert = state.get("last_alert")
    new_state: dict[str, Any] = {"windows": history, "last_alert": last_alert}
    count = sum(1 for w in history if w["breached"])
    if not breached:
        return Decision(False, "no breach in this window", new_state)
    if count < policy.breaches:
        return Decision(False, f"{count} breached window(s) of the last {len(history)}: alerting at "
                               f"{policy.breaches} of {policy.windows}", new_state)
    if last_alert is not None:
        since = now - datetime.fromisoformat(last_alert)
        # A window older than the last alert (a backfill) is not held back by it.
        if timedelta(0) <= since < policy.cooldown:
            return Decision(False, f"alerted {since} ago: within the {policy.cooldown} cooldown", new_state)
    new_state["last_alert"] = now.isoformat()
    return Decision(True, f"{count} breached window(s) of the last {len(history)}", new_state)


def alert_step(context: Any, *, gate_task_id: str, alert_file: str, policy: AlertPolicy) -> str:
    """The monitor's alert task: read the gate's outcome and the stored state, decide, store, alert.

    Raises:
        AirflowSkipException: the gate did not compare (no champion yet), or no alert is due.
    """
    import json

    from airflow.sdk import Variable

    from airflow_provider_parity.compat import AirflowSkipException
    from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier

    ti = context["ti"]
    reason = ti.xcom_pull(task_ids=gate_task_id, key="parity_block_reason")
    compared = reason is not None or ti.xcom_pull(task_ids=gate_task_id, key="drift_result") is not None
    if not compared:
        raise AirflowSkipException(f"{gate_task_id} did not compare: no window to record")
    stored = Variable.get(STATE_VARIABLE, default=None)
    decision = decide(json.loads(stored) if stored else None, breached=reason is not None,
                      now=context["data_interval_end"] or context["logical_date"], policy=policy)
    Variable.set(STATE_VARIABLE, json.dumps(decision.state))
    if not decision.alert:
        raise AirflowSkipException(f"no alert: {decision.why}")
    gate = type("GateTask", (), {"dag_id": ti.dag_id, "run_id": ti.run_id, "task_id": gate_task_id})()
    GateAlertNotifier(alert_file=alert_file).notify({"ti": gate, "exception": reason})  # type: ignore[arg-type]
    return f"alerted ({decision.why}): {reason}"
