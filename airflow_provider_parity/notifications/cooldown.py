"""When a blocked gate alerts: after N blocked windows of the last M, one alert per (gate, dataset)
per cooldown, and a resolve when it passes.

The decision is a pure function of a small state (:func:`decide`), so it is tested without
Airflow; both notifiers (:class:`~airflow_provider_parity.notifications.gate.GateNotifier`, which
pages through Slack and PagerDuty, and
:class:`~airflow_provider_parity.notifications.gate_alert.GateAlertNotifier`) keep that state in an
Airflow Variable per (gate, dataset) (:func:`state_key`).

Why a Variable: every worker reads and writes it through Airflow's API server (Celery workers on
several hosts, Kubernetes pods, the triggerer), with no shared disk and no lake credentials; a
Variable holds one small JSON document, which is all this needs. The ledger would also be seen by
every worker, but it is append-only history of gate outcomes, not mutable alert state. The race
left: two workers failing the *same* gate on the *same* dataset within the few milliseconds
between one's read and its write both send; PagerDuty still groups them (same ``dedup_key``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Action = Literal["trigger", "resolve"]
VARIABLE_PREFIX = "parity_alert."
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_PERSISTENCE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Persistence:
    """Alert only once ``breaches`` of the last ``windows`` windows blocked (``1/1``: at the first).

    An hourly monitor that alerts on every blocked window alerts for one noisy hour; ``2/3`` waits
    for a second blocked window among three. Only blocked windows are recorded (the notifier runs on
    failure): the last ``windows`` are those ending after ``now - windows * window``, so a clean
    window needs no record.
    """

    breaches: int = 1
    windows: int = 1

    @classmethod
    def parse(cls, text: str) -> Persistence:
        """From ``"N/M"`` (e.g. ``"2/3"``).

        Raises:
            ValueError: not ``N/M`` with ``1 <= N <= M``.
        """
        match = _PERSISTENCE.match(text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ValueError(f"persistence must be N/M with 1 <= N <= M (e.g. 2/3), got {text!r}")
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Decision:
    """What to send (``None``: nothing), why, and the state to store."""

    action: Action | None
    why: str
    state: dict[str, Any]


def dedup_key(gate: str, dataset: str) -> str:
    """The key PagerDuty groups by and the alert state is stored under: one per (gate, dataset)."""
    return f"parity/{gate}/{dataset}"


def state_key(gate: str, dataset: str) -> str:
    """A valid Variable key for (gate, dataset): readable, short, and distinct (a hash keeps
    ``a/b`` and ``a_b`` apart once unsafe characters are replaced)."""
    basis = dedup_key(gate, dataset)
    readable = _UNSAFE.sub("_", f"{gate}.{dataset}")[:180]
    return f"{VARIABLE_PREFIX}{readable}.{hashlib.sha256(basis.encode()).hexdigest()[:10]}"


def decide(state: dict[str, Any] | None, *, blocked: bool, now: datetime, cooldown: timedelta,
           persistence: Persistence = Persistence(), window: timedelta = timedelta(hours=1)) -> Decision:
    """Say whether a gate's outcome sends an alert, a resolve, or nothing.

    A blocked gate triggers once ``persistence`` is met, unless an alert for the same (gate,
    dataset) is still open and was sent less than ``cooldown`` before ``now`` (a retrying pipeline
    or an hourly monitor must not page every run of one incident; an older, backfilled window is not
    held back by a newer alert). A gate that passes again resolves an open alert once. A new
    failure after a resolve always triggers: it is a new incident.

    Args:
        state: what the previous decision stored (None the first time).
        blocked: whether the gate's latest outcome blocks.
        now: timezone-aware; the moment the outcome counts at: the wall clock for a pager, the end
            of the data window for a monitor that counts windows.
        cooldown: quiet time after an alert while it stays open.
        persistence: how many blocked windows of the last few it takes.
        window: one window's length (the DAG's schedule interval), for ``persistence``.
    """
    state = dict(state or {})
    firing = bool(state.get("firing"))
    last = state.get("last_sent")
    if not blocked:
        if not firing:
            return Decision(None, "passed, no open alert", state)
        return Decision("resolve", "passed again: resolving the open alert", {**state, "firing": False})
    kept: dict[str, Any] = {}
    if persistence != Persistence():
        since = now - persistence.windows * window
        breaches = sorted({b for b in state.get("breaches", []) if since < datetime.fromisoformat(b) <= now}
                          | {now.isoformat()})
        kept = {"breaches": breaches}
        if len(breaches) < persistence.breaches:
            return Decision(None, f"{len(breaches)} blocked window(s) of the last {persistence.windows}: alerting "
                                  f"at {persistence.breaches}", {**state, **kept})
    if firing and last is not None:
        ago = now - datetime.fromisoformat(last)
        if timedelta(0) <= ago < cooldown:
            suppressed = int(state.get("suppressed", 0)) + 1
            return Decision(None, f"alerted {ago} ago: within the {cooldown} cooldown ({suppressed} held back)",
                            {**state, **kept, "suppressed": suppressed})
    return Decision("trigger", "blocked", {"firing": True, "last_sent": now.isoformat(), "suppressed": 0, **kept})
