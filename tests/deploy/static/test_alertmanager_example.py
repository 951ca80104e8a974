"""The Alertmanager routing example: a valid configuration, secrets only as files, pages and tickets routed apart."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from deploy_support import REPO

EXAMPLE = REPO / "helm" / "alertmanager-example.yaml"


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool missing: Debian prometheus-alertmanager")
def test_amtool_accepts_the_example() -> None:
    result = subprocess.run(["amtool", "check-config", str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr


def test_pages_and_tickets_go_apart_and_no_secret_is_inline() -> None:
    config = yaml.safe_load(EXAMPLE.read_text())
    routes = {tuple(r["matchers"]): r["receiver"] for r in config["route"]["routes"]}
    assert routes[('severity="page"', 'alertname=~"Parity.*"')] == "pagerduty-data"
    assert routes[('severity="ticket"', 'alertname=~"Parity.*"')] == "slack-data-slos"
    receivers = {r["name"]: r for r in config["receivers"]}
    assert set(receivers["pagerduty-data"]["pagerduty_configs"][0]) >= {"routing_key_file"}
    assert "routing_key" not in receivers["pagerduty-data"]["pagerduty_configs"][0]
    assert "api_url" not in receivers["slack-data-slos"]["slack_configs"][0]
