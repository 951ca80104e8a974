"""``parity serve`` as a real process, through HTTP, against SQLite and a real Redis online store."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from serving_support import Lake, read_log

from airflow_provider_parity.serving.demo import ServiceProcess, post_json, train_champion
from airflow_provider_parity.serving.online_store import materialize, open_store

pytestmark = pytest.mark.integration
Start = Callable[..., ServiceProcess]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return str(answer.read().decode())


def test_serves_predictions_and_logs_what_it_served(materialised: str, start_service: Start, tmp_path: Path) -> None:
    service = start_service(materialised, "--flush-seconds", "0.2")
    status, body = post_json(f"{service.url}/predict", {"entities": [{"customer_id": "C000001"},
                                                                     {"customer_id": "C000002"}]})
    assert status == 200, body
    assert body["boundary"] == "passed" and not body["degraded"]
    assert body["model_version"] == "1" and body["materialisation_version"] == [0, 0]
    assert all(0.0 <= p <= 1.0 for p in body["predictions"])

    assert "/predict" in json.loads(_get(f"{service.url}/openapi.json"))["paths"]
    metrics = _get(f"{service.url}/metrics")
    assert 'parity_serving_requests_total{outcome="served"} 1.0' in metrics
    assert "parity_serving_latency_seconds_bucket" in metrics
    assert "parity_serving_feature_staleness_seconds" in metrics

    deadline = time.monotonic() + 20
    while not _committed(tmp_path / "serving_log") and time.monotonic() < deadline:
        time.sleep(0.1)  # the log is appended in the background, within --flush-seconds
    rows = read_log(tmp_path / "serving_log")
    assert {r["customer_id"] for r in rows} == {"C000001", "C000002"}
    row = rows[0]
    assert row["request_id"] == body["request_id"] and row["model_version"] == "1"
    assert row["materialisation_version"] == 0 and row["boundary"] == "passed"
    assert row["served_at"].tzinfo is not None
    assert {"tenure_days", "orders_30d", "avg_ticket_30d", "plan", "updated_at"} <= set(row)


def test_sigterm_mid_traffic_loses_no_logged_request(materialised: str, start_service: Start, tmp_path: Path) -> None:
    # Flushes far apart: everything answered before SIGTERM is still queued when the signal lands.
    service = start_service(materialised, "--flush-seconds", "60", "--flush-rows", "100000")
    answered: list[str] = []
    lock = threading.Lock()

    def client(worker: int) -> None:
        for i in range(400):
            try:
                entity = {"customer_id": f"C{(worker * 7 + i) % 200:06d}"}
                status, body = post_json(f"{service.url}/predict", {"entities": [entity]}, timeout=5)
            except OSError:
                return  # the server went away: what it answered is what must be in the log
            if status == 200:
                with lock:
                    answered.append(body["request_id"])

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    while len(answered) < 50:
        time.sleep(0.01)
    assert service.stop(signal.SIGTERM) == 0  # a graceful stop is a clean exit, not death by the signal
    for thread in threads:
        thread.join(timeout=30)
    rows = read_log(tmp_path / "serving_log")
    assert 50 <= len(answered) < 4 * 400  # the signal landed while clients were still sending
    assert len(rows) == len(answered)
    assert sorted(r["request_id"] for r in rows) == sorted(answered)


def test_follows_an_alias_change_without_restart(lake: Lake, materialised: str, start_service: Start,
                                                 request: pytest.FixtureRequest) -> None:
    from airflow_provider_parity.examples import customer_features

    name = f"churn-alias-{request.node.callspec.id}"
    table = customer_features(200)
    train_champion(lake.tracking_uri, name, table, lake.contract, label="churned", seed=0)
    service = start_service(materialised, "--poll-seconds", "0.5", model=name)
    entity = {"entities": [{"customer_id": "C000005"}]}
    before = post_json(f"{service.url}/predict", entity)[1]
    assert before["model_version"] == "1"

    assert train_champion(lake.tracking_uri, name, table, lake.contract, label="churned", seed=50) == "2"
    deadline = time.monotonic() + 60
    after = before
    while after["model_version"] == "1" and time.monotonic() < deadline:
        time.sleep(0.2)
        after = post_json(f"{service.url}/predict", entity)[1]
    assert after["model_version"] == "2"
    assert after["predictions"] != before["predictions"]  # another model answers, not just another label
    assert service.process.poll() is None


def test_reject_policy_refuses_unknown_and_stale_entities(lake: Lake, store_uri: str, start_service: Start) -> None:
    store = open_store(store_uri)
    try:
        materialize(lake.stale, 0, lake.contract, store)
    finally:
        store.close()
    service = start_service(store_uri)  # reject is the default
    status, body = post_json(f"{service.url}/predict", {"entities": [{"customer_id": "C000001"}]})
    assert status == 422
    assert any(f.startswith("freshness(updated_at)") for f in body["detail"]["failures"])
    status, body = post_json(f"{service.url}/predict", {"entities": [{"customer_id": "C424242"}]})
    assert status == 422
    assert any(f.startswith("not_null(tenure_days)") for f in body["detail"]["failures"])
    metrics = _get(f"{service.url}/metrics")
    assert 'parity_serving_boundary_failures_total{policy="reject"} 2.0' in metrics
    assert 'parity_serving_requests_total{outcome="rejected"} 2.0' in metrics


def test_degrade_policy_serves_and_logs_the_failed_verdict(materialised: str, start_service: Start, tmp_path: Path) -> None:
    service = start_service(materialised, "--on-boundary-failure", "degrade", "--flush-seconds", "0.2")
    status, body = post_json(f"{service.url}/predict", {"entities": [{"customer_id": "C000001"},
                                                                     {"customer_id": "C424242"}]})
    assert status == 200, body
    assert body["degraded"] and body["boundary"] == "failed"
    assert body["predictions"][0] is not None and body["predictions"][1] is None
    assert body["materialisation_version"] == [0, None]
    service.stop()
    rows = {r["customer_id"]: r for r in read_log(tmp_path / "serving_log")}
    assert rows["C424242"]["boundary"] == "failed" and rows["C424242"]["degraded"]
    assert rows["C424242"]["tenure_days"] is None and rows["C000001"]["tenure_days"] is not None


def test_bad_input_fails_before_the_port_opens(lake: Lake, tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "serve", "--contract",
                             str(Path(lake.fresh).parent / "missing.yaml"), "--store", "sqlite:///x.db", "--model", "m",
                             "--log", str(tmp_path / "log")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("parity: error:") and "Traceback" not in result.stderr


def _committed(path: Path) -> bool:
    """The serving log has its first commit (its folder appears before the commit lands)."""
    from deltalake import DeltaTable

    return path.exists() and DeltaTable.is_deltatable(str(path))
