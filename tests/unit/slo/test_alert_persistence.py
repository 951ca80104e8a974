"""Alert persistence (N blocked windows of the last M) and cooldown: one decision for both notifiers,
and the skew monitor's gate wired through it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.notifications.cooldown import Persistence, decide

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _run(persistence: Persistence, cooldown: timedelta, blocked: list[bool], state=None) -> tuple[list[bool], dict]:
    """Hourly windows; the notifier is called for the blocked ones only, as a gate's failure callback is."""
    alerts = []
    for hour, breached in enumerate(blocked):
        if not breached:
            alerts.append(False)
            continue
        decision = decide(state, blocked=True, now=T0 + hour * HOUR, cooldown=cooldown, persistence=persistence,
                          window=HOUR)
        state = json.loads(json.dumps(decision.state))  # through JSON, as through the Airflow Variable
        alerts.append(decision.action == "trigger")
    return alerts, state


def test_one_of_one_alerts_on_the_first_breach_then_the_cooldown_holds():
    alerts, state = _run(Persistence(), timedelta(hours=3), [False, True, True, True, True, False, True])
    #                                            hours:   0      1     2     3     4      5      6
    assert alerts == [False, True, False, False, True, False, False]
    assert state["last_sent"] == (T0 + 4 * HOUR).isoformat() and "breaches" not in state


def test_persistence_needs_n_breaches_among_the_last_m_windows():
    policy = Persistence(2, 3)
    assert _run(policy, timedelta(0), [True, False, False, True])[0] == [False, False, False, False]  # 1 of 3 each
    assert _run(policy, timedelta(0), [True, False, True])[0] == [False, False, True]
    assert _run(policy, timedelta(0), [False, True, True, True])[0] == [False, False, True, True]


def test_only_the_last_m_windows_are_kept():
    _, state = _run(Persistence(1, 4), timedelta(0), [True] * 8)
    assert state["breaches"] == [(T0 + h * HOUR).isoformat() for h in range(4, 8)]


def test_persistence_then_cooldown_then_resolve():
    first = decide(None, blocked=True, now=T0, cooldown=HOUR, persistence=Persistence(2, 2), window=HOUR)
    second = decide(first.state, blocked=True, now=T0 + HOUR, cooldown=HOUR, persistence=Persistence(2, 2), window=HOUR)
    assert (first.action, second.action) == (None, "trigger") and "1 blocked window(s) of the last 2" in first.why
    resolved = decide(second.state, blocked=False, now=T0 + 2 * HOUR, cooldown=HOUR)
    assert resolved.action == "resolve"


def test_a_backfilled_older_window_is_not_held_back_by_a_newer_alert():
    first = decide(None, blocked=True, now=T0, cooldown=timedelta(hours=6))
    older = decide(first.state, blocked=True, now=T0 - timedelta(days=1), cooldown=timedelta(hours=6))
    assert first.action == older.action == "trigger"


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("2/3", (2, 3)), (" 3 / 3 ", (3, 3))])
def test_persistence_parses(text, expected):
    policy = Persistence.parse(text)
    assert (policy.breaches, policy.windows) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "2", "a/b"])
def test_bad_persistence_is_refused_with_the_form_expected(text):
    from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier

    with pytest.raises(ValueError, match="N/M"):
        Persistence.parse(text)
    with pytest.raises(ConfigurationError, match="GateAlertNotifier: persistence must be N/M"):
        GateAlertNotifier(persistence=text)


def test_the_monitor_dag_parses_and_its_gate_alerts_through_the_persistence_rule():
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider_parity.notifications.gate_alert import GateAlertNotifier
    from churn.settings import BUNDLE_ROOT

    bag = DagBag(dag_folder=str(BUNDLE_ROOT / "dags" / "serving_skew_monitor.py"))
    assert bag.import_errors == {}
    gate = bag.dags["serving_skew_monitor"].get_task("serving_skew")
    gated = [c for c in gate.on_failure_callback if isinstance(c, GateAlertNotifier) and c.gated]
    assert len(gated) == 1 and gated[0] in gate.on_success_callback  # a pass closes the alert
    assert (gated[0].persistence, gated[0].cooldown) == (Persistence(1, 1), timedelta(hours=6))
