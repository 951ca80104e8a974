"""The chart's PrometheusRule: off by default, the generated SLO rules when enabled, never stale."""

from __future__ import annotations

from typing import Any

import yaml
from deploy_support import CHART_DIR, REPO, Render, find

from airflow_provider_parity.contracts import load_contract
from airflow_provider_parity.slo.rules import render_rules

RULES = CHART_DIR / "files" / "prometheus-rules.yaml"


def test_the_shipped_rules_match_the_contracts() -> None:
    """A contract change without `make rules` fails here, not on the cluster."""
    contracts = [load_contract(p) for p in sorted((REPO / "contracts").glob("*.yaml"))]
    assert RULES.read_text() == render_rules(contracts), "run `make rules`"


def test_prometheus_rule_is_off_by_default_and_carries_the_rules_when_enabled(chart_render: Render) -> None:
    assert not [o for o in chart_render() if o["kind"] == "PrometheusRule"]
    objects = chart_render({"monitoring": {"prometheusRule": {"enabled": True,
                                                              "labels": {"release": "kube-prometheus-stack"}}}})
    [rule] = [o for o in objects if o["kind"] == "PrometheusRule"]
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["spec"] == yaml.safe_load(RULES.read_text())
    alerts: list[dict[str, Any]] = [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    blocked = next(r for r in alerts if r["alert"] == "ParityGateBlocked")
    assert "{{ $labels.gate }}" in blocked["annotations"]["summary"]  # Prometheus' template, not Helm's
    assert {r["labels"]["severity"] for r in alerts} == {"page", "ticket"}
    assert find(objects, "ConfigMap", "parity-contracts")
