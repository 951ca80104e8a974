"""The bundle wires GateNotifier beside the gates only when alert connections are configured."""

from __future__ import annotations

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.notifications.gate import GateNotifier
from churn.settings import gate_alerts, load_settings


def test_no_alert_connection_wires_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__PARITY__ALERT_SLACK_WEBHOOK_CONN_ID", raising=False)
    monkeypatch.delenv("AIRFLOW__PARITY__ALERT_PAGERDUTY_CONN_ID", raising=False)
    assert gate_alerts(load_settings()) == []


def test_configured_connections_wire_one_notifier(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__PARITY__ALERT_PAGERDUTY_CONN_ID", "pagerduty_data")
    monkeypatch.setenv("AIRFLOW__PARITY__ALERT_COOLDOWN", "6h")
    monkeypatch.setenv("AIRFLOW__PARITY__ALERT_PERSISTENCE", "2/3")
    [notifier] = gate_alerts(load_settings())
    assert isinstance(notifier, GateNotifier)
    assert notifier.pagerduty_events_conn_id == "pagerduty_data" and notifier.slack_webhook_conn_id is None
    assert notifier.cooldown.total_seconds() == 6 * 3600
    assert (notifier.persistence.breaches, notifier.persistence.windows) == (2, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs a destination"),
    ({"slack_conn_id": "slack"}, "needs slack_channel"),
    ({"slack_webhook_conn_id": "hook", "cooldown": "soon"}, "cooldown"),
    ({"slack_webhook_conn_id": "hook", "severity": "urgent"}, "severity must be one of"),
    ({"slack_webhook_conn_id": "hook", "persistence": "3/2"}, "persistence must be N/M"),
])
def test_bad_notifier_arguments_are_one_line_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        GateNotifier(**kwargs)


def test_pagerduty_base_url_comes_from_the_connection_host() -> None:
    from airflow.models.connection import Connection

    from airflow_provider_parity.notifications.gate import PAGERDUTY_EVENTS_URL, _events_url

    assert _events_url(Connection(conn_id="pd", conn_type="pagerduty_events", password="k")) == PAGERDUTY_EVENTS_URL
    eu = Connection(conn_id="pd", conn_type="pagerduty_events", host="events.eu.pagerduty.com", password="k")
    assert _events_url(eu) == "https://events.eu.pagerduty.com"
    local = Connection(conn_id="pd", conn_type="pagerduty_events", host="127.0.0.1", port=8080, schema="http")
    assert _events_url(local) == "http://127.0.0.1:8080"
