"""Attainment, error budget and burn rates from a real (tmp) Delta ledger, and ``parity slo report``."""

from __future__ import annotations

import json

import pytest
from slo_ledger import NOW

from airflow_provider_parity.cli import main
from airflow_provider_parity.commands.slo import ledger_outcomes
from airflow_provider_parity.slo.attainment import measure


def _by_slo(statuses):  # type: ignore[no-untyped-def]
    return {s.slo: s for s in statuses}


def test_attainment_budget_and_burn_rates(daily_ledger, example_contract) -> None:
    ledger = daily_ledger(stale_days=(27,), incomplete_days=(3, 20))
    outcomes = ledger_outcomes(ledger, NOW.replace(year=2025))
    assert len(outcomes) == 56
    got = _by_slo(measure(example_contract, outcomes, now=NOW))
    fresh, complete, gates = got["freshness"], got["completeness"], got["gate_pass_rate"]
    # freshness: 95% over 28 daily runs; one stale day spends 1 of the 1.4 bad days allowed.
    assert (fresh.good, fresh.total) == (27, 28)
    assert fresh.budget_remaining == pytest.approx(1 - 1 / 1.4) and not fresh.exhausted
    # The stale day is the latest: 1 bad of 3 days is 6.7x the 5% budget; the 14.4x page stays silent,
    # the 1x ticket (14d and 3d) fires.
    burns = {(b.alert.long, b.alert.short): b for b in fresh.burn_rates}
    assert burns["3d", "1d"].long_rate == pytest.approx((1 / 3) / 0.05) and not burns["3d", "1d"].firing
    assert burns["14d", "3d"].firing and not burns["7d", "1d"].firing
    # completeness: the contract gate's completeness check only (not_null is no completeness event).
    assert (complete.good, complete.total) == (26, 28) and complete.exhausted  # 0.28 bad events allowed
    # gate pass rate: every outcome of the dataset, 3 blocked of 56.
    assert (gates.good, gates.total) == (53, 56) and gates.attainment == pytest.approx(53 / 56)
    # A shorter window measures fewer events; outcomes of another dataset are not counted.
    week = _by_slo(measure(example_contract, outcomes, now=NOW, window="7d"))
    assert week["freshness"].total == 7
    other = [o.with_(contract="orders@1.0.0#x") for o in outcomes]
    assert _by_slo(measure(example_contract, other, now=NOW))["freshness"].total == 0


def test_report_exit_codes_and_json(daily_ledger, example_contract_path, capsys) -> None:
    ledger = daily_ledger(stale_days=(27,))
    args = ["slo", "report", "--contract", str(example_contract_path), "--ledger", ledger, "--at", NOW.isoformat()]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "freshness" in out and "96.43% (27/28)" in out and "ticket 1x 14d/3d" in out and "FIRING" in out
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["slo"] for d in data} == {"freshness", "completeness", "gate_pass_rate"}
    # Over the last 3 days one stale day of three exhausts the 5% budget: exit 1, named on stderr.
    assert main([*args, "--window", "3d"]) == 1
    assert "error budget exhausted: customer_features freshness" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (["--window", "a month"], "--window: invalid duration"),
    (["--at", "yesterday"], "--at 'yesterday'"),
])
def test_report_bad_input_exits_2(example_contract_path, capsys, extra, message) -> None:
    # Checked before the ledger is read.
    assert main(["slo", "report", "--contract", str(example_contract_path), "--ledger", "/nonexistent", *extra]) == 2
    assert message in capsys.readouterr().err


def test_report_needs_contracts_with_slos(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("AIRFLOW__PARITY__CONTRACTS_DIR", raising=False)
    assert main(["slo", "report", "--ledger", str(tmp_path)]) == 2
    assert "no contract: pass --contract" in capsys.readouterr().err
    plain = tmp_path / "plain.yaml"
    plain.write_text("dataset: {name: orders, owner: team, version: 1.0.0}\ncolumns: [{name: id, type: integer}]\n")
    assert main(["slo", "report", "--contract", str(plain), "--ledger", str(tmp_path)]) == 2
    assert "declares no SLOs" in capsys.readouterr().err


def test_report_defaults_to_the_bundles_contracts(daily_ledger, example_contract_path, tmp_path, capsys,
                                                  monkeypatch) -> None:
    folder = tmp_path / "contracts"
    folder.mkdir()
    (folder / "customer_features.yaml").write_text(example_contract_path.read_text())
    (folder / "plain.yaml").write_text("dataset: {name: orders, owner: team, version: 1.0.0}\n"
                                       "columns: [{name: id, type: integer}]\n")
    monkeypatch.setenv("AIRFLOW__PARITY__CONTRACTS_DIR", str(folder))
    assert main(["slo", "report", "--ledger", daily_ledger(), "--at", NOW.isoformat()]) == 0
    out = capsys.readouterr().out
    assert out.startswith("customer_features@") and "orders@" not in out
