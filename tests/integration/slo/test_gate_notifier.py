"""GateNotifier in real DAG runs: a real completeness gate blocks, the official Slack and PagerDuty
notifiers deliver to loopback servers standing in for Slack's webhook and Web API and PagerDuty's
Events API v2; a repeat within the cooldown sends nothing, after it sends again, a pass resolves."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake
from slo_servers import free_port, reply

from airflow_provider_parity.notifications.cooldown import decide, state_key

pytestmark = pytest.mark.integration

COOLDOWN = 15  # seconds: long enough for the second run to fall inside it, short enough to wait out
ROUTING_KEY = "R0UTINGKEYFORTESTS00000000000000"

GATE_DAG = """
from airflow.sdk import DAG
from airflow_provider_parity.notifications.gate import GateNotifier
from airflow_provider_parity.operators.delta import DeltaCompletenessOperator

NOTIFY = GateNotifier(slack_webhook_conn_id="parity_slack_hook", slack_conn_id="parity_slack_api",
                      slack_channel="#data-alerts", pagerduty_events_conn_id="parity_pagerduty",
                      cooldown="{cooldown}s", persistence="{persistence}")

with DAG(dag_id={dag_id!r}, schedule=None, catchup=False, params={{"version": 0}}) as dag:
    DeltaCompletenessOperator(task_id="completeness_gate", table={uri!r}, version="{{{{ params.version }}}}",
                              minimums={{"customer_id": 0.999}},
                              on_failure_callback=[NOTIFY], on_success_callback=[NOTIFY])
