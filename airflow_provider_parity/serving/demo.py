"""A champion to serve and the service as a process: what the tests, the benchmark and the demo share.

:func:`train_champion` fits a small scikit-learn pipeline on a contract's serving features and
registers it under the alias ``champion``; :class:`ServiceProcess` runs ``parity serve`` as a real
process on a loopback port and stops it with SIGTERM (the graceful path that flushes the log);
:func:`send_requests` is a small concurrent client.
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
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract


def train_champion(tracking_uri: str, name: str, table: pa.Table, contract: Contract, *, label: str,
                   seed: int = 0, alias: str = "champion") -> str:
    """Fit imputer + logistic regression on the contract's numeric serving features; register; set ``alias``.

    Numeric features only: a one-hot ``ColumnTransformer`` costs about 2 ms per single-row
    prediction, more than the rest of a request together (lookup, boundary check, logging). The
    categorical features are still served, checked and logged.

    Returns:
        The new model version.
    """
    import mlflow
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from airflow_provider_parity.tracking.client import make_client

    numeric = [c.name for c in contract.columns_for("serving") if c.role == "feature" and c.is_numeric]
    model = Pipeline([("impute", SimpleImputer()), ("classify", LogisticRegression(C=1.0 + seed, max_iter=500))])
    model.fit(table.select(numeric).to_pandas(), table.column(label).to_numpy(zero_copy_only=False))
    import mlflow.tracking._model_registry.utils as registry_utils
    import mlflow.tracking._tracking_service.utils as tracking_utils

    # mlflow's fluent API reads process-wide URIs (module globals, mirrored into MLFLOW_TRACKING_URI and
    # MLFLOW_REGISTRY_URI): set them for this run only and put back whatever the caller had, so a test
    # process (or a worker) that trains a champion does not redirect its later MLflow calls to this store.
    saved = (tracking_utils._tracking_uri, registry_utils._registry_uri)
    saved_env = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    try:
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        mlflow.set_experiment("parity-serving")
        with mlflow.start_run():
            # cloudpickle: skops (the default) scans every imported module, seconds per model.
            info = mlflow.sklearn.log_model(model, name="model", registered_model_name=name,
                                            pip_requirements=["scikit-learn"], serialization_format="cloudpickle")
    finally:
        tracking_utils._tracking_uri, registry_utils._registry_uri = saved
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    version = str(info.registered_model_version)
    make_client(tracking_uri, tracking_uri).set_registered_model_alias(name, alias, version)
    return version


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """``python -m airflow_provider_parity.cli serve ...`` on 127.0.0.1, its own process group."""

    def __init__(self, *, contract: str, store: str, model: str, log: str, tracking_uri: str,
                 extra: Sequence[str] = (), output: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = output
        command = [sys.executable, "-m", "airflow_provider_parity.cli", "serve", "--contract", contract,
                   "--store", store, "--model", model, "--log", log, "--tracking-uri", tracking_uri,
                   "--port", str(self.port), *extra]
        # Its own session: stop() signals the service and nothing else.
        with open(output or os.devnull, "wb") as sink:
            self.process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait_healthy(self, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"parity serve exited with {self.process.returncode}: {self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    return dict(json.load(answer))
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"parity serve not healthy after {timeout}s: {self.tail()}")

    def tail(self) -> str:
        return self.output.read_text(errors="replace")[-3000:] if self.output and self.output.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal the service and wait for it to exit; its exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        return int(self.process.returncode)


def post_json(url: str, body: Any, timeout: float = 10) -> tuple[int, Any]:
    """POST ``body`` as JSON; the status and the decoded answer (also for 4xx/5xx)."""
    import urllib.error

    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def send_requests(url: str, bodies: Sequence[Any], *, concurrency: int = 8,
                  timeout: float = 30) -> list[tuple[int, Any]]:
    """POST each body to ``url`` from ``concurrency`` threads, each over one keep-alive connection.

    Returns:
        (status, decoded answer) per body, in the order of ``bodies``.
    """
    import http.client
    import threading
    import urllib.parse
    from concurrent.futures import ThreadPoolExecutor

    target = urllib.parse.urlsplit(url)
    local = threading.local()

    def post(body: Any) -> tuple[int, Any]:
        conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=timeout)
        conn.request("POST", target.path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"null")

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="parity-client") as pool:
        return list(pool.map(post, bodies))


class RedisProcess:
    """A throw-away ``redis-server`` on 127.0.0.1: a password (in its config file, not on ``ps``), no persistence."""

    def __init__(self, folder: Path) -> None:
        import secrets
        import shutil
        import urllib.parse

        server = shutil.which("redis-server")
        if server is None:
            raise FileNotFoundError("redis-server not found (apt-get install redis-server; scripts/setup.sh does)")
        folder.mkdir(parents=True, exist_ok=True)
        self.port, password = free_port(), secrets.token_urlsafe(16)
        config = folder / "redis.conf"
        config.write_text(f"bind 127.0.0.1\nport {self.port}\nrequirepass {password}\nsave \"\"\nappendonly no\n"
                          f"dir {folder}\nprotected-mode yes\n")
        config.chmod(0o600)
        self.process = subprocess.Popen([server, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        self.password = password
        self.url = f"redis://:{urllib.parse.quote(password, safe='')}@127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
