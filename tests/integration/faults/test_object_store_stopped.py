"""The object store stopped mid-run (moto's S3 server paused with ``SIGSTOP``), then back (``SIGCONT``).

A pause keeps moto's in-memory state, so what the store holds when it comes back is exactly what
was written before: the version count and the data must be as they were, and the retried write
must land once. The connection's ``storage_options`` shorten the waits to keep the test short.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fault_support import wait_for
from live_servers import free_port, start_moto_server

from airflow_provider_parity.exceptions import ServiceUnavailable

pytestmark = pytest.mark.integration
pytest.importorskip("moto")

SECRET = "s3cr3t-never-shown"
ROWS, PARTITIONS = 400_000, 20
TABLE = "s3://lake/tables/events"


@pytest.fixture
def moto() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    process = start_moto_server(port)
    if process is None:
        pytest.skip("moto_server is not installed")
    try:
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGCONT)
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def lake(moto: tuple[subprocess.Popen[bytes], str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """A bucket and a ``delta`` connection to it whose waits are 5 s instead of the default 15 s."""
    import boto3

    from airflow_provider_parity.hooks.delta import DeltaTableHook

    s3 = boto3.client("s3", endpoint_url=moto[1], aws_access_key_id="AKIATEST", aws_secret_access_key=SECRET,
                      region_name="us-east-1")
    s3.create_bucket(Bucket="lake")
    monkeypatch.setenv("AIRFLOW_CONN_FAULT_LAKE", json.dumps({
        "conn_type": "delta", "host": "s3://lake/tables", "login": "AKIATEST", "password": SECRET,
        "extra": {"endpoint_url": moto[1], "region": "us-east-1",
                  "storage_options": {"timeout": "5s", "retry_timeout": "5s"}}}))
    return s3, DeltaTableHook("fault_lake")


def _objects(s3: Any) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="lake", Prefix="tables/events/")
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_store_stopped_during_a_read_and_a_write(moto: tuple[subprocess.Popen[bytes], str], lake: Any,
                                                 start_worker: Callable[..., Any]) -> None:
    from delta_worker import rows

    from airflow_provider_parity.delta import read_arrow, resolve_snapshot
    from airflow_provider_parity.delta.writer import write_version

    server, endpoint = moto
    s3, hook = lake
    options = hook.storage_options
    write_version(TABLE, rows(PARTITIONS, PARTITIONS, seed=0), partition_by=["part"], storage_options=options)
    pinned = resolve_snapshot(TABLE, storage_options=options)
    before = read_arrow(TABLE, storage_options=options).sort_by("id")
    seeded = _objects(s3)

    # A read while the store is stopped: bounded, one line, the endpoint named.
    server.send_signal(signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable) as failure:
        read_arrow(TABLE, storage_options=options)
    assert time.monotonic() - started < 30
    assert str(failure.value) == (f"object store {endpoint} unreachable after retries (operation timed out) for "
                                  f"{TABLE}; nothing was changed")
    server.send_signal(signal.SIGCONT)

    # A write: the store stops once the first data file is in, before the commit.
    spec = {"table": "events", "delta_conn_id": "fault_lake", "run_id": "scheduled__1", "task_id": "write",
            "rows": ROWS, "partitions": PARTITIONS, "seed": 1}
    worker = start_worker(**spec)
    worker.wait_writing()
    wait_for(lambda: bool(_objects(s3) - seeded), 60, "the write's first data file", every=0.05)
    server.send_signal(signal.SIGSTOP)
    code, _, err = worker.finish()
    server.send_signal(signal.SIGCONT)
    assert code == 2, err[-2000:]
    # A stalled upload is reported as "error sending request", a stalled read as a timeout. (delta-rs'
    # abandoned upload tasks may print Rust panics, "Already shut down", as the process exits.)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err[-2000:]
    assert re.fullmatch(rf"error: object store {endpoint} unreachable after retries \((error sending request|"
                        rf"operation timed out)\) for {TABLE}; no partial version is visible; a retry with the "
                        "same write id commits once", errors[0]), errors[0]
    assert SECRET not in err

    # Back: the same versions, the same data; the orphaned files are not part of any version.
    after = resolve_snapshot(TABLE, storage_options=options)
    assert (after.version, after.fingerprint) == (pinned.version, pinned.fingerprint)
    assert read_arrow(TABLE, storage_options=options).sort_by("id").equals(before)
    assert _objects(s3) - seeded, "the stop must land after the write started"

    retried = start_worker(**spec).result()
    assert (retried["version"], retried["written"]) == (pinned.version + 1, True)
    assert read_arrow(TABLE, storage_options=options).num_rows == before.num_rows + ROWS
    again = start_worker(**spec).result()
    assert (again["version"], again["written"]) == (pinned.version + 1, False)
