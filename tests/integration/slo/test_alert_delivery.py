"""The alert path end to end: ledger -> Prometheus (generated rules) -> Alertmanager (the routing example) -> receiver.

Alertmanager runs the chart's example routing (helm/alertmanager-example.yaml) with its PagerDuty
and Slack receivers pointed at a webhook server on loopback: a blocked gate must reach the page
receiver, with the gate and dataset in the payload.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from slo_servers import free_port, prometheus, running

from airflow_provider_parity.slo.rules import render_rules

REPO = Path(__file__).resolve().parents[3]
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("prometheus") is None or ALERTMANAGER is None,
                                 reason="prometheus or alertmanager missing (Debian prometheus, prometheus-alertmanager)")]


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook receiver on loopback: its URL and the notifications it got."""
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def _routing(url: str) -> dict[str, Any]:
    """The example's routes and inhibitions, its receivers replaced by webhooks named after them, and no waiting."""
    config = yaml.safe_load((REPO / "helm" / "alertmanager-example.yaml").read_text())
    config["receivers"] = [{"name": r["name"], "webhook_configs": [{"url": f"{url}/{r['name']}"}]}
                           for r in config["receivers"]]
    config["route"].update(group_wait="1s", group_interval="1s")
    return dict(config)


def test_a_blocked_gate_pages_through_alertmanager(tmp_path: Path, exporter: str, receiver, example_contract) -> None:  # type: ignore[no-untyped-def]
    url, received = receiver
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(_routing(url)))
    port = free_port()
    assert ALERTMANAGER is not None
    with running([ALERTMANAGER, f"--config.file={tmp_path / 'alertmanager.yml'}", f"--storage.path={tmp_path / 'am'}",
                  f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="], tmp_path / "alertmanager.log"), \
            prometheus(tmp_path, exporter=exporter, rules=render_rules([example_contract]),
                       alertmanager=f"127.0.0.1:{port}"):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(
                a["labels"]["alertname"] == "ParityGateBlocked" for n in received for a in n["alerts"]):
            time.sleep(0.5)
    pages = [(n["receiver"], a) for n in received for a in n["alerts"] if a["labels"]["alertname"] == "ParityGateBlocked"]
    assert pages, f"no ParityGateBlocked notification; got {[n['receiver'] for n in received]}"
    receiver_name, alert = pages[0]
    assert receiver_name == "pagerduty-data" and alert["status"] == "firing"
    assert alert["labels"]["gate"] == "features_fresh" and alert["labels"]["dataset"] == "customer_features"
    assert alert["annotations"]["summary"] == "customer_features: gate features_fresh blocked the pipeline"