"""


class Recorder(BaseHTTPRequestHandler):
    """Answers as Slack's webhook (``ok``), Slack's ``chat.postMessage`` and PagerDuty's ``/v2/enqueue`` do."""

    received: list[tuple[str, dict[str, Any]]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.received.append((self.path, body))
        if self.path.startswith("/services/"):
            reply(self, 200, b"ok", "text/plain")
        elif self.path.startswith("/api/chat.postMessage"):
            reply(self, 200, json.dumps({"ok": True, "channel": "C1", "ts": "1.1"}).encode(), "application/json")
        elif self.path == "/v2/enqueue":
            answer = {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key") or "new"}
            reply(self, 202, json.dumps(answer).encode(), "application/json")
        else:
            reply(self, 404, b"{}", "application/json")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """One loopback server for the three APIs, and the three connections pointing at it (by id, as a deployer sets them)."""
    received: list[tuple[str, dict[str, Any]]] = []
    handler = type("Handler", (Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("AIRFLOW_CONN_PARITY_SLACK_HOOK", json.dumps(
        {"conn_type": "slackwebhook", "host": f"{base}/services", "password": "T000/B000/XXXXSECRET"}))
    monkeypatch.setenv("AIRFLOW_CONN_PARITY_SLACK_API", json.dumps(
        {"conn_type": "slack", "password": "xoxb-test-token", "extra": {"base_url": f"{base}/api/"}}))
    monkeypatch.setenv("AIRFLOW_CONN_PARITY_PAGERDUTY", json.dumps(
        {"conn_type": "pagerduty_events", "host": base, "password": ROUTING_KEY}))
    yield received
    server.shutdown()
    server.server_close()


def _by_api(received: list[tuple[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    apis: dict[str, list[dict[str, Any]]] = {"webhook": [], "chat": [], "pagerduty": []}
    for path, body in received:
        apis["webhook" if path.startswith("/services/") else "chat" if "chat.postMessage" in path else "pagerduty"
             ].append(body)
    return apis


def test_gate_notifier_pages_once_per_cooldown_and_resolves(run_dag, stand_ins, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uri = str(tmp_path / "customer_features")
    write_deltalake(uri, pa.table({"customer_id": [1, None, 3, None], "plan": ["a", "b", "c", "d"]}))  # v0: 50% null
    write_deltalake(uri, pa.table({"customer_id": [1, 2, 3, 4], "plan": ["a", "b", "c", "d"]}), mode="overwrite")
    source = GATE_DAG.format(dag_id="gate_notifier", uri=uri, cooldown=COOLDOWN, persistence="1/1")
    start = datetime(2026, 11, 1, tzinfo=UTC)

    def run(day: int, version: int) -> str:
        dag_run = run_dag("gate_notifier", source, logical_date=start + timedelta(days=day),
                          run_conf={"version": version})
        return str(dag_run.get_task_instance("completeness_gate").state)

    assert run(0, 0) == "failed"
    sent = time.monotonic()  # the alert went out in the run's failure callback, just before it returned
    apis = _by_api(stand_ins)
    assert [len(apis[k]) for k in ("webhook", "chat", "pagerduty")] == [1, 1, 1]
    text = apis["webhook"][0]["text"]
    # The one-line reason, the check with its column and observed versus expected, gate, dataset, run.
    assert "BLOCKED: gate completeness_gate on customer_features" in text
    assert "completeness(customer_id): observed non-null ratio 0.5000, expected >= 0.9990" in text
    assert "run: gate_notifier/" in text and "dataset: customer_features" in text
    assert apis["chat"][0]["channel"] == "#data-alerts" and apis["chat"][0]["text"] == text
    page = apis["pagerduty"][0]
    assert page["routing_key"] == ROUTING_KEY and page["event_action"] == "trigger"
    assert page["dedup_key"] == "parity/completeness_gate/customer_features"
    assert page["payload"]["severity"] == "critical" and "customer_id" in page["payload"]["summary"]
    assert page["payload"]["custom_details"]["checks"] == [
        "completeness(customer_id): observed non-null ratio 0.5000, expected >= 0.9990"]

    # Within the cooldown: the gate blocks again, nothing is sent.
    assert run(1, 0) == "failed"
    assert time.monotonic() - sent < COOLDOWN, "the second run took longer than the cooldown: raise COOLDOWN"
    assert len(stand_ins) == 3
    # After the cooldown: sent again, with the same dedup_key (PagerDuty groups it).
    time.sleep(max(0.0, sent + COOLDOWN + 1 - time.monotonic()))
    assert run(2, 0) == "failed"
    again = _by_api(stand_ins)
    assert [len(again[k]) for k in ("webhook", "chat", "pagerduty")] == [2, 2, 2]
    assert again["pagerduty"][1]["dedup_key"] == page["dedup_key"]
    # The gate passes on the complete version: one resolve for the open alert, then silence.
    assert run(3, 1) == "success"
    resolved = _by_api(stand_ins)
    assert resolved["pagerduty"][2]["event_action"] == "resolve"
    assert resolved["pagerduty"][2]["dedup_key"] == page["dedup_key"]
    assert resolved["webhook"][2]["text"].startswith("RESOLVED: gate completeness_gate on customer_features")
    assert run(4, 1) == "success"
    assert len(stand_ins) == 9
    # No secret reached a message.
    assert not any(s in json.dumps(b) for _, b in stand_ins for s in ("XXXXSECRET", "xoxb-test-token"))


def test_persistence_pages_on_the_second_blocked_run_of_two(run_dag, stand_ins, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    uri = str(tmp_path / "customer_features")
    write_deltalake(uri, pa.table({"customer_id": [1, None], "plan": ["a", "b"]}))
    source = GATE_DAG.format(dag_id="gate_notifier_persistence", uri=uri, cooldown=0, persistence="2/2")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    first = run_dag("gate_notifier_persistence", source, logical_date=start, run_conf={"version": 0})
    assert str(first.get_task_instance("completeness_gate").state) == "failed" and stand_ins == []
    second = run_dag("gate_notifier_persistence", source, logical_date=start + timedelta(days=1),
                     run_conf={"version": 0})
    assert str(second.get_task_instance("completeness_gate").state) == "failed"
    assert [len(v) for v in _by_api(stand_ins).values()] == [1, 1, 1]


def test_cooldown_decisions() -> None:
    now, hour = datetime(2026, 11, 30, tzinfo=UTC), timedelta(hours=1)
    first = decide(None, blocked=True, now=now, cooldown=hour)
    assert first.action == "trigger"
    held = decide(first.state, blocked=True, now=now + 30 * timedelta(minutes=1), cooldown=hour)
    assert held.action is None and held.state["suppressed"] == 1
    assert decide(held.state, blocked=True, now=now + hour, cooldown=hour).action == "trigger"
    resolved = decide(first.state, blocked=False, now=now + timedelta(minutes=5), cooldown=hour)
    assert resolved.action == "resolve"
    assert decide(resolved.state, blocked=False, now=now + timedelta(minutes=6), cooldown=hour).action is None
    # A new failure right after a resolve is a new incident: it pages despite the cooldown.
    assert decide(resolved.state, blocked=True, now=now + timedelta(minutes=7), cooldown=hour).action == "trigger"
    assert state_key("a/b", "x") != state_key("a_b", "x") and state_key("g", "d").startswith("parity_alert.g.d.")
