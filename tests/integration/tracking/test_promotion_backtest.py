"""Backtest before promotion, with real models: the challenger must win or tie on enough recent days.

Real scikit-learn models logged and registered in a local MLflow store, trained on a Delta table of
five days; the promotion gate scores champion and challenger on each day of the challenger's pinned
data and reports every day in its checks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import fake_context
from live_servers import Store

from airflow_provider_parity.compat import AirflowFailException
from airflow_provider_parity.operators.mlflow import MlflowPromotionGateOperator, MlflowRegisterModelOperator
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of

pytestmark = pytest.mark.integration
DAYS = ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"]
BACKTEST = {"time_column": "day", "label": "y", "slices": 3, "min_win_share": 0.6, "tolerance": 0.01}
POLICY = {"require_passed_gates": False, "metrics": [{"metric": "auc", "slices": ["overall"], "min": 0.0}],
          "backtest": BACKTEST}


def _table(path: Path) -> str:
    import numpy as np
    import pandas as pd
    from deltalake import write_deltalake

    rng = np.random.default_rng(3)
    n = 200 * len(DAYS)
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "day": np.repeat(DAYS, n // len(DAYS))})
    frame["y"] = (frame.x1 + 0.5 * rng.normal(size=n) > 0).astype("int64")
    write_deltalake(str(path), frame)
    return str(path)


def _train(store: Store, table: str, *, shuffled: bool) -> str:
    """A logistic regression on (x1, x2); ``shuffled`` learns from permuted labels (a bad challenger)."""
    import mlflow
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from airflow_provider_parity.delta import read_pandas, resolve_snapshot
    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.tracking.client import ensure_experiment
    from airflow_provider_parity.tracking.record import record_training

    snapshot = resolve_snapshot(table)
    frame = read_pandas(table, snapshot.version)
    labels = np.random.default_rng(1).permutation(frame.y.to_numpy()) if shuffled else frame.y
    with MlflowHook(store.conn_id).environment():
        client = store.client()
        with mlflow.start_run(experiment_id=ensure_experiment(client, "backtest", store.tracking_uri)) as run:
            model = LogisticRegression().fit(frame[["x1", "x2"]], labels)
            mlflow.sklearn.log_model(model, name="model", serialization_format="cloudpickle",
                                     pip_requirements=["scikit-learn"])
            record_training(inputs=[snapshot], gates={}, airflow_context={"ti": None}, client=client)
            mlflow.log_metric("auc.overall", 0.5)
    return str(run.info.run_id)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("backtest")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    os.environ["AIRFLOW_CONN_PARITY_MLFLOW_BACKTEST"] = json.dumps({"conn_type": "mlflow",
                                                                   "extra": {"tracking_uri": uri}})
    found = Store(kind="local", tracking_uri=uri, conn_id="parity_mlflow_backtest")
    table = _table(root / "features")
    # "twin" is the same model trained again (a separate run, so a separate version).
    found.runs = {"good": _train(found, table, shuffled=False), "bad": _train(found, table, shuffled=True),
                  "twin": _train(found, table, shuffled=False)}
    try:
        yield found
    finally:
        os.environ.pop("AIRFLOW_CONN_PARITY_MLFLOW_BACKTEST", None)


@pytest.fixture(autouse=True)
def _ledger_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", str(tmp_path / "ledger"))
    monkeypatch.setenv("AIRFLOW__PARITY__REPORT_DIR", str(tmp_path / "reports"))


def _promote(store: Store, name: str, role: str) -> Any:
    version = MlflowRegisterModelOperator(task_id="register", model_name=name, run_id=store.runs[role],
                                          mlflow_conn_id=store.conn_id).execute(fake_context())["version"]
    context = fake_context("promote")
    op = MlflowPromotionGateOperator(task_id="promote", model_name=name, policy=POLICY, challenger_version=version,
                                     mlflow_conn_id=store.conn_id)
    try:
        op.execute(context)
    except AirflowFailException:
        pass
    return context["ti"].pushed["parity_outcome"]  # type: ignore[attr-defined]


def test_a_challenger_that_loses_the_recent_days_is_not_promoted(store: Store) -> None:
    name = store.model_name("backtest-loses")
    assert not _promote(store, name, "good")["blocking"]  # first champion: nothing to backtest against
    outcome = _promote(store, name, "bad")
    assert outcome["blocking"]
    days = [c for c in outcome["checks"] if c["name"].startswith("backtest(day=")]
    assert [c["name"] for c in days] == [f"backtest(day={d})" for d in DAYS[-3:]]
    assert all("(loss)" in c["observed"] for c in days)
    assert "backtest: challenger won or tied 0 of 3 slices (0%) of day, minimum 60%" in outcome["reason"]
    assert aliases_of(store.client(), name)[keys.CHAMPION] == "1"
    # The comparison report on the challenger's run has a row per day with both scores.
    client = store.client()
    run_id = client.get_model_version(name, "2").run_id
    report = json.loads((Path(client.download_artifacts(run_id, keys.COMPARISON_JSON))).read_text())
    rows = [r for r in report["rows"] if r["metric"] == "backtest auc"]
    assert [r["slice"] for r in rows] == [f"day={d}" for d in DAYS[-3:]]
    assert all(r["passed"] is False and r["champion"] > r["challenger"] + 0.2 for r in rows)


def test_an_equal_challenger_ties_every_day_and_is_promoted(store: Store) -> None:
    name = store.model_name("backtest-ties")
    _promote(store, name, "good")
    outcome = _promote(store, name, "twin")
    assert not outcome["blocking"], outcome["reason"]
    [share] = [c for c in outcome["checks"] if c["name"] == "backtest(win_share)"]
    assert share["success"] and share["observed"] == "1"
    assert sum(c["name"].startswith("backtest(day=") for c in outcome["checks"]) == 3
    assert aliases_of(store.client(), name)[keys.CHAMPION] == "2"


def test_the_promoted_version_gets_a_canary_manifest(store: Store, tmp_path: Path) -> None:
    """The KServe canary of the champion serves its MLflow artifacts with the share asked for."""
    import yaml

    from airflow_provider_parity.operators.canary import CanaryManifestOperator

    name = store.model_name("canary")
    _promote(store, name, "good")
    op = CanaryManifestOperator(task_id="canary", model_name=name, mlflow_conn_id=store.conn_id, kind="kserve",
                                percent="10", name="churn", namespace="models")
    context = fake_context("canary")
    result = op.execute(context)
    manifest = yaml.safe_load(Path(result["uri"]).read_text())
    assert context["ti"].pushed["canary_manifest"] == result["uri"]  # type: ignore[attr-defined]
    assert result["version"] == "1" and manifest["metadata"] == {
        "name": "churn", "namespace": "models",
        "labels": {"app.kubernetes.io/managed-by": "airflow-provider-parity", "parity.model-version": "1"}}
    predictor = manifest["spec"]["predictor"]
    assert predictor["canaryTrafficPercent"] == 10
    assert predictor["model"]["storageUri"] == store.client().get_model_version(name, "1").source
    with pytest.raises(AirflowFailException, match="not a valid Kubernetes name"):
        CanaryManifestOperator(task_id="canary", model_name=name, mlflow_conn_id=store.conn_id, kind="kserve",
                               percent=10, name="Churn_Model").execute(fake_context("canary"))
