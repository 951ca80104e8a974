"""S3-compatible storage end to end: a real S3 API server (moto) on 127.0.0.1, credentials from a connection.

The server is the ``s3_endpoint`` fixture of ``tests/integration/conftest.py``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from airflow_provider_parity.delta import read_arrow
from airflow_provider_parity.delta.asof import isoformat_utc
from airflow_provider_parity.delta.writer import commit_metadata, write_version
from airflow_provider_parity.exceptions import SnapshotError
from airflow_provider_parity.hooks.delta import DeltaTableHook
from airflow_provider_parity.triggers.delta import DeltaFreshnessTrigger

pytestmark = pytest.mark.integration
pytest.importorskip("moto")

SECRET = "s3cr3t-never-logged"


@pytest.fixture
def lake(s3_endpoint: str, monkeypatch) -> DeltaTableHook:  # type: ignore[no-untyped-def]
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="AKIATEST", aws_secret_access_key=SECRET,
                 region_name="us-east-1").create_bucket(Bucket="lake")
    monkeypatch.setenv("AIRFLOW_CONN_MINIO_LAKE", json.dumps({
        "conn_type": "delta", "host": "s3://lake/tables", "login": "AKIATEST", "password": SECRET,
        "extra": {"endpoint_url": s3_endpoint, "region": "us-east-1"}}))
    return DeltaTableHook("minio_lake")


def test_write_pin_and_read_through_an_s3_endpoint(lake: DeltaTableHook) -> None:
    uri = lake.table_uri("events")
    assert uri == "s3://lake/tables/events"
    first = write_version(uri, pa.table({"id": [1, 2]}), storage_options=lake.storage_options,
                          metadata=commit_metadata(dag_id="d", run_id="r"))
    write_version(uri, pa.table({"id": [3]}), mode="append", storage_options=lake.storage_options)
    pinned = lake.resolve_snapshot("events", 0)
    assert pinned.fingerprint == first.snapshot.fingerprint
    assert pinned.row_count == 2
    assert lake.resolve_snapshot("events", as_of=datetime.now(UTC)).version == 1
    assert sorted(read_arrow(uri, 1, storage_options=lake.storage_options).column("id").to_pylist()) == [1, 2, 3]


def test_errors_on_s3_do_not_carry_the_secret(lake: DeltaTableHook) -> None:
    with pytest.raises(SnapshotError) as info:
        lake.resolve_snapshot("missing")
    assert "s3://lake/tables/missing" in str(info.value)
    assert SECRET not in str(info.value)


def test_trigger_resolves_the_connection_itself(lake: DeltaTableHook) -> None:
    uri = lake.table_uri("events_for_trigger")
    write_version(uri, pa.table({"id": [1]}), storage_options=lake.storage_options)
    trigger = DeltaFreshnessTrigger(table_uri=uri, reference=isoformat_utc(datetime(2024, 1, 1, tzinfo=UTC)),
                                    delta_conn_id="minio_lake", poll_interval=0.1)
    assert SECRET not in json.dumps(trigger.serialize()[1])
    event = asyncio.run(asyncio.wait_for(anext(trigger.run()), timeout=60))
    assert event.payload["status"] == "fresh", event.payload
