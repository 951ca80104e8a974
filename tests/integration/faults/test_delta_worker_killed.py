"""A worker ``kill -9``-ed in the middle of a Delta write: no partial version, and the retry commits once."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fault_support import data_files, wait_for

pytestmark = pytest.mark.integration

ROWS, PARTITIONS = 2_000_000, 40


def _seed(table: Path) -> Any:
    """Version 0: one small write; returns its rows, sorted, to compare reads with."""
    from delta_worker import rows

    from airflow_provider_parity.delta import read_arrow
    from airflow_provider_parity.delta.writer import write_version

    write_version(str(table), rows(PARTITIONS, PARTITIONS, seed=0), partition_by=["part"])
    return read_arrow(str(table)).sort_by("id")


def test_worker_killed_mid_write_leaves_no_partial_version(tmp_path: Path,
                                                           start_worker: Callable[..., Any]) -> None:
    from airflow_provider_parity.delta import read_arrow, resolve_snapshot
    from airflow_provider_parity.delta.writer import history_with_metadata

    table = tmp_path / "events"
    before = _seed(table)
    pinned = resolve_snapshot(str(table))
    seeded_files = data_files(table)
    spec = {"table": str(table), "run_id": "scheduled__2026-11-30", "task_id": "write", "rows": ROWS,
            "partitions": PARTITIONS, "seed": 1}

    worker = start_worker(**spec)
    worker.wait_writing()
    # Kill the moment the first data file of the write shows up: files written, nothing committed.
    wait_for(lambda: bool(data_files(table) - seeded_files), 60, "the write's first data file")
    worker.proc.send_signal(signal.SIGKILL)
    code, _, _ = worker.finish()
    assert code == -signal.SIGKILL
    assert data_files(table) - seeded_files, "the kill must land after the write started"

    after = resolve_snapshot(str(table))
    assert (after.version, after.fingerprint) == (pinned.version, pinned.fingerprint)
    assert read_arrow(str(table)).sort_by("id").equals(before)

    # The retry is the same task instance: one new version with every row once.
    first = start_worker(**spec).result()
    assert (first["version"], first["written"]) == (pinned.version + 1, True)
    data = read_arrow(str(table))
    assert data.num_rows == before.num_rows + ROWS
    assert len(set(data.filter(data.column("writer").to_numpy() == 1).column("id").to_pylist())) == ROWS
    # A second retry finds the commit through the Delta app transaction and writes nothing.
    second = start_worker(**spec).result()
    assert (second["version"], second["written"]) == (pinned.version + 1, False)
    assert resolve_snapshot(str(table)).version == pinned.version + 1
    writes = [e["metadata"]["parity.write_id"] for e in history_with_metadata(str(table))]
    assert writes.count("faults/scheduled__2026-11-30/write/-1") == 1
