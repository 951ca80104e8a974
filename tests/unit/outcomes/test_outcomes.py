"""The gate outcome, its ledger and ``parity outcomes``: one value, durable, readable with one call."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from airflow_provider_parity.outcomes.ledger import append_outcome, read_outcomes
from airflow_provider_parity.outcomes.model import Check, GateOutcome, RunIdentity, coerce_outcomes


def _outcome(task: str = "contract_gate", status: str = "failed", blocking: bool = True, **extra) -> GateOutcome:  # type: ignore[no-untyped-def]
    return GateOutcome(gate="contract", status=status, blocking=blocking,  # type: ignore[arg-type]
                       reason=f"{task}: between(orders_30d): observed 5 offending values, expected [0, 1000]",
                       dataset="/lake/features/customer_features", version=3, contract="cf@1.0.0#abc",
                       checks=(Check("between(orders_30d)", False, "orders_30d", "5 offending values", "[0, 1000]"),
                               Check("not_null(customer_id)", True, "customer_id", "0 nulls", "no nulls")),
                       metrics={"rows": 500, "nan": float("nan")},
                       run=RunIdentity("feature_pipeline", "manual__2026-11-29", task), **extra)


def test_the_outcome_derives_exit_code_tags_and_lineage_assertions() -> None:
    failed = _outcome()
    assert (failed.exit_code, failed.passed) == (1, False)
    assert _outcome(status="error").exit_code == 2
    assert _outcome(status="no_baseline", blocking=False).exit_code == 0
    assert failed.metrics["nan"] is None  # strict JSON: non-finite metrics become null
    tags = failed.mlflow_tags()
    assert tags["parity.gate.contract_gate.status"] == "failed" and tags["parity.gate.contract_gate.blocking"] == "true"
    [bad] = [a for a in failed.lineage_assertions() if not a["success"]]
    assert (bad["column"], bad["actual"], bad["expected"]) == ("orders_30d", "5 offending values", "[0, 1000]")
    with pytest.raises(ValueError, match="unknown outcome status"):
        GateOutcome(gate="x", status="maybe", blocking=False, reason="")  # type: ignore[arg-type]


def test_round_trip_and_what_a_task_may_receive() -> None:
    outcome = _outcome()
    data = outcome.to_dict()
    assert GateOutcome.from_dict(json.loads(json.dumps(data))) == outcome
    assert coerce_outcomes(json.dumps([data, None])) == [outcome]
    assert coerce_outcomes(repr(data)) == [outcome]  # Jinja without native rendering
    assert coerce_outcomes({"contract": data}) == [outcome]
    assert coerce_outcomes(None) == [] and coerce_outcomes("None") == []
    with pytest.raises(ValueError, match="not gate outcomes"):
        coerce_outcomes("/tmp/report.json")


def test_reasons_are_one_capped_line() -> None:
    outcome = GateOutcome(gate="contract", status="failed", blocking=True, reason="x\n" + "y" * 10_000_000)
    assert "\n" not in outcome.reason and len(outcome.reason) <= 2000


def test_the_ledger_appends_once_per_task_try_and_filters(tmp_path) -> None:
    ledger = str(tmp_path / "ledger")
    first = _outcome(finished_at="2026-11-29T23:00:00+00:00")
    assert append_outcome(ledger, first) is True
    assert append_outcome(ledger, first) is False  # a retried append of the same try writes nothing
    retry = _outcome(status="passed", blocking=False, finished_at="2026-11-30T01:00:00+00:00").with_(
        run=RunIdentity("feature_pipeline", "manual__2026-11-29", "contract_gate", try_number=2))
    drift = GateOutcome(gate="drift", status="passed", blocking=False, reason="no drift", dataset="/lake/serving/log",
                        run=RunIdentity("serving_skew_monitor", "r1", "serving_skew"),
                        finished_at="2026-11-30T02:00:00+00:00")
    append_outcome(ledger, retry)
    append_outcome(ledger, drift)
    every = read_outcomes(ledger)
    assert [o.status for o in every] == ["failed", "passed", "passed"]  # oldest first
    assert every[0] == first
    assert [o.gate for o in read_outcomes(ledger, gate="drift")] == ["drift"]
    assert [o.gate for o in read_outcomes(ledger, gate="serving_skew")] == ["drift"]
    assert len(read_outcomes(ledger, dataset="customer_features")) == 2
    assert len(read_outcomes(ledger, since=datetime(2026, 11, 30, tzinfo=UTC))) == 2
    assert read_outcomes(str(tmp_path / "nothing")) == []


def test_concurrent_appends_all_land(tmp_path) -> None:
    ledger = str(tmp_path / "ledger")
    append_outcome(ledger, _outcome("seed"))
    errors: list[BaseException] = []

    def append(i: int) -> None:
        try:
            append_outcome(ledger, _outcome(f"task_{i}", finished_at=(datetime.now(UTC) + timedelta(seconds=i)).isoformat()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(read_outcomes(ledger)) == 7


def test_parity_outcomes_cli_lists_and_filters(tmp_path) -> None:
    ledger = str(tmp_path / "ledger")
    append_outcome(ledger, _outcome())
    append_outcome(ledger, _outcome("other_gate", status="passed", blocking=False))
    run = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "outcomes", "--ledger", ledger,
                          "--gate", "other_gate", "--json"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    [listed] = json.loads(run.stdout)
    assert listed["status"] == "passed" and listed["run"]["task_id"] == "other_gate"
    text = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "outcomes", "--ledger", ledger,
                           "--since", "1d"], capture_output=True, text=True, timeout=120)
    assert text.returncode == 0 and "feature_pipeline/contract_gate" in text.stdout
    bad = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "outcomes", "--ledger", ledger,
                          "--since", "yesterday"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("parity: error: --since")
    # A mistyped ledger is an absent one: no outcomes, and the answer names the ledger it read.
    typo = str(tmp_path / "ledgr")
    absent = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "outcomes", "--ledger", typo],
                            capture_output=True, text=True, timeout=120)
    assert (absent.returncode, absent.stdout.strip()) == (0, f"no outcomes in the ledger at {typo}"), absent.stderr
