"""A real Prometheus on loopback scrapes ``slo.metrics.render`` over a real ledger and evaluates the generated rules."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_parity.outcomes.ledger import append_outcome, read_table
from airflow_provider_parity.outcomes.model import GateOutcome, RunIdentity
from airflow_provider_parity.slo.metrics import render
from airflow_provider_parity.slo.rules import render_rules

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus missing: scripts/setup.sh")]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def exporter(tmp_path: Path, example_contract) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Three daily freshness judgements, the latest stale, served as metrics from the ledger on each scrape."""
    ledger = str(tmp_path / "ledger")
    now = datetime.now(UTC)
    for day, fresh in enumerate((True, True, False)):
        at = now - timedelta(days=2 - day, minutes=30)
        append_outcome(ledger, GateOutcome(
            gate="freshness", status="passed" if fresh else "failed", blocking=not fresh, reason="freshness",
            dataset="s3://lake/features/customer_features", contract=example_contract.ref, as_of=at.isoformat(),
            finished_at=at.isoformat(), metrics={"lag_seconds": 3600.0 if fresh else 90_000.0, "max_age_seconds": 43_200},
            run=RunIdentity("daily_retraining", f"scheduled__{at.date()}", "features_fresh")))

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = render(read_table(ledger)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", _port()), Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return list(json.load(response)["data"]["result"])


def _until(base: str, expr: str, deadline: float) -> list[dict[str, Any]]:
    while time.monotonic() < deadline:
        try:
            result = _query(base, expr)
        except OSError:
            result = []
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"no result for {expr} before the deadline")


def test_prometheus_scrapes_the_ledger_and_fires_the_rules(tmp_path: Path, exporter: str, example_contract) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "rules.yaml").write_text(render_rules([example_contract]))
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yaml")],
        "scrape_configs": [{"job_name": "parity", "metrics_path": "/parity/metrics",
                            "static_configs": [{"targets": [exporter]}]}],
    }))
    port = _port()
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "prometheus.log", "wb") as log:
        process = subprocess.Popen(
            ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=log)
        try:
            _check(base)
        finally:
            process.terminate()
            process.wait(timeout=30)


def _check(base: str) -> None:
    deadline = time.monotonic() + 60
    [bad] = _until(base, 'parity_slo_bad_events_total{slo="freshness"}', deadline)
    assert bad["metric"]["dataset"] == "customer_features" and float(bad["value"][1]) == 1
    [total] = _query(base, 'parity_slo_events_total{slo="freshness"}')
    assert float(total["value"][1]) == 3
    [age] = _query(base, "parity_freshness_age_seconds")
    assert float(age["value"][1]) == 90_000
    # The rules loaded from 'parity slo rules' fire on what was scraped: the stale gate blocks, the table is stale.
    [blocked] = _until(base, 'ALERTS{alertname="ParityGateBlocked",alertstate="firing"}', deadline)
    assert blocked["metric"]["gate"] == "features_fresh"
    [stale] = _until(base, 'ALERTS{alertname="ParityFeatureTableStale",alertstate="firing"}', deadline)
    assert stale["metric"]["dataset"] == "customer_features"
