"""Reproducibility audit on real Delta tables: a match, a rewritten table, a vacuumed version; CLI exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fakes import fake_context

from airflow_provider_parity.cli import main
from airflow_provider_parity.compat import AirflowFailException
from airflow_provider_parity.operators.mlflow import MlflowRegisterModelOperator, MlflowReproduceOperator
from airflow_provider_parity.tracking.reproduce import audit_version

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _ledger_in_tmp(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", str(tmp_path / "ledger"))
    monkeypatch.setenv("AIRFLOW__PARITY__REPORT_DIR", str(tmp_path / "reports"))


def _registered(store: Any, table: str, label: str, train_run: Any) -> str:
    run_id = train_run(store, table, metrics={"overall": 0.8}, gates={"validation": "passed"})
    name = store.model_name(label)
    MlflowRegisterModelOperator(task_id="r", model_name=name, run_id=run_id, mlflow_conn_id=store.conn_id).execute(fake_context())
    return name


def _cli(store: Any, name: str, *extra: str) -> int:
    return main(["reproduce", name, "1", "--tracking-uri", store.tracking_uri, *extra])


def test_a_recorded_version_reproduces(trained: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name = trained.model_name("repro")
    MlflowRegisterModelOperator(task_id="r", model_name=name, run_id=trained.runs["base"],
                                mlflow_conn_id=trained.conn_id).execute(fake_context())
    result = MlflowReproduceOperator(task_id="audit", model_name=name, version=1,
                                     mlflow_conn_id=trained.conn_id).execute(fake_context())
    assert (result["gate"], result["status"], result["blocking"]) == ("reproduce", "passed", False)
    [check] = result["checks"]
    assert check["success"] is True and "rows 40 (match)" in check["observed"] and check["expected"].endswith("rows 40")
    assert _cli(trained, name, "--json", str(tmp_path / "audit.json")) == 0
    assert json.loads((tmp_path / "audit.json").read_text())["inputs"][0]["status"] == "match"
    assert "1 input(s) reproduced" in capsys.readouterr().out


def test_a_rewritten_table_is_a_named_mismatch(trained: Any, tmp_path: Path, train_run: Any,
                                               write_table: Any) -> None:
    table = write_table(tmp_path / "features", seed=1)
    name = _registered(trained, table, "rewritten", train_run)
    shutil.rmtree(table)
    write_table(Path(table), rows=41, seed=2)  # same path, same version 0, other files
    with pytest.raises(AirflowFailException) as failure:
        MlflowReproduceOperator(task_id="audit", model_name=name, version="1",
                                mlflow_conn_id=trained.conn_id).execute(fake_context())
    message = str(failure.value)
    assert message.startswith(f"{name} v1 not reproducible: {table}@v0: fingerprint ")
    assert "41 rows read, 40 recorded" in message
    assert _cli(trained, name) == 1


def test_a_vacuumed_version_is_a_clear_failure(trained: Any, tmp_path: Path, train_run: Any,
                                               write_table: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import pyarrow as pa
    from deltalake import DeltaTable, write_deltalake

    table = write_table(tmp_path / "features", seed=3)
    name = _registered(trained, table, "vacuumed", train_run)
    write_deltalake(table, pa.table({"x": [0.0], "y": [1]}), mode="overwrite")
    DeltaTable(table).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    report = audit_version(trained.client(), name, "1")
    assert not report.passed and report.inputs[0].status == "unavailable"
    assert "vacuum" in report.inputs[0].detail.lower()
    assert _cli(trained, name) == 1
    err = capsys.readouterr().err
    assert f"{table}@v0: cannot be recreated" in err


def test_cli_bad_input_exits_2(trained: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "no-such-model", "1", "--tracking-uri", trained.tracking_uri]) == 2
    assert "model version 'no-such-model' v1 does not exist" in capsys.readouterr().err
