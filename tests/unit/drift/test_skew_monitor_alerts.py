"""The skew monitor's alerting: persistence (N breached windows of the last M) and cooldown, and the DAG around it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from churn.skew_alerts import AlertPolicy, decide

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _run(policy: AlertPolicy, breaches: list[bool], state=None) -> tuple[list[bool], dict]:
    """Hourly windows; the notifier is called for the breached ones only, as the gate's failure callback is."""
    alerts = []
    for hour, breached in enumerate(breaches):
        if not breached:
            alerts.append(False)
            continue
        decision = decide(state, now=T0 + hour * HOUR, window=HOUR, policy=policy)
        # The state goes through JSON, as it does through the Airflow Variable.
        state = json.loads(json.dumps(decision.state))
        alerts.append(decision.alert)
    return alerts, state


def test_one_of_one_alerts_on_the_first_breach_then_the_cooldown_holds():
    alerts, state = _run(AlertPolicy(1, 1, timedelta(hours=3)), [False, True, True, True, True, False, True])
    #                                                    hours:   0      1     2     3     4      5      6
    assert alerts == [False, True, False, False, True, False, False]
    assert state["last_alert"] == (T0 + 4 * HOUR).isoformat()


def test_persistence_needs_n_breaches_among_the_last_m_windows():
    policy = AlertPolicy(2, 3, timedelta(0))
    assert _run(policy, [True, False, False, True])[0] == [False, False, False, False]  # 1 of 3 each time
    assert _run(policy, [True, False, True])[0] == [False, False, True]
    assert _run(policy, [False, True, True, True])[0] == [False, False, True, True]


def test_only_the_last_m_windows_are_kept():
    _, state = _run(AlertPolicy(1, 4, timedelta(0)), [True] * 8)
    assert state["breaches"] == [(T0 + h * HOUR).isoformat() for h in range(4, 8)]


def test_a_backfilled_older_window_is_not_held_back_by_a_newer_alert():
    first = decide(None, now=T0, window=HOUR, policy=AlertPolicy())
    older = decide(first.state, now=T0 - timedelta(days=1), window=HOUR, policy=AlertPolicy())
    assert first.alert and older.alert


@pytest.mark.parametrize("text, expected", [("1/1", (1, 1)), ("2/3", (2, 3)), (" 3 / 3 ", (3, 3))])
def test_persistence_parses(text, expected):
    policy = AlertPolicy.parse(text, timedelta(hours=1))
    assert (policy.breaches, policy.windows) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "2", "a/b"])
def test_bad_persistence_is_refused_with_the_form_expected(text):
    with pytest.raises(ValueError, match="N/M"):
        AlertPolicy.parse(text, timedelta(hours=1))


def test_the_monitor_dag_parses_and_its_gate_alerts_through_the_persistence_rule():
    from airflow.dag_processing.dagbag import DagBag

    from churn.settings import BUNDLE_ROOT
    from churn.skew_alerts import PersistentGateAlert

    bag = DagBag(dag_folder=str(BUNDLE_ROOT / "dags" / "serving_skew_monitor.py"))
    assert bag.import_errors == {}
    gate = bag.dags["serving_skew_monitor"].get_task("serving_skew")
    notifiers = [c for c in gate.on_failure_callback if isinstance(c, PersistentGateAlert)]
    assert len(notifiers) == 1 and notifiers[0].policy == AlertPolicy(1, 1, timedelta(hours=6))
