"""The generated rules under Prometheus' own rule engine: ``promtool check rules`` and ``promtool test rules``.

Each burn-rate alert must fire on a synthetic series that burns the budget faster than its factor
over both of its windows, and stay silent otherwise. The expected alerts are computed here from
the series (Prometheus' window: the samples in (t - w, t]), independently of the rule text.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from airflow_provider_parity.contracts.model import parse_duration
from airflow_provider_parity.slo.rules import render_rules

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(PROMTOOL is None, reason="promtool missing: scripts/setup.sh installs Debian's prometheus")

# promtool evaluates groups it is not told about in random order at each step; Prometheus itself runs
# them concurrently, each alert reading the latest recorded ratio. Recording first is that latest ratio.
GROUP_ORDER = ["parity-slo-recording", "parity-customer_features"]
HOURS = 15 * 24  # hourly samples over 15 days; every window (up to 14d) is full at the end
EVENTS_PER_HOUR = 100

# (name, [(hours, bad share of the events in each of those hours)]) for the freshness SLO (95%:
# thresholds 0.72 for 14.4x, 0.3 for 6x, 0.05 for 1x).
SCENARIOS = [
    ("burns at 16x", [(HOURS, 0.8)]),
    ("burns at 8x", [(HOURS, 0.4)]),
    ("burns at 2x", [(HOURS, 0.1)]),
    ("within budget", [(HOURS, 0.02)]),
    ("burned, then recovered", [(HOURS - 48, 0.8), (48, 0.0)]),
    ("a fresh burst", [(HOURS - 24, 0.0), (24, 0.9)]),
]


def _counters(pieces: list[tuple[int, float]]) -> tuple[list[int], list[int]]:
    bad, total = [0], [0]
    for hours, share in pieces:
        for _ in range(hours):
            bad.append(bad[-1] + round(share * EVENTS_PER_HOUR))
            total.append(total[-1] + EVENTS_PER_HOUR)
    return bad, total


def _series(values: list[int]) -> str:
    return " ".join(str(v) for v in values)


def _ratio(bad: list[int], total: list[int], window: str) -> float:
    hours = int(parse_duration(window).total_seconds() // 3600)
    first, last = len(total) - hours, len(total) - 1  # the samples inside (t - w, t]
    return (bad[last] - bad[first]) / (total[last] - total[first])


def _annotations(contract, labels: dict[str, str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The annotations of the generated alert with ``labels`` (promtool compares them too)."""
    rules = yaml.safe_load(render_rules([contract]))["groups"][1]["rules"]
    [rule] = [r for r in rules if r.get("alert") == "ParitySloBurnRate"
              and all(r["labels"].get(k, v) == v for k, v in labels.items())]
    return dict(rule["annotations"])


def _expected(contract, bad: list[int], total: list[int]) -> list[dict[str, dict[str, str]]]:  # type: ignore[no-untyped-def]
    objective = contract.slos.freshness
    fired = []
    for alert in contract.slos.alerts():
        threshold = alert.factor * objective.budget
        if _ratio(bad, total, alert.long) > threshold and _ratio(bad, total, alert.short) > threshold:
            labels = {"dataset": contract.name, "slo": "freshness", "severity": alert.severity,
                      "long_window": alert.long, "short_window": alert.short, "burn_rate": f"{alert.factor:g}x"}
            fired.append({"exp_labels": labels, "exp_annotations": _annotations(contract, labels)})
    return fired


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _burn_test(contract, pieces):  # type: ignore[no-untyped-def]
    bad, total = _counters(pieces)
    labels = f'{{dataset="{contract.name}",slo="freshness"}}'
    expected = _expected(contract, bad, total)
    return expected, {
        "interval": "1h",
        "input_series": [{"series": f"parity_slo_bad_events_total{labels}", "values": _series(bad)},
                         {"series": f"parity_slo_events_total{labels}", "values": _series(total)}],
        "alert_rule_test": [{"eval_time": f"{HOURS}h", "alertname": "ParitySloBurnRate", "exp_alerts": expected}],
    }


