"""When a blocked gate pages: one alert per (gate, dataset) per cooldown, and a resolve when it passes.

The decision is a pure function of a small state (:func:`decide`), so it is tested without
Airflow; :class:`~airflow_provider_parity.notifications.gate.GateNotifier` keeps that state in an
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


def decide(state: dict[str, Any] | None, *, blocked: bool, now: datetime, cooldown: timedelta) -> Decision:
    """Say whether a gate's outcome sends an alert, a resolve, or nothing.

    A blocked gate triggers, unless an alert for the same (gate, dataset) is still open and was
    sent less than ``cooldown`` ago (a retrying pipeline or an hourly monitor must not page every
    run of one incident). A gate that passes again resolves an open alert once. A new failure after
    a resolve always triggers: it is a new incident.

    Args:
        state: what the previous decision stored (None the first time).
        blocked: whether the gate's latest outcome blocks.
        now: timezone-aware.
        cooldown: quiet time after an alert while it stays open.
    """
    state = dict(state or {})
    firing = bool(state.get("firing"))
    last = state.get("last_sent")
    if not blocked:
        if not firing:
            return Decision(None, "passed, no open alert", state)
        return Decision("resolve", "passed again: resolving the open alert", {**state, "firing": False})
    if firing and last is not None:
        ago = now - datetime.fromisoformat(last)
        if timedelta(0) <= ago < cooldown:
            suppressed = int(state.get("suppressed", 0)) + 1
            return Decision(None, f"alerted {ago} ago: within the {cooldown} cooldown ({suppressed} held back)",
                            {**state, "suppressed": suppressed})
    return Decision("trigger", "blocked", {"firing": True, "last_sent": now.isoformat(), "suppressed": 0})
