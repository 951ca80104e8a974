"""A tracking server or object store that is down: a one-line error within 30 s, by default.

MLflow's own defaults retry a refused connection for about 255 s and object_store's retry for
180 s; the project bounds both (``tracking.client.BOUNDED_REQUESTS``, ``delta.storage.BOUNDED_WAITS``).
Each command runs as a user runs it: ``parity`` in a subprocess, no ``MLFLOW_HTTP_*`` set.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_servers import free_port

from airflow_provider_parity.exceptions import ServiceUnavailable

pytestmark = pytest.mark.integration

BOUND = 30.0
PARITY = str(Path(sys.executable).with_name("parity"))


def _parity(*args: str, **env: str) -> tuple[int, str, float]:
    """Run ``parity``; returns (exit code, stderr, seconds)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "AWS_"))}
    started = time.monotonic()
    done = subprocess.run([PARITY, *args], capture_output=True, text=True, timeout=300, env={**clean, **env})
    return done.returncode, done.stderr, time.monotonic() - started


def _one_line_error(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) and never answers: a hung server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield int(sock.getsockname()[1])


def test_reproduce_against_a_refused_tracking_server(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with_login = dead.replace("http://", "http://ana:pa55word-never-shown@")
    code, err, seconds = _parity("reproduce", "churn", "1", "--tracking-uri", with_login)
    line = _one_line_error(err)
    assert code == 2 and seconds < BOUND, (code, seconds, line)
    assert line == (f"parity: error: MLflow tracking server {dead} unreachable after retries (Connection refused); "
                    "nothing was changed")


def test_hook_defaults_are_bounded_and_the_connection_extra_wins(monkeypatch: pytest.MonkeyPatch,
                                                                 silent_port: int) -> None:
    """A hung server (accepts, never answers) fails in under 30 s with no retry setting at all."""
    from airflow_provider_parity.hooks.mlflow import MlflowHook

    for key in [k for k in os.environ if k.startswith("MLFLOW_HTTP_REQUEST")]:
        monkeypatch.delenv(key)
    url = f"http://127.0.0.1:{silent_port}"
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_HUNG", json.dumps({"conn_type": "mlflow", "host": url}))
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_TUNED", json.dumps(
        {"conn_type": "mlflow", "host": url, "extra": {"max_retries": 0, "timeout": 1}}))
    timings = {}
    for conn_id in ("mlflow_hung", "mlflow_tuned"):
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match=f"MLflow tracking server {url} unreachable .*timed out"):
            with MlflowHook(conn_id).client() as client:
                client.search_experiments(max_results=1)
        timings[conn_id] = time.monotonic() - started
    assert timings["mlflow_hung"] < BOUND, timings
    assert timings["mlflow_tuned"] < 5, timings  # one 1 s attempt: the extra is what runs


@pytest.mark.parametrize(("fault", "cause"), [("refused", "Connection refused"), ("hung", "operation timed out")])
def test_snapshot_against_an_object_store_that_is_down(fault: str, cause: str, silent_port: int) -> None:
    endpoint = f"http://127.0.0.1:{silent_port if fault == 'hung' else free_port()}"
    code, err, seconds = _parity("snapshot", "s3://lake/events", AWS_ENDPOINT_URL=endpoint, AWS_ALLOW_HTTP="true",
                                 AWS_ACCESS_KEY_ID="AKIATEST", AWS_SECRET_ACCESS_KEY="s3cr3t-never-shown",
                                 AWS_REGION="us-east-1")
    line = _one_line_error(err)
    assert code == 2 and seconds < BOUND, (code, seconds, line)
    assert line == (f"parity: error: object store {endpoint} unreachable after retries ({cause}) "
                    "for s3://lake/events; nothing was changed")
    assert "s3cr3t" not in err


def test_write_to_a_refused_object_store() -> None:
    import pyarrow as pa

    from airflow_provider_parity.delta.writer import write_version

    endpoint = f"http://127.0.0.1:{free_port()}"
    options = {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "AKIATEST",
               "AWS_SECRET_ACCESS_KEY": "s3cr3t-never-shown", "AWS_REGION": "us-east-1"}
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as failure:
        write_version("s3://lake/events", pa.table({"id": [1]}), storage_options=options)
    assert time.monotonic() - started < BOUND
    assert str(failure.value) == (f"object store {endpoint} unreachable after retries (Connection refused) "
                                  "for s3://lake/events; nothing was changed")
