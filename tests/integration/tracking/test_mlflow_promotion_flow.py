"""Register, gate, promote and roll back against a real MLflow server and the local store."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fakes import fake_context

from airflow_provider_parity.compat import AirflowFailException, AirflowSkipException
from airflow_provider_parity.exceptions import PromotionBlocked, ServiceUnavailable
from airflow_provider_parity.operators.mlflow import (
    MlflowPromotionGateOperator,
    MlflowRegisterModelOperator,
    MlflowRollbackOperator,
)
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of
from airflow_provider_parity.tracking.history import read_history
from airflow_provider_parity.tracking.promotion import promote
from airflow_provider_parity.tracking.registry import register_model

Store = Any  # tests/integration/tracking/conftest.py: Store
POLICY = {"metrics": [{"metric": "auc", "slices": ["overall", "country=FR"], "min": 0.6, "max_drop": 0.005}]}

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _ledger_in_tmp(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", str(tmp_path / "ledger"))
    monkeypatch.setenv("AIRFLOW__PARITY__REPORT_DIR", str(tmp_path / "reports"))


def _register(store: Store, name: str, role: str) -> str:
    op = MlflowRegisterModelOperator(task_id="register", model_name=name, run_id=store.runs[role],
                                     mlflow_conn_id=store.conn_id)
    return str(op.execute(fake_context())["version"])


def _gate(store: Store, name: str, **kwargs: Any) -> MlflowPromotionGateOperator:
    return MlflowPromotionGateOperator(task_id="promote", model_name=name, policy=kwargs.pop("policy", POLICY),
                                       mlflow_conn_id=store.conn_id, **kwargs)


def _with_champion(store: Store, label: str) -> str:
    """A fresh model whose v1 (run ``base``) is champion."""
    name = store.model_name(label)
    _register(store, name, "base")
    _gate(store, name).execute(fake_context())
    assert aliases_of(store.client(), name)[keys.CHAMPION] == "1"
    return name


def test_register_copies_the_training_record(trained: Store) -> None:
    name = trained.model_name("register")
    version = _register(trained, name, "base")
    client = trained.client()
    mv = client.get_model_version(name, version)
    data = json.loads(mv.tags[keys.DATA])
    assert [(d["version"], len(d["fingerprint"])) for d in data] == [(0, 64)]
    assert mv.tags[keys.CONTRACT_NAME] == "customer_features"
    assert len(mv.tags[keys.CONTRACT_HASH]) == 64
    assert mv.tags[keys.GATES_STATUS] == "passed"
    assert mv.tags[keys.SOURCE_RUN] == trained.runs["base"]
    assert aliases_of(client, name) == {keys.CHALLENGER: version}
    # The pinned input is an MLflow dataset input with the table, version and fingerprint.
    inputs = client.get_run(trained.runs["base"]).inputs.dataset_inputs
    source = json.loads(inputs[0].dataset.source)
    assert (source["path"], source["delta_table_version"], source["fingerprint"]) == (
        data[0]["uri"], 0, data[0]["fingerprint"])
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"
    # Retrying the registration reuses the version instead of creating a twin.
    assert _register(trained, name, "base") == version
    assert len(client.search_model_versions(f"name = '{name}'")) == 1


def test_promotion_passes_and_logs_the_comparison(trained: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    name = _with_champion(trained, "passes")
    challenger = _register(trained, name, "better")
    result = _gate(trained, name).execute(fake_context())
    client = trained.client()
    assert result["metrics"]["promoted"] is True and result["metrics"]["previous_champion"] == "1"
    assert aliases_of(client, name)[keys.CHAMPION] == challenger
    assert client.get_model_version(name, challenger).tags[keys.PROMOTION_STATUS] == "passed"
    history = read_history(client, name)
    assert [(e.action, e.version, e.replaced) for e in history] == [("promote", "1", None), ("promote", "2", "1")]
    report_path = client.download_artifacts(trained.runs["better"], keys.COMPARISON_JSON, str(tmp_path))
    report = json.loads(Path(report_path).read_text())
    rows = {(r["slice"], r["metric"]): r for r in report["rows"]}
    assert rows[("country=FR", "auc")]["champion"] == pytest.approx(0.78)
    assert rows[("country=FR", "auc")]["challenger"] == pytest.approx(0.79)
    html = Path(client.download_artifacts(trained.runs["better"], keys.COMPARISON_HTML, str(tmp_path))).read_text()
    assert "country=FR" in html and "<script" not in html
    # A retry after the switch is a no-op.
    assert _gate(trained, name).execute(fake_context())["metrics"]["promoted"] is False


def test_promotion_blocked_by_a_slice_metric(trained: Store) -> None:
    name = _with_champion(trained, "metric")
    challenger = _register(trained, name, "worse_fr")
    with pytest.raises(AirflowFailException) as failure:
        _gate(trained, name).execute(fake_context())
    message = str(failure.value)
    assert "auc on slice 'country=FR'" in message and "0.7 vs champion 0.78 - 0.005" in message
    assert "\n" not in message
    client = trained.client()
    assert aliases_of(client, name)[keys.CHAMPION] == "1"
    tags = client.get_model_version(name, challenger).tags
    assert tags[keys.PROMOTION_STATUS] == "blocked"
    assert "country=FR" in tags[keys.PROMOTION_REASON]


def test_promotion_blocked_by_a_failed_data_gate_can_short_circuit(trained: Store) -> None:
    name = _with_champion(trained, "gate")
    challenger = _register(trained, name, "failed_gate")
    with pytest.raises(AirflowSkipException, match="gate 'drift' on the challenger's data: failed"):
        _gate(trained, name, on_blocked="skip").execute(fake_context())
    client = trained.client()
    assert aliases_of(client, name)[keys.CHAMPION] == "1"
    assert client.get_model_version(name, challenger).tags[keys.PROMOTION_STATUS] == "blocked"


def test_rollback_returns_to_the_previous_champion(trained: Store) -> None:
    name = _with_champion(trained, "rollback")
    _register(trained, name, "better")
    _gate(trained, name).execute(fake_context())
    op = MlflowRollbackOperator(task_id="rollback", model_name=name, reason="conversion dropped 4% in canary",
                                mlflow_conn_id=trained.conn_id)
    result = op.execute(fake_context())
    client = trained.client()
    assert (result["from_version"], result["to_version"]) == ("2", "1")
    assert aliases_of(client, name)[keys.CHAMPION] == "1"
    assert client.get_model_version(name, "2").tags[keys.ROLLBACK_REASON] == "conversion dropped 4% in canary"
    assert [(e.action, e.version) for e in read_history(client, name)][-1] == ("rollback", "1")
    # A retry of the same task instance does not roll back twice.
    assert op.execute(fake_context())["to_version"] == "1"
    # Nothing before v1: a further rollback (another run) is a clear error, the champion stays.
    with pytest.raises(AirflowFailException, match="no earlier champion"):
        op.execute(fake_context(run_id="manual__2"))
    assert aliases_of(client, name)[keys.CHAMPION] == "1"


def test_crash_between_register_and_promote_leaves_the_champion(trained: Store) -> None:
    name = _with_champion(trained, "crash")
    challenger = _register(trained, name, "better")
    client = trained.client()

    def crash(decision: Any) -> None:
        raise RuntimeError("worker lost before the alias switch")

    with pytest.raises(RuntimeError, match="worker lost"):
        promote(client, name, POLICY, before_switch=crash, request_id="dag/run/promote")
    assert aliases_of(client, name) == {keys.CHAMPION: "1", keys.CHALLENGER: challenger}
    # The retry (same request) promotes, and the history holds one entry for it, not two.
    result = promote(client, name, POLICY, request_id="dag/run/promote")
    assert result.promoted and aliases_of(client, name)[keys.CHAMPION] == challenger
    assert [e.version for e in read_history(client, name)] == ["1", challenger]


def test_registration_is_idempotent_after_a_crash_before_the_alias(trained: Store) -> None:
    """A registration that died after creating the version: the retry reuses it and sets the alias."""
    name = trained.model_name("regcrash")
    client = trained.client()
    register_model(client, run_id=trained.runs["base"], name=name, alias=None)
    assert aliases_of(client, name) == {}
    again = register_model(client, run_id=trained.runs["base"], name=name)
    assert (again.version, again.created) == ("1", False)
    assert aliases_of(client, name) == {keys.CHALLENGER: "1"}


def test_tracking_server_down_is_a_clear_error(trained: Store, dead_tracking_url: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if trained.kind != "server":
        pytest.skip("an outage needs a server")
    name = _with_champion(trained, "down")
    _register(trained, name, "better")
    dead = dead_tracking_url
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_DOWN", json.dumps(
        {"conn_type": "mlflow", "host": dead, "password": "s3cr3t-token-value",
         "extra": {"max_retries": 1, "backoff_factor": 0, "timeout": 2}}))
    started = time.monotonic()
    op = MlflowPromotionGateOperator(task_id="promote", model_name=name, policy=POLICY, mlflow_conn_id="mlflow_down")
    with pytest.raises(ServiceUnavailable) as failure:
        op.execute(fake_context())
    message = str(failure.value)
    assert message.startswith(f"MLflow tracking server {dead} unreachable after retries")
    assert "\n" not in message and "s3cr3t" not in message
    assert time.monotonic() - started < 60
    assert aliases_of(trained.client(), name)[keys.CHAMPION] == "1"
    lineage = op.get_openlineage_facets_on_failure(None)
    assert "unreachable" in lineage.run_facets["errorMessage"].message


def test_domain_promote_raises_promotion_blocked_with_the_decision(trained: Store) -> None:
    name = _with_champion(trained, "domain")
    _register(trained, name, "worse_fr")
    with pytest.raises(PromotionBlocked) as blocked:
        promote(trained.client(), name, POLICY, report=False)
    decision = blocked.value.result
    assert decision.passed is False and decision.champion == "1"
    assert [(c.name, c.slice) for c in decision.checks if not c.passed] == [("auc", "country=FR")]


def test_crash_during_rollback_then_retries(trained: Store) -> None:
    from airflow_provider_parity.tracking.rollback import rollback

    name = _with_champion(trained, "rbcrash")
    _register(trained, name, "better")
    _gate(trained, name).execute(fake_context())
    client = trained.client()

    def crash(target: str) -> None:
        raise RuntimeError("worker lost before the alias switch")

    with pytest.raises(RuntimeError, match="worker lost"):
        rollback(client, name, reason="canary alarm", request_id="d/r/rollback", before_switch=crash)
    assert aliases_of(client, name)[keys.CHAMPION] == "2"
    done = rollback(client, name, reason="canary alarm", request_id="d/r/rollback")
    assert (done.to_version, done.switched) == ("1", True)
    again = rollback(client, name, reason="canary alarm", request_id="d/r/rollback")
    assert again.switched is False and aliases_of(client, name)[keys.CHAMPION] == "1"
    assert [e.action for e in read_history(client, name)] == ["promote", "promote", "rollback"]
