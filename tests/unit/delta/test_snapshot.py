"""Pinning and fingerprinting real Delta tables."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from airflow_provider_parity.delta import Snapshot, resolve_snapshot
from airflow_provider_parity.delta.snapshot import fingerprint_files
from airflow_provider_parity.exceptions import SnapshotError


def fingerprint_by_replaying_the_log(table_dir: Path, version: int) -> str:
    """An independent reading of the log: replay JSON commits 0..version by hand."""
    active: dict[str, int] = {}
    schema = ""
    for v in range(version + 1):
        for line in (table_dir / "_delta_log" / f"{v:020d}.json").read_text().splitlines():
            action = json.loads(line)
            if "add" in action:
                active[action["add"]["path"]] = action["add"]["size"]
            elif "remove" in action:
                active.pop(action["remove"]["path"], None)
            elif "metaData" in action:
                schema = action["metaData"]["schemaString"]
    lines = "".join(f"{p}\t{s}\n" for p, s in sorted(active.items()))
    canonical = json.dumps(json.loads(schema), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{lines}schema\t{canonical}".encode()).hexdigest()


def test_latest_pin_describes_the_newest_version(evolving_table) -> None:
    snap = resolve_snapshot(evolving_table.uri)
    assert snap.version == 3
    assert snap.row_count == 6
    assert snap.num_files == 2
    assert snap.schema == [("id", "long"), ("name", "string"), ("event_time", "timestamp"), ("score", "double")]
    assert snap.commit_timestamp.endswith("Z")
    assert snap.operation == "WRITE"


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_fingerprint_matches_an_independent_replay_of_the_log(evolving_table, version: int) -> None:
    snap = resolve_snapshot(evolving_table.uri, version)
    assert snap.version == version
    assert snap.row_count == evolving_table.versions[version].num_rows
    assert snap.fingerprint == fingerprint_by_replaying_the_log(Path(evolving_table.uri), version)


def test_fingerprints_differ_between_versions_and_repeat_for_one(evolving_table) -> None:
    prints = [resolve_snapshot(evolving_table.uri, v).fingerprint for v in range(4)]
    assert len(set(prints)) == 4
    assert resolve_snapshot(evolving_table.uri, 1).fingerprint == prints[1]


def test_fingerprint_survives_copying_the_table(evolving_table, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(evolving_table.uri, copy)
    original = resolve_snapshot(evolving_table.uri, 2)
    copied = resolve_snapshot(str(copy), 2)
    assert copied.uri != original.uri
    assert copied.fingerprint == original.fingerprint


def test_fingerprint_ignores_file_order_but_not_sizes() -> None:
    base = fingerprint_files(["a", "b"], [1, 2], '{"type":"struct","fields":[]}')
    assert fingerprint_files(["b", "a"], [2, 1], '{"fields":[],"type":"struct"}') == base
    assert fingerprint_files(["a", "b"], [1, 3], '{"type":"struct","fields":[]}') != base


def test_snapshot_round_trips_through_json(evolving_table) -> None:
    snap = resolve_snapshot(evolving_table.uri, 1)
    payload = json.loads(json.dumps(dataclasses.asdict(snap)))
    assert Snapshot.from_dict(payload) == snap


def test_as_of_picks_the_version_committed_at_or_before(slow_table) -> None:
    uri = slow_table
    history = DeltaTable(uri).history()
    commit_ms = {h["version"]: h["timestamp"] for h in history}
    at_v1 = datetime.fromtimestamp(commit_ms[1] / 1000, tz=UTC)
    assert resolve_snapshot(uri, as_of=at_v1).version == 1
    just_before_v2 = datetime.fromtimestamp((commit_ms[2] - 1) / 1000, tz=UTC)
    assert resolve_snapshot(uri, as_of=just_before_v2).version == 1
    assert resolve_snapshot(uri, as_of=datetime.now(UTC)).version == 2


def test_as_of_before_the_first_commit_fails(slow_table) -> None:
    uri = slow_table
    with pytest.raises(SnapshotError, match=r"before the oldest commit in the log \(version 0 at "):
        resolve_snapshot(uri, as_of="2000-01-01T00:00:00Z")


def test_as_of_before_a_trimmed_log_names_the_retention(tmp_path: Path) -> None:
    uri = _table_with_expired_log(tmp_path / "t")
    with pytest.raises(SnapshotError, match="oldest commit in the log .version 2 at .*logRetentionDuration=interval 0"):
        resolve_snapshot(uri, as_of="2000-01-01T00:00:00Z")


def test_as_of_in_the_future_fails(slow_table) -> None:
    uri = slow_table
    with pytest.raises(SnapshotError, match="in the future"):
        resolve_snapshot(uri, as_of=datetime.now(UTC) + timedelta(hours=1))


def test_naive_as_of_fails(slow_table) -> None:
    uri = slow_table
    with pytest.raises(SnapshotError, match="no time zone"):
        resolve_snapshot(uri, as_of=datetime.now())


def test_version_and_as_of_together_fail(slow_table) -> None:
    with pytest.raises(SnapshotError, match="not both"):
        resolve_snapshot(slow_table, 1, as_of="2024-01-01T00:00:00Z")


def test_a_version_past_the_end_names_the_latest(evolving_table) -> None:
    with pytest.raises(SnapshotError, match="version 9 does not exist, the latest version is 3"):
        resolve_snapshot(evolving_table.uri, 9)


def test_no_table_is_a_snapshot_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no Delta table at"):
        resolve_snapshot(str(tmp_path / "missing"))


def _table_with_short_retention(path: Path) -> str:
    uri = str(path)
    config = {"delta.logRetentionDuration": "interval 0 seconds",
              "delta.deletedFileRetentionDuration": "interval 0 seconds"}
    for i in range(3):
        write_deltalake(uri, pa.table({"id": [i]}), mode="overwrite", configuration=config if i == 0 else None)
    return uri


def _table_with_expired_log(path: Path) -> str:
    """Versions 0-2 with a checkpoint at 2 and the commits before it cleaned up."""
    uri = _table_with_short_retention(path)
    table = DeltaTable(uri)
    table.create_checkpoint()
    time.sleep(0.01)  # the commits must be older than the (zero) retention
    table.cleanup_metadata()
    return uri


def test_a_vacuumed_version_names_the_version_and_retention(tmp_path: Path) -> None:
    uri = _table_with_short_retention(tmp_path / "t")
    DeltaTable(uri).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    with pytest.raises(SnapshotError) as info:
        resolve_snapshot(uri, 0)
    message = str(info.value)
    assert "version 0 was vacuumed" in message
    assert "delta.deletedFileRetentionDuration=interval 0 seconds" in message
    assert resolve_snapshot(uri).row_count == 1  # the latest version is intact


def test_an_expired_log_names_the_version_and_retention(tmp_path: Path) -> None:
    uri = _table_with_expired_log(tmp_path / "t")
    with pytest.raises(SnapshotError) as info:
        resolve_snapshot(uri, 0)
    message = str(info.value)
    assert "version 0 is no longer in the Delta log" in message
    assert "delta.logRetentionDuration=interval 0 seconds" in message


def test_history_labels_each_commit_with_its_own_version_when_a_commit_lands_after_loading(tmp_path) -> None:
    # delta-rs labels the newest commits in storage counting down from the loaded version:
    # two concurrent appends each reported the other's version before labelled_history.
    from deltalake import CommitProperties, DeltaTable, write_deltalake

    from airflow_provider_parity.delta.snapshot import commit_history, labelled_history

    uri = str(tmp_path / "t")
    for tag in range(3):
        write_deltalake(uri, pa.table({"a": [tag]}), mode="append",
                        commit_properties=CommitProperties(custom_metadata={"tag": str(tag)}))
    loaded = DeltaTable(uri)
    write_deltalake(uri, pa.table({"a": [3]}), mode="append",
                    commit_properties=CommitProperties(custom_metadata={"tag": "3"}))
    assert loaded.history(2)[0]["tag"] == "3"  # the delta-rs behaviour this works around
    entries = labelled_history(loaded, 2)
    assert [(e["version"], e["tag"]) for e in entries] == [(2, "2"), (1, "1")]
    assert [c.version for c in commit_history(loaded)] == [2, 1, 0]
