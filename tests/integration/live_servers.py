"""Real server processes (``mlflow server``, moto's S3 server) and what tests run against them.

Plain functions (not fixtures) so that a fault test can kill or pause a server and start it
again on the same store and port. Importable as ``live_servers``: pytest puts this folder on
``sys.path`` when it loads ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, timeout: float = 30) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_moto_server(port: int) -> subprocess.Popen[bytes] | None:
    """moto's S3 server on 127.0.0.1:``port`` in its own process (None without moto).

    Its own process: delta-rs holds the GIL during I/O, so a server thread in the test
    process could not answer. Its state lives in memory: pause it (``SIGSTOP``) to stop it
    and keep the data, kill it to lose everything.
    """
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    if server is None:
        return None
    process = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
    except BaseException:
        process.kill()
        process.wait(timeout=10)
        raise
    return process


def start_mlflow_server(root: Path, port: int, *, timeout: float = 240) -> subprocess.Popen[bytes]:
    """``mlflow server`` on 127.0.0.1:``port`` with its SQLite store and artifacts under ``root``.

    One worker (the machine is shared); its own process group, so that stopping it stops its
    workers too. Returns once ``/health`` answers; the log is ``root/server.log`` (appended).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_TRACKING") and k != "MLFLOW_REGISTRY_URI"}
    cmd = [str(Path(sys.executable).with_name("mlflow")), "server",
           "--backend-store-uri", f"sqlite:///{root}/mlflow.db", "--artifacts-destination", str(root / "artifacts"),
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    log = root / "server.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env, start_new_session=True)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", proc, log, timeout)
    except BaseException:
        stop_process_group(proc)
        raise
    return proc


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
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


def stop_process_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop the server and its workers (they share its process group); ``SIGKILL`` for a crash.

    The signal goes to the whole group at once, so with ``SIGKILL`` no worker survives to hold
    the port or finish a request.
    """
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
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


def write_table(path: Path, rows: int = 40, seed: int = 0) -> str:
    """A small Delta table of one feature and a label."""
    import numpy as np
    import pyarrow as pa
    from deltalake import write_deltalake

    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    write_deltalake(str(path), pa.table({"x": x, "y": (x + rng.normal(scale=0.5, size=rows) > 0).astype("int64")}))
    return str(path)


def train_run(store: Store, table_uri: str, *, metrics: dict[str, float], gates: dict[str, str],
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
