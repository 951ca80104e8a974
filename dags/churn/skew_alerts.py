"""When the hourly skew monitor alerts: persistence (N breaches in the last M windows) and a cooldown.

An hourly monitor that pages on every breached window pages for one noisy hour and
pages again every hour of one long incident. The decision here is a pure function
of the monitor's recent breaches (:func:`decide`), so it is tested without Airflow;
the state it reads and returns is a small JSON document kept in an Airflow Variable
(:data:`STATE_VARIABLE`), durable across workers, pods and lakes on object storage.
:class:`PersistentGateAlert` applies it as the skew gate's failure notifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier

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
    """The state to store for the next breach."""


def decide(state: dict[str, Any] | None, *, now: datetime, window: timedelta, policy: AlertPolicy) -> Decision:
    """Record a breached window and say whether to alert.

    Only breaches are recorded: the windows of the last ``policy.windows`` are those
    ending after ``now - policy.windows * window``, so a clean window needs no task.

    Args:
        state: what the previous call returned (None the first time).
        now: the end of this (breached) window, timezone-aware.
        window: the monitor's window (its schedule interval).
        policy: persistence and cooldown.

    Returns:
        The decision with its reason and the new state.
    """
    state = state or {}
    since = now - policy.windows * window
    breaches = sorted({b for b in state.get("breaches", []) if since < datetime.fromisoformat(b) <= now}
                      | {now.isoformat()})
    last_alert = state.get("last_alert")
    new_state: dict[str, Any] = {"breaches": breaches, "last_alert": last_alert}
    if len(breaches) < policy.breaches:
        return Decision(False, f"{len(breaches)} breached window(s) of the last {policy.windows}: alerting at "
                               f"{policy.breaches}", new_state)
    if last_alert is not None:
        ago = now - datetime.fromisoformat(last_alert)
        # A window older than the last alert (a backfill) is not held back by it.
        if timedelta(0) <= ago < policy.cooldown:
            return Decision(False, f"alerted {ago} ago: within the {policy.cooldown} cooldown", new_state)
    new_state["last_alert"] = now.isoformat()
    return Decision(True, f"{len(breaches)} breached window(s) of the last {policy.windows}", new_state)


class PersistentGateAlert(GateAlertNotifier):
    """GateAlertNotifier that alerts only when :func:`decide` says so (state in :data:`STATE_VARIABLE`).

    Args:
        persistence: ``"N/M"``: N breached windows among the last M.
        cooldown: quiet time after an alert, e.g. ``"6h"``.
        **kwargs: GateAlertNotifier's (``alert_file``, ``severity``).
    """

    def __init__(self, *, persistence: str = "1/1", cooldown: str = "6h", **kwargs: Any) -> None:
        from airflow_provider_parity.contracts.model import parse_duration

        super().__init__(**kwargs)
        self.policy = AlertPolicy.parse(persistence, parse_duration(cooldown))

    def notify(self, context: Any) -> None:
        import json

        from airflow.sdk import Variable

        end, start = context.get("data_interval_end"), context.get("data_interval_start")
        now = end or context.get("logical_date") or datetime.now(UTC)
        window = (end - start) if end is not None and start is not None and end > start else timedelta(hours=1)
        stored = Variable.get(STATE_VARIABLE, default=None)
        decision = decide(json.loads(stored) if stored else None, now=now, window=window, policy=self.policy)
        Variable.set(STATE_VARIABLE, json.dumps(decision.state))
        if decision.alert:
            super().notify(context)
        else:
            self.log.warning("skew breach recorded, no alert: %s", decision.why)
