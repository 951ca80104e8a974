"""A real Prometheus on loopback scrapes ``slo.metrics.render`` over a real ledger and evaluates the generated rules."""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from slo_servers import prometheus

from airflow_provider_parity.slo.rules import render_rules

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus missing: scripts/setup.sh")]


def query(base: str, expr: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return list(json.load(response)["data"]["result"])


def until(base: str, expr: str, deadline: float) -> list[dict[str, Any]]:
    while time.monotonic() < deadline:
        try:
            result = query(base, expr)
        except OSError:
            result = []
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"no result for {expr} before the deadline")


def test_prometheus_scrapes_the_ledger_and_fires_the_rules(tmp_path: Path, exporter: str, example_contract) -> None:  # type: ignore[no-untyped-def]
    with prometheus(tmp_path, exporter=exporter, rules=render_rules([example_contract])) as base:
        _check(base)


def _check(base: str) -> None:
    deadline = time.monotonic() + 60
    [bad] = until(base, 'parity_slo_bad_events_total{slo="freshness"}', deadline)
    assert bad["metric"]["dataset"] == "customer_features" and float(bad["value"][1]) == 1
    [total] = query(base, 'parity_slo_events_total{slo="freshness"}')
    assert float(total["value"][1]) == 3
    [age] = query(base, "parity_freshness_age_seconds")
    assert float(age["value"][1]) == 90_000
    # Exact gauges, labelled by dataset, contract version, gate and column/feature (no URI, no run).
    [nulls] = query(base, "parity_null_ratio")
    assert nulls["metric"] == {"__name__": "parity_null_ratio", "dataset": "customer_features", "contract_version": "1.0.0",
                               "gate": "contract_gate", "column": "tenure_days", "job": "parity",
                               "instance": nulls["metric"]["instance"]}
    assert float(nulls["value"][1]) == 0.0006
    [skew] = query(base, 'parity_feature_skew_rate{feature="avg_ticket_30d"}')
    assert skew["metric"]["gate"] == "serving_skew" and float(skew["value"][1]) == 0.00014
    # The rules loaded from 'parity slo rules' fire on what was scraped: the stale gate blocks, the table is stale.
    [blocked] = until(base, 'ALERTS{alertname="ParityGateBlocked",alertstate="firing"}', deadline)
    assert blocked["metric"]["gate"] == "features_fresh"
    [stale] = until(base, 'ALERTS{alertname="ParityFeatureTableStale",alertstate="firing"}', deadline)
    assert stale["metric"]["dataset"] == "customer_features"
