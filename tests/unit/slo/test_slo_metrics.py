"""The ledger as Prometheus metrics: values from a real ledger, names and labels stable, text that promtool accepts."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from slo_ledger import NOW, day_outcomes

from airflow_provider_parity.outcomes.ledger import append_outcome, read_table
from airflow_provider_parity.outcomes.model import Check, GateOutcome
from airflow_provider_parity.slo.metrics import render, render_ledger, render_outcomes


def _samples(text: str) -> dict[str, float]:
    return {line.rpartition(" ")[0]: float(line.rpartition(" ")[2]) for line in text.splitlines()
            if line and not line.startswith("#")}


def test_render_counts_the_ledger(daily_ledger) -> None:
    ledger = daily_ledger(stale_days=(27,), incomplete_days=(3,))
    got = _samples(render(read_table(ledger)))
    cf = 'dataset="customer_features"'
    assert got[f'parity_slo_events_total{{{cf},slo="freshness"}}'] == 28
    assert got[f'parity_slo_bad_events_total{{{cf},slo="freshness"}}'] == 1
    assert got[f'parity_slo_bad_events_total{{{cf},slo="gate_pass_rate"}}'] == 2
    assert got[f'parity_gate_outcomes_total{{{cf},contract_version="1.0.0",gate="contract_gate",kind="contract",'
               f'status="failed"}}'] == 1
    # The latest freshness judgement (day 27) was stale: it blocks, and its data's age and time are exposed.
    assert got[f'parity_gate_blocking{{{cf},gate="features_fresh",kind="freshness"}}'] == 1
    assert got[f'parity_gate_blocking{{{cf},gate="contract_gate",kind="contract"}}'] == 0
    assert got[f"parity_freshness_age_seconds{{{cf}}}"] == 50_000
    judged = NOW.timestamp() - 3600
    assert got[f"parity_freshness_newest_timestamp_seconds{{{cf}}}"] == judged - 50_000
    assert got[f"parity_freshness_max_age_seconds{{{cf}}}"] == 43_200
    # No label grows with the data: no URI, run id, version or reason reaches a label.
    text = render(read_table(ledger))
    assert "s3://" not in text and "scheduled__" not in text and "reason" not in text
    assert render(None) == ""


def test_render_ledger_rereads_only_a_changed_ledger(daily_ledger, tmp_path, example_contract) -> None:  # type: ignore[no-untyped-def]
    assert render_ledger(str(tmp_path / "nothing")) == ""
    ledger = daily_ledger()
    first = render_ledger(ledger)
    assert first == render(read_table(ledger)) and render_ledger(ledger) is first  # unchanged: the cached text
    [late, _] = day_outcomes(example_contract.ref, 28, fresh=False)
    append_outcome(ledger, late)
    after = _samples(render_ledger(ledger))
    assert after['parity_slo_bad_events_total{dataset="customer_features",slo="freshness"}'] == 1


def test_drift_and_champion_gauges_and_escaping() -> None:
    drift = GateOutcome(
        gate="skew", name="serving_skew", status="failed", blocking=True, reason="drift",
        contract="customer_features@1.1.0#abc", finished_at="2026-11-30T10:00:00+00:00",
        metrics={"max_score": 0.31, "rows_current": 900},
        checks=(Check("drift(tenure_days)", False, "tenure_days", "psi=0.31", "psi within 0.2"),
                Check("drift(plan)", True, "plan", "jensen_shannon=0.01", "within 0.1"),
                Check("row_count_change", True)))
    promotion = GateOutcome(gate="promotion", status="passed", blocking=False, reason="ok", dataset='churn "model"',
                            version=7, finished_at="2026-11-30T11:00:00+00:00")
    got = _samples(render_outcomes([drift, promotion]))
    skew = 'dataset="customer_features",gate="serving_skew"'
    assert got[f"parity_drift_score_max{{{skew}}}"] == pytest.approx(0.31)
    assert got[f'parity_drift_feature_failed{{{skew},feature="tenure_days"}}'] == 1
    assert got[f'parity_drift_feature_failed{{{skew},feature="plan"}}'] == 0
    assert got[f"parity_rows{{{skew}}}"] == 900
    assert got['parity_champion_version{model="churn \\"model\\""}'] == 7


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool missing: scripts/setup.sh installs it")
def test_promtool_accepts_the_exposition(daily_ledger) -> None:
    text = render(read_table(daily_ledger(stale_days=(27,))))
    result = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    # check metrics exits 0 and prints nothing when the text parses and follows the naming conventions.
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_parity_slo_metrics_cli(daily_ledger, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from airflow_provider_parity.cli import main

    ledger = daily_ledger()
    assert main(["slo", "metrics", "--ledger", ledger]) == 0
    assert capsys.readouterr().out == render(read_table(ledger))
    monkeypatch.delenv("AIRFLOW__PARITY__LEDGER_URI", raising=False)
    monkeypatch.delenv("AIRFLOW__PARITY__LAKE_URI", raising=False)
    assert main(["slo", "metrics"]) == 2
    assert "no ledger" in capsys.readouterr().err


def test_a_real_drift_outcome_gives_each_checks_score_and_which_fired(example_contract) -> None:  # type: ignore[no-untyped-def]
    """From run_drift itself: its checks are named psi(x), ks(x), ... (not drift(x)); every feature's
    checks become scores with the check as a label, and the fired one is flagged."""
    import pyarrow.compute as pc

    from airflow_provider_parity.drift.gate import run_drift
    from airflow_provider_parity.examples import customer_features
    from airflow_provider_parity.outcomes.convert import from_drift

    reference = customer_features(3000, seed=1)
    current = customer_features(3000, seed=2)
    current = current.set_column(current.schema.get_field_index("orders_30d"), "orders_30d",
                                 pc.add(current["orders_30d"], 10))
    result, _ = run_drift(reference, current, contract=example_contract)
    outcome = from_drift(result, name="drift_gate", dataset="customer_features")
    got = _samples(render_outcomes([outcome]))
    base = f'dataset="customer_features",contract_version="{example_contract.dataset.version}",gate="drift_gate"'
    scores = {k: v for k, v in got.items() if k.startswith("parity_drift_score{")}
    fired = {k.replace("parity_drift_check_fired", "parity_drift_score"): v for k, v in got.items()
             if k.startswith("parity_drift_check_fired{")}
    assert scores and fired.keys() == scores.keys()
    features = {k.split('feature="')[1].split('"')[0] for k in scores}
    assert features == {"tenure_days", "orders_30d", "avg_ticket_30d", "plan"}
    assert all(k.startswith(f"parity_drift_score{{{base},feature=") for k in scores)
    assert {k.split('check="')[1].split('"')[0] for k, v in fired.items() if v == 1 and 'feature="orders_30d"' in k}
    assert not any(v for k, v in fired.items() if 'feature="orders_30d"' not in k)
    assert got['parity_drift_feature_failed{dataset="customer_features",gate="drift_gate",feature="orders_30d"}'] == 1
    assert got['parity_drift_feature_failed{dataset="customer_features",gate="drift_gate",feature="plan"}'] == 0
