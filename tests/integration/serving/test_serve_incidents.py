"""``parity serve`` options for replayed traffic and on-purpose incidents, as a real process through HTTP.

SQLite only: the options act above the store, which the other serving tests cover for both kinds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from serving_support import Lake, read_log

from airflow_provider_parity.serving.demo import ServiceProcess, post_json, send_requests, train_champion
from airflow_provider_parity.serving.faults import in_share

# The store the conftest's ``materialised`` fixture fills: SQLite only here.
pytestmark = [pytest.mark.integration, pytest.mark.parametrize("store_uri", ["sqlite"], indirect=True)]
Start = Callable[..., ServiceProcess]


def test_an_injected_rounding_reaches_the_log_stamped_by_the_replay_clock(
        lake: Lake, materialised: str, start_service: Start, tmp_path: Path) -> None:
    from airflow_provider_parity.delta import read_arrow

    replay = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    service = start_service(materialised, "--fault", "round:avg_ticket_30d:0.25", "--replay-from", replay.isoformat())
    customers = [f"C{i:06d}" for i in range(1, 81)]
    answers = send_requests(f"{service.url}/predict", [{"entities": [{"customer_id": c}]} for c in customers],
                            concurrency=4)
    assert [status for status, _ in answers] == [200] * len(customers)
    service.stop()
    offline = {r["customer_id"]: r["avg_ticket_30d"] for r in read_arrow(lake.fresh).to_pylist()}
    logged = {r["customer_id"]: r for r in read_log(tmp_path / "serving_log")}
    assert set(logged) == set(customers)
    hit = {c for c in customers if in_share(c, 0.25)}
    assert 0 < len(hit) < len(customers)
    for customer, row in logged.items():
        value = offline[customer]
        expected = round(value) if customer in hit and value is not None else value
        assert row["avg_ticket_30d"] == (None if expected is None else pytest.approx(expected, abs=1e-9)), customer
        # served_at runs from the replay instant at the wall clock's pace, not from now.
        assert replay <= row["served_at"] < replay + timedelta(minutes=10)


def test_waits_for_a_champion_and_serves_it_once_the_alias_appears(
        lake: Lake, materialised: str, start_service: Start, request: pytest.FixtureRequest) -> None:
    from airflow_provider_parity.examples import customer_features

    name = f"churn-later-{request.node.name[-8:]}"
    service = start_service(materialised, "--wait-for-champion", "--poll-seconds", "0.5", model=name)
    entity = {"entities": [{"customer_id": "C000003"}]}
    status, before = post_json(f"{service.url}/predict", entity)
    assert status == 200 and before["model_version"] is None and before["predictions"] == [None]
    assert _get(f"{service.url}/readyz") == (503, {"ready": False, "model_version": None, "materialisation_version": 0})
    train_champion(lake.tracking_uri, name, customer_features(200), lake.contract, label="churned")
    deadline = time.monotonic() + 60
    after = before
    while after["model_version"] is None and time.monotonic() < deadline:
        time.sleep(0.2)
        after = post_json(f"{service.url}/predict", entity)[1]
    assert after["model_version"] == "1" and 0.0 <= after["predictions"][0] <= 1.0
    assert _get(f"{service.url}/readyz") == (200, {"ready": True, "model_version": "1", "materialisation_version": 0})


def _get(url: str) -> tuple[int, Any]:
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_without_the_option_a_missing_champion_is_bad_input(lake: Lake, materialised: str, tmp_path: Path) -> None:
    service = ServiceProcess(contract=str(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml"),
                             store=materialised, model="nobody", log=str(tmp_path / "log"),
                             tracking_uri=lake.tracking_uri, output=tmp_path / "serve.out")
    assert service.process.wait(timeout=120) == 2
    assert "no version with alias 'champion'" in service.tail()


def test_two_workers_append_to_one_log_and_lose_nothing_on_sigterm(
        materialised: str, start_service: Start, tmp_path: Path) -> None:
    """--workers 2: each worker has its own log writer; their commits to the one Delta table interleave
    (flushes every 0.1 s make them collide) and after SIGTERM the log holds every answered request."""
    service = start_service(materialised, "--workers", "2", "--flush-seconds", "0.1")
    customers = [f"C{i % 200:06d}" for i in range(600)]
    answers = send_requests(f"{service.url}/predict", [{"entities": [{"customer_id": c}]} for c in customers],
                            concurrency=8)
    assert [status for status, _ in answers] == [200] * len(customers)
    service.stop()
    logged = read_log(tmp_path / "serving_log")
    assert sorted(r["request_id"] for r in logged) == sorted(body["request_id"] for _, body in answers)


def test_waits_for_the_first_materialisation_instead_of_exiting(lake: Lake, store_uri: str, start_service: Start,
                                                                tmp_path: Path) -> None:
    """A deployment may start before the first feature pipeline run: --wait-for-features keeps the pod alive
    and not ready (503) until the view is materialised, then serves; without it, exit 2 in one line."""
    import subprocess
    import sys

    contract = str(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml")
    refused = ServiceProcess(contract=contract, store=store_uri, model=lake.model, log=str(tmp_path / "log0"),
                             tracking_uri=lake.tracking_uri, output=tmp_path / "refused.out")
    assert refused.process.wait(timeout=120) == 2
    assert "no materialised feature view 'customer_features'" in refused.tail() and "Traceback" not in refused.tail()

    service = start_service(store_uri, "--wait-for-features")
    entity = {"entities": [{"customer_id": "C000003"}]}
    assert _get(f"{service.url}/readyz") == (503, {"ready": False, "model_version": "1",
                                                   "materialisation_version": None})
    status, body = post_json(f"{service.url}/predict", entity)
    assert status == 503 and "not materialised yet" in body["detail"]
    done = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "materialize", lake.fresh,
                           "--version", "0", "--contract", contract, "--store", store_uri],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _get(f"{service.url}/readyz") == (200, {"ready": True, "model_version": "1", "materialisation_version": 0})
    status, body = post_json(f"{service.url}/predict", entity)
    assert status == 200 and body["materialisation_version"] == [0] and 0.0 <= body["predictions"][0] <= 1.0
