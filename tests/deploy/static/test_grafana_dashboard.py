"""The Grafana dashboard: every panel's query parses (promtool), names only metrics that exist, ships in the chart."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import CHART_DIR, Render

from airflow_provider_parity.contracts.model import DAILY_BURN_RATES
from airflow_provider_parity.slo import names

DASHBOARD = CHART_DIR / "files" / "grafana-dashboard.json"


def _queries() -> list[str]:
    """Every panel query, its dashboard variables replaced by their defaults (what Grafana sends)."""
    dashboard = json.loads(DASHBOARD.read_text())
    defaults = {v["name"]: v.get("current", {}).get("value") for v in dashboard["templating"]["list"]}
    defaults["dataset"] = ".*"
    queries = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"]
            for name, value in sorted(defaults.items(), key=lambda kv: -len(kv[0])):
                expr = expr.replace(f"${name}", str(value))
            queries.append(expr)
    return queries


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing: scripts/setup.sh installs it")
def test_every_panel_query_parses(tmp_path: Path) -> None:
    queries = _queries()
    assert len(queries) >= 10
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:panel_{i}", "expr": q}
                                                        for i, q in enumerate(queries)]}]}
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(["promtool", "check", "rules", str(tmp_path / "queries.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    # Not vacuous: a broken query fails the same check.
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(
        {"groups": [{"name": "d", "rules": [{"record": "dashboard:broken", "expr": "sum by (dataset (parity_rows)"}]}]}))
    assert subprocess.run(["promtool", "check", "rules", str(tmp_path / "broken.yaml")],
                          capture_output=True, timeout=60).returncode != 0


def test_panels_name_only_metrics_the_exporter_or_the_rules_produce() -> None:
    known = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str) and "{" not in v}
    known |= {names.error_ratio(w) for a in DAILY_BURN_RATES for w in (a.long, a.short)}
    used = {m for q in _queries() for m in re.findall(r"\bparity[_:][a-z0-9_:]+", q)}
    assert used and used <= known, used - known


def test_the_chart_ships_the_dashboard_for_the_sidecar_when_enabled(chart_render: Render) -> None:
    def dashboards(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("grafana-dashboard")]

    assert dashboards(chart_render()) == []
    [config_map] = dashboards(chart_render({"monitoring": {"grafanaDashboard": {"enabled": True}}}))
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["parity-slos.json"]) == json.loads(DASHBOARD.read_text())


def test_the_deployer_names_the_business_kpi_query(chart_render: Render) -> None:
    kpi = {"query": 'sum(rate(orders_total{shop="eu"}[1h]))', "name": "Orders per hour"}
    [config_map] = [o for o in chart_render({"monitoring": {"grafanaDashboard": {"enabled": True, "kpi": kpi}}})
                    if o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("grafana-dashboard")]
    variables = {v["name"]: v for v in json.loads(config_map["data"]["parity-slos.json"])["templating"]["list"]}
    assert variables["kpi_query"]["query"] == variables["kpi_query"]["current"]["value"] == kpi["query"]
    assert variables["kpi_name"]["current"]["text"] == "Orders per hour"
