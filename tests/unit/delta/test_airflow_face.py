"""The hook, the trigger and the CLI over real tables (no DAG run: see tests/integration/delta)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from airflow_provider_parity.cli import main
from airflow_provider_parity.delta.asof import isoformat_utc
from airflow_provider_parity.delta.pins import PinRecord, pin_key
from airflow_provider_parity.delta.snapshot import resolve_snapshot
from airflow_provider_parity.delta.spark_session import master_url
from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.hooks.delta import DeltaTableHook
from airflow_provider_parity.triggers.delta import DeltaFreshnessTrigger

LAKE = {"conn_type": "delta", "host": "s3://bucket/lake", "login": "AKIAEXAMPLE", "password": "s3cr3t-value",
        "extra": {"endpoint_url": "http://127.0.0.1:9000", "region": "us-east-1"}}


def test_hook_reads_root_and_credentials_from_the_connection(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LAKE", json.dumps(LAKE))
    hook = DeltaTableHook("lake")
    assert hook.table_uri("events") == "s3://bucket/lake/events"
    assert hook.table_uri("/abs/other") == "/abs/other"
    options = hook.storage_options
    assert options["AWS_SECRET_ACCESS_KEY"] == "s3cr3t-value"
    assert options["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9000"


def test_hook_masks_credentials_in_logs(monkeypatch) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    monkeypatch.setenv("AIRFLOW_CONN_LAKE2", json.dumps({**LAKE, "password": "another-s3cr3t"}))
    DeltaTableHook("lake2").get_conn()
    assert "another-s3cr3t" not in str(redact("key is another-s3cr3t"))


def test_hook_on_a_local_lake(monkeypatch, evolving_table) -> None:
    root, name = evolving_table.uri.rsplit("/", 1)
    monkeypatch.setenv("AIRFLOW_CONN_LOCAL_LAKE", json.dumps({"conn_type": "delta", "host": root}))
    snap = DeltaTableHook("local_lake").resolve_snapshot(name, 1)
    assert (snap.uri, snap.version, snap.row_count) == (evolving_table.uri, 1, 5)


def test_ui_field_behaviour_hides_unused_fields() -> None:
    behaviour = DeltaTableHook.get_ui_field_behaviour()
    assert set(behaviour["hidden_fields"]) == {"schema", "port"}
    assert "Table root" in behaviour["relabeling"]["host"]


def test_pin_keys_are_per_task_instance_and_bounded() -> None:
    assert pin_key("dag", "run", "task", 3) == "parity.pin/dag/run/task/3"
    assert pin_key("dag", "run", "task") != pin_key("dag", "run", "task", 0)
    long_key = pin_key("d" * 200, "r" * 200, "t")
    assert len(long_key) <= 250
    assert long_key != pin_key("d" * 200, "r" * 199, "t")


def test_pin_record_round_trip(evolving_table) -> None:
    record = PinRecord({"uri": evolving_table.uri, "pin": "latest"}, resolve_snapshot(evolving_table.uri))
    assert PinRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(
    ("host", "port", "master"),
    [("local[*]", None, "local[*]"), ("spark://h", 7077, "spark://h:7077"), ("spark://h:7000", 7077, "spark://h:7000"),
     ("sc://h", 15002, "sc://h:15002"), ("k8s://https://api:6443", None, "k8s://https://api:6443"), ("", None, "local[*]")],
)
def test_master_urls(host: str, port: int | None, master: str) -> None:
    assert master_url(host, port) == master


def test_unknown_master_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not local"):
        master_url("http://h")


def _trigger(uri: str, reference: datetime, **kwargs) -> DeltaFreshnessTrigger:
    return DeltaFreshnessTrigger(table_uri=uri, reference=isoformat_utc(reference), poll_interval=0.05, **kwargs)


def _first_event(trigger: DeltaFreshnessTrigger):
    return asyncio.run(asyncio.wait_for(anext(trigger.run()), timeout=30))


def test_trigger_serialize_round_trip(evolving_table) -> None:
    trigger = _trigger(evolving_table.uri, datetime(2024, 1, 1, tzinfo=UTC), max_age_seconds=7200,
                       column="event_time", delta_conn_id="lake", deadline="2024-01-02T00:00:00.000000Z",
                       contract_ref="events@1.0.0#abc")
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_parity.triggers.delta.DeltaFreshnessTrigger"
    json.dumps(kwargs)  # stored in the metadata database as JSON
    assert "s3cr3t" not in json.dumps(kwargs)
    rebuilt = DeltaFreshnessTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)


def test_trigger_fires_fresh_on_a_fresh_table(evolving_table) -> None:
    event = _first_event(_trigger(evolving_table.uri, datetime(2024, 1, 1, 4, tzinfo=UTC), column="event_time",
                                  max_age_seconds=3600))
    assert event.payload["status"] == "fresh"
    assert event.payload["result"]["newest"] == "2024-01-01T03:15:00.000000Z"


def test_trigger_waits_for_a_commit_then_fires(tmp_path) -> None:
    uri = str(tmp_path / "t")
    write_deltalake(uri, pa.table({"id": [1]}))
    reference = datetime.now(UTC) + timedelta(milliseconds=300)

    def later_commit() -> None:
        time.sleep(0.6)
        write_deltalake(uri, pa.table({"id": [2]}), mode="append")

    writer = threading.Thread(target=later_commit)
    writer.start()
    event = _first_event(_trigger(uri, reference, deadline=isoformat_utc(datetime.now(UTC) + timedelta(seconds=20))))
    writer.join()
    assert event.payload["status"] == "fresh"
    assert event.payload["result"]["version"] == 1


def test_trigger_reports_the_breach_at_its_deadline(evolving_table) -> None:
    event = _first_event(_trigger(evolving_table.uri, datetime(2024, 1, 2, tzinfo=UTC), column="event_time",
                                  max_age_seconds=3600, deadline=isoformat_utc(datetime.now(UTC)),
                                  contract_ref="events@1.0.0#abc"))
    assert event.payload["status"] == "breach"
    assert "freshness SLO of events@1.0.0#abc breached" in event.payload["message"]
    assert "expected >= 2024-01-01T23:00:00.000000Z" in event.payload["message"]


def test_trigger_reports_a_missing_table_as_an_error(tmp_path) -> None:
    event = _first_event(_trigger(str(tmp_path / "nope"), datetime(2024, 1, 1, tzinfo=UTC)))
    assert event.payload["status"] == "error"
    assert "no Delta table" in event.payload["message"]


def test_cli_snapshot_json_and_exit_codes(evolving_table, capsys) -> None:
    assert main(["snapshot", evolving_table.uri, "--version", "2", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["version"] == 2
    assert printed["fingerprint"] == resolve_snapshot(evolving_table.uri, 2).fingerprint
    assert main(["snapshot", evolving_table.uri, "--as-of", "2024-01-01T00:00:00"]) == 2
    assert "no time zone" in capsys.readouterr().err
    assert main(["snapshot", evolving_table.uri, "--version", "1", "--as-of", "2024-01-01T00:00:00Z"]) == 2


def test_cli_as_of_now_is_the_latest(evolving_table, capsys) -> None:
    assert main(["snapshot", evolving_table.uri, "--as-of", isoformat_utc(datetime.now(UTC))]) == 0
    assert "version      3" in capsys.readouterr().out


def test_cli_history_names_the_writer(tmp_path, capsys) -> None:
    from airflow_provider_parity.delta.writer import commit_metadata, write_version

    uri = str(tmp_path / "t")
    write_version(uri, pa.table({"id": [1]}), metadata=commit_metadata(dag_id="daily", run_id="r1"))
    write_version(uri, pa.table({"id": [2]}), mode="overwrite")
    assert main(["history", uri]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "1"
    assert "dag_id=daily run_id=r1" in lines[1]
    assert main(["history", uri, "--json", "--limit", "1"]) == 0
    assert [e["version"] for e in json.loads(capsys.readouterr().out)] == [1]
