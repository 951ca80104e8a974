"""``kill -9`` of a real ``mlflow server`` between register and the alias switch, then a retry.

The champion alias is the old version until the retry switches it to the new one; nothing in
between is ever visible. The server is restarted on the same SQLite store and port, as a
supervisor would restart it.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
from live_servers import Store, free_port, start_mlflow_server, stop_process_group, train_run, write_table

from airflow_provider_parity.exceptions import ServiceUnavailable
from airflow_provider_parity.hooks.mlflow import MlflowHook
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of
from airflow_provider_parity.tracking.history import read_history
from airflow_provider_parity.tracking.promotion import promote
from airflow_provider_parity.tracking.registry import register_model

pytestmark = pytest.mark.integration

POLICY = {"metrics": [{"metric": "auc", "slices": ["overall"], "min": 0.6, "max_drop": 0.005}]}
NAME = "churn-faults"


def test_server_killed_before_the_alias_switch_then_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "mlflow"
    root.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_FAULTS", json.dumps({"conn_type": "mlflow", "host": url}))
    hook = MlflowHook("mlflow_faults")
    servers = [start_mlflow_server(root, port)]
    try:
        store = Store(kind="server", tracking_uri=url, conn_id="mlflow_faults")
        table = write_table(tmp_path / "features")
        runs = {label: train_run(store, table, metrics={"overall": auc}, gates={"validation": "passed"})
                for label, auc in (("old", 0.80), ("new", 0.82))}
        with hook.client() as client:
            register_model(client, run_id=runs["old"], name=NAME)
            promote(client, NAME, POLICY, request_id="train/run-1/promote")
            new = register_model(client, run_id=runs["new"], name=NAME).version

        def kill_server(decision: Any) -> None:
            assert decision.passed  # the policy let it through: only the switch is left
            stop_process_group(servers[0], signal.SIGKILL)

        with pytest.raises(ServiceUnavailable, match=f"^MLflow tracking server {url} unreachable after retries"):
            with hook.client() as client:
                promote(client, NAME, POLICY, request_id="train/run-2/promote", before_switch=kill_server)
        assert servers[0].returncode == -signal.SIGKILL

        servers.append(start_mlflow_server(root, port))
        with hook.client() as client:
            assert aliases_of(client, NAME) == {keys.CHAMPION: "1", keys.CHALLENGER: new}
            retried = promote(client, NAME, POLICY, request_id="train/run-2/promote")
            assert (retried.promoted, retried.previous_champion, retried.champion) == (True, "1", new)
            assert aliases_of(client, NAME)[keys.CHAMPION] == new
            # One history entry per promotion: the one written before the kill is not doubled.
            assert [(e.version, e.replaced) for e in read_history(client, NAME)] == [("1", None), (new, "1")]
            assert promote(client, NAME, POLICY, request_id="train/run-2/promote").promoted is False
    finally:
        for server in servers:
            stop_process_group(server)
