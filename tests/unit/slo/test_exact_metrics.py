"""Exact gauges from real gate runs: null ratio per critical column, per-entity skew rate per feature,
the champion's metrics per slice; each check's numeric ``value`` kept by XCom's JSON and the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from deltalake import write_deltalake

from airflow_provider_parity.delta.freshness import check_completeness
from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.operators.mlflow import promotion_outcome
from airflow_provider_parity.outcomes.convert import from_completeness, from_skew, from_validation
from airflow_provider_parity.outcomes.ledger import append_outcome, read_outcomes, read_table
from airflow_provider_parity.outcomes.model import Check, GateOutcome
from airflow_provider_parity.skew.gate import run_skew
from airflow_provider_parity.slo.metrics import render
from airflow_provider_parity.tracking.client import VersionInfo
from airflow_provider_parity.tracking.promotion import PromotionPolicy, evaluate
from airflow_provider_parity.validation.validate import validate_table

DAY = datetime(2026, 11, 20, 20, tzinfo=UTC)
ROWS = 500
SKEWED = 7  # customers whose served avg_ticket_30d differs from the offline one


def _samples(text: str) -> dict[str, float]:
    return {line.rpartition(" ")[0]: float(line.rpartition(" ")[2]) for line in text.splitlines()
            if line and not line.startswith("#")}


@pytest.fixture(scope="module")
def gate_ledger(tmp_path_factory: pytest.TempPathFactory, example_contract) -> tuple[str, pa.Table]:  # type: ignore[no-untyped-def]
    """One run of the contract, completeness, feature-skew and promotion gates, each outcome appended to a ledger."""
    root: Path = tmp_path_factory.mktemp("exact")
    table = customer_features(ROWS, seed=3, fault="nulls", now=DAY)
    features = str(root / "customer_features")
    write_deltalake(features, table)
    ledger = str(root / "ledger")
    contract = from_validation(validate_table(example_contract, table, source=features))
    completeness = from_completeness(check_completeness(features, dict(example_contract.completeness)),
                                     contract=example_contract.ref)
    # Serving logged every customer the next morning; SKEWED of them with a different avg_ticket_30d.
    log = table.drop_columns(["churned"])
    ticket = log["avg_ticket_30d"].to_numpy(zero_copy_only=False).copy()
    changed = np.flatnonzero(~np.isnan(ticket))[:SKEWED]
    ticket[changed] += 1.0
    log = log.set_column(log.schema.get_field_index("avg_ticket_30d"), "avg_ticket_30d",
                         pa.array(ticket, pa.float64(), mask=np.isnan(ticket)))
    log = log.append_column("request_id", pa.array([f"R{i}" for i in range(ROWS)], pa.string()))
    log = log.append_column("served_at", pa.array([DAY + timedelta(hours=10)] * ROWS, pa.timestamp("us", tz="UTC")))
    serving = str(root / "feature_log")
    write_deltalake(serving, log)
    skew = from_skew(run_skew(serving, features, contract=example_contract))
    policy = PromotionPolicy.from_dict({"metrics": [{"metric": "auc", "slices": ["overall", "country=FR"], "min": 0.7}]})
    challenger = VersionInfo(name="churn", version="4", run_id="r4", source="s",
                             tags={"parity.gate.contract.status": "passed"},
                             metrics={"auc.overall": 0.8731, "auc.country_FR": 0.8412})
    decision = evaluate(policy, challenger, None, now=DAY)
    promotion = promotion_outcome(decision, decision.reason, "mlflow://models/churn")
    for outcome in (contract, completeness, skew, promotion):
        append_outcome(ledger, outcome.with_(finished_at=DAY.isoformat()))
    return ledger, table


def test_null_ratio_and_skew_rate_are_exact(gate_ledger) -> None:  # type: ignore[no-untyped-def]
    ledger, table = gate_ledger
    got = _samples(render(read_table(ledger)))
    base = 'dataset="customer_features",contract_version="1.0.0"'
    nulls = {c: table[c].null_count / ROWS for c in ("tenure_days", "avg_ticket_30d", "customer_id")}
    assert nulls["tenure_days"] > 0  # the injected fault
    assert got[f'parity_null_ratio{{{base},gate="contract",column="tenure_days"}}'] == nulls["tenure_days"]
    assert got[f'parity_null_ratio{{{base},gate="contract",column="customer_id"}}'] == 0
    # The completeness gate measures the non-null ratio; the gauge is its complement, the same exact null ratio.
    assert got[f'parity_null_ratio{{{base},gate="completeness",column="avg_ticket_30d"}}'] == pytest.approx(
        nulls["avg_ticket_30d"], abs=1e-12)
    assert got[f'parity_null_ratio{{{base},gate="contract",column="avg_ticket_30d"}}'] == nulls["avg_ticket_30d"]
    # Only critical columns (not_null / completeness rules): a range rule is not a null ratio.
    assert not any("between" in k for k in got)
    assert got[f'parity_feature_skew_rate{{{base},gate="feature_skew",feature="avg_ticket_30d"}}'] == SKEWED / ROWS
    assert got[f'parity_feature_skew_rate{{{base},gate="feature_skew",feature="tenure_days"}}'] == 0
    assert got['parity_model_metric{metric="auc",model="churn",slice="overall"}'] == 0.8731
    assert got['parity_model_metric{metric="auc",model="churn",slice="country=FR"}'] == 0.8412


def test_a_newer_outcome_replaces_the_old_series(gate_ledger, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    ledger = str(tmp_path / "ledger")
    shutil.copytree(gate_ledger[0], ledger)
    [contract] = read_outcomes(ledger, gate="contract")
    bumped = contract.with_(contract=contract.contract.replace("@1.0.0", "@1.1.0"),  # type: ignore[union-attr]
                            checks=(Check("not_null(tenure_days)", True, "tenure_days", "0 nulls", "no nulls",
                                          value=0.0),),
                            finished_at=(datetime.now(UTC)).isoformat(), run=None, reason="newer")
    append_outcome(ledger, bumped)
    text = render(read_table(ledger))
    got = _samples(text)
    assert got['parity_null_ratio{dataset="customer_features",contract_version="1.1.0",gate="contract",'
               'column="tenure_days"}'] == 0
    # The old version's gauge series is gone (the counters keep counting its outcomes, as they should).
    assert not [k for k in got if k.startswith("parity_null_ratio") and 'contract_version="1.0.0",gate="contract"' in k]


def test_value_survives_xcom_json_and_the_ledger_and_old_rows_still_read(gate_ledger) -> None:  # type: ignore[no-untyped-def]
    ledger, table = gate_ledger
    [contract] = read_outcomes(ledger, gate="contract")
    tenure = next(c for c in contract.checks if c.name == "not_null(tenure_days)")
    assert tenure.value == table["tenure_days"].null_count / ROWS
    assert GateOutcome.from_dict(json.loads(json.dumps(contract.to_dict()))) == contract  # XCom's JSON round trip
    old = contract.to_dict()
    for check in old["checks"]:
        del check["value"]  # as written before the field existed
    assert all(c.value is None for c in GateOutcome.from_dict(old).checks)
    assert render(None) == "" and _samples(render(read_table(ledger)))  # still renders
    # Not a measurement: NaN, infinities, booleans and text become None.
    assert [Check("x", True, value=v).value for v in (float("nan"), float("inf"), True)] == [None, None, None]
    assert Check.from_dict({"name": "x", "success": True, "value": "0.5"}).value is None
