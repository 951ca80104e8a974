"""A real ``mlflow server`` (SQLite backend, local artifacts) on a loopback port, and the local store.

The server starts once per test session (``--workers 1``: the machine is shared) and is stopped
at the end. Tests run against both stores through the ``store`` fixture; each test registers
into its own model name, and the training runs are shared per store to keep the session short.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# Fail fast if a request goes wrong: the defaults retry for minutes.
FAST_RETRIES = {"max_retries": 2, "backoff_factor": 0, "timeout": 20}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"mlflow server not healthy after {timeout}s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``mlflow server`` on 127.0.0.1, stopped at the end of the session."""
    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING") and k != "MLFLOW_REGISTRY_URI"}
    cmd = [str(Path(sys.executable).with_name("mlflow")), "server",
           "--backend-store-uri", f"sqlite:///{root}/mlflow.db", "--artifacts-destination", str(root / "artifacts"),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        stop_process_group(proc)


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers (they share its process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@dataclass
class Store:
    """One MLflow store under test and the Airflow connection that points at it."""

    kind: str
    tracking_uri: str
    conn_id: str
    runs: dict[str, str] = field(default_factory=dict)
    """Shared training runs by role (see ``trained``)."""

    def client(self) -> Any:
        from airflow_provider_parity.tracking.client import make_client

        return make_client(self.tracking_uri)

    def model_name(self, label: str) -> str:
        return f"{label}-{self.kind}-{uuid.uuid4().hex[:6]}"


def _connection(conn_id: str, spec: dict[str, Any]) -> None:
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(spec)


@pytest.fixture(scope="session", params=["local", "server"])
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Each test runs against the embedded SQLite store and against the real server."""
    if request.param == "server":
        url = request.getfixturevalue("mlflow_server")
        spec: dict[str, Any] = {"conn_type": "mlflow", "host": url, "extra": FAST_RETRIES}
        uri = url
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow-local')}/mlflow.db"
        spec = {"conn_type": "mlflow", "extra": {"tracking_uri": uri}}
    conn_id = f"parity_mlflow_{request.param}"
    _connection(conn_id, spec)
    try:
        yield Store(kind=request.param, tracking_uri=uri, conn_id=conn_id)
    finally:
        os.environ.pop(f"AIRFLOW_CONN_{conn_id.upper()}", None)


def _write_table(path: Path, rows: int = 40, seed: int = 0) -> str:
    """A small Delta table of one feature and a label."""
    import numpy as np
    import pyarrow as pa
    from deltalake import write_deltalake

    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    write_deltalake(str(path), pa.table({"x": x, "y": (x + rng.normal(scale=0.5, size=rows) > 0).astype("int64")}))
    return str(path)


def _train_run(store: Store, table_uri: str, *, metrics: dict[str, float], gates: dict[str, str],
              contract: Any = None, experiment: str = "parity-tests") -> str:
    """A real training run: fit, log the model, record the training data, log per-slice AUC."""
    import mlflow
    from sklearn.linear_model import LogisticRegression

    from airflow_provider_parity.delta import read_arrow, resolve_snapshot
    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.tracking.client import ensure_experiment
    from airflow_provider_parity.tracking.record import (
        log_slice_metrics,
        record_training,
    )

    hook = MlflowHook(store.conn_id)
    snapshot = resolve_snapshot(table_uri)
    data = read_arrow(table_uri, snapshot.version)
    features = data.column("x").to_numpy().reshape(-1, 1)
    with hook.environment():
        client = store.client()
        experiment_id = ensure_experiment(client, experiment, store.tracking_uri)
        with mlflow.start_run(experiment_id=experiment_id) as run:
            model = LogisticRegression().fit(features, data.column("y").to_numpy())
            # cloudpickle: skops (the default) scans every imported module, seconds per model.
            mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                     serialization_format="cloudpickle")
            record_training(inputs=[snapshot], contract=contract,
                            gates={name: {"status": status} for name, status in gates.items()},
                            airflow_context={"ti": None}, client=client)
            log_slice_metrics({s: {"auc": v} for s, v in metrics.items()}, client=client)
    return str(run.info.run_id)


@pytest.fixture(scope="session")
def shared_table(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _write_table(tmp_path_factory.mktemp("lake") / "features")


# Training runs shared by the tests of one store: registering the same run into several
# registered models is allowed, so each test gets fresh models without retraining.
RUN_SPECS: dict[str, tuple[dict[str, float], dict[str, str]]] = {
    "base": ({"overall": 0.80, "country=FR": 0.78}, {"validation": "passed", "drift": "passed"}),
    "better": ({"overall": 0.82, "country=FR": 0.79}, {"validation": "passed", "drift": "passed"}),
    "worse_fr": ({"overall": 0.83, "country=FR": 0.70}, {"validation": "passed", "drift": "passed"}),
    "failed_gate": ({"overall": 0.90, "country=FR": 0.88}, {"validation": "passed", "drift": "failed"}),
}


@pytest.fixture(scope="session")
def trained(store: Store, shared_table: str, example_contract: Any) -> Store:
    """``store`` with its shared runs trained (``store.runs[role]``)."""
    for role, (metrics, gates) in RUN_SPECS.items():
        if role not in store.runs:
            store.runs[role] = _train_run(store, shared_table, metrics=metrics, gates=gates, contract=example_contract)
    return store


@pytest.fixture
def write_table() -> Any:
    """``write_table(path, rows=40, seed=0) -> uri``: a small Delta table (feature ``x``, label ``y``)."""
    return _write_table


@pytest.fixture
def train_run() -> Any:
    """``train_run(store, table_uri, metrics=, gates=)``: a real training run recorded on ``store``."""
    return _train_run


@pytest.fixture
def dead_tracking_url() -> str:
    """A loopback URL where nothing listens: the tracking server is down."""
    return f"http://127.0.0.1:{free_port()}"