def test_rules_pass_promtool_check(tmp_path: Path, example_contract) -> None:
    (tmp_path / "rules.yaml").write_text(render_rules([example_contract]))
    result = _promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # 4 shared recordings, 3 objectives, 3 SLOs x 3 pairs, blocked, stale
    assert "SUCCESS: 18 rules found" in result.stdout


def test_burn_rate_alerts_fire_at_their_rate_and_only_then(tmp_path: Path, example_contract) -> None:
    (tmp_path / "rules.yaml").write_text(render_rules([example_contract]))
    tests, fired = [], {}
    for name, pieces in SCENARIOS:
        expected, test = _burn_test(example_contract, pieces)
        tests.append(test)
        fired[name] = sorted(e["exp_labels"]["burn_rate"] for e in expected)
    # The scenarios cover every pair firing and staying silent (the expectations are not vacuous).
    assert fired == {"burns at 16x": ["14.4x", "1x", "6x"], "burns at 8x": ["1x", "6x"], "burns at 2x": ["1x"],
                     "within budget": [], "burned, then recovered": ["1x"], "a fresh burst": ["1x"]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yaml"], "evaluation_interval": "1h", "group_eval_order": GROUP_ORDER, "tests": tests},
        sort_keys=False))
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_blocked_gate_and_stale_table_alerts(tmp_path: Path, example_contract) -> None:
    (tmp_path / "rules.yaml").write_text(render_rules([example_contract]))
    gate = {"dataset": "customer_features", "gate": "contract_gate", "kind": "contract"}
    gate_series = "parity_gate_blocking{" + ",".join(f'{k}="{v}"' for k, v in gate.items()) + "}"
    stale = {"dataset": "customer_features"}
    test = {
        "interval": "1h",
        "input_series": [{"series": gate_series, "values": "0 0 1 1"},
                         # the newest data is from the epoch: stale once time() passes the contract's 12h
                         {"series": 'parity_freshness_newest_timestamp_seconds{dataset="customer_features"}',
                          "values": "0x20"}],
        "alert_rule_test": [
            {"eval_time": "1h", "alertname": "ParityGateBlocked", "exp_alerts": []},
            {"eval_time": "2h", "alertname": "ParityGateBlocked",
             "exp_alerts": [{"exp_labels": {**gate, "severity": "page"}, "exp_annotations": {
                 "summary": "customer_features: gate contract_gate blocked the pipeline",
                 "description": "The latest outcome of contract_gate (contract) blocks; "
                                "'parity outcomes --gate contract_gate' shows the reason."}}]},
            {"eval_time": "11h", "alertname": "ParityFeatureTableStale", "exp_alerts": []},
            {"eval_time": "13h", "alertname": "ParityFeatureTableStale",
             "exp_alerts": [{"exp_labels": {**stale, "severity": "page"}, "exp_annotations": {
                 "summary": "customer_features: newest data older than 12h",
                 "description": "The newest data is 13h 0m 0s old; the contract allows 12h."}}]},
        ],
    }
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(
        {"rule_files": ["rules.yaml"], "evaluation_interval": "1h", "tests": [test]}, sort_keys=False))
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_parity_slo_rules_cli(tmp_path: Path, example_contract_path: Path, example_contract, capsys) -> None:  # type: ignore[no-untyped-def]
    from airflow_provider_parity.cli import main

    out = tmp_path / "rules.yaml"
    assert main(["slo", "rules", str(example_contract_path), "--out", str(out)]) == 0
    assert out.read_text() == render_rules([example_contract])
    broken = tmp_path / "broken.yaml"
    broken.write_text(example_contract_path.read_text().replace("objective: 0.95", "objective: 95", 1))
    target = tmp_path / "not-written.yaml"
    assert main(["slo", "rules", str(broken), "--out", str(target)]) == 2
    assert "slos.freshness.objective: an objective is a share" in capsys.readouterr().err
    assert not target.exists()  # bad input leaves no file behind
