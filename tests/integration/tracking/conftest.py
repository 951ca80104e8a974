"""A real ``mlflow server`` (SQLite backend, local artifacts) on a loopback port, and the local store.

The server starts once per test session (``--workers 1``: the machine is shared) and is stopped
at the end. Tests run against both stores through the ``store`` fixture; each test registers
into its own model name, and the training runs are shared per store to keep the session short.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from live_servers import Store, free_port, start_mlflow_server, stop_process_group
from live_servers import train_run as _train_run
from live_servers import write_table as _write_table

# Fail fast if a request goes wrong: the defaults retry for minutes.
FAST_RETRIES = {"max_retries": 2, "backoff_factor": 0, "timeout": 20}


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real ``mlflow server`` on 127.0.0.1, stopped at the end of the session."""
    port = free_port()
    proc = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(proc)


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
