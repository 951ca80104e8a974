"""Two worker processes committing to one Delta table at once.

Both land, or one gets a clear conflict error and its retry (same task instance) lands; either
way the table ends with each write exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fault_support import wait_for

pytestmark = pytest.mark.integration

ROWS, PARTITIONS = 1_000_000, 4


def _race(start_worker: Callable[..., Any], table: Path, **spec: Any) -> dict[str, dict[str, Any]]:
    """Start writers ``a`` and ``b`` together; retry (once) the one that lost a conflict.

    Returns each writer's final result; the conflict message, if any, under ``conflict``.
    """
    go = table.parent / "go"
    specs = {task: {"table": str(table), "run_id": "scheduled__1", "task_id": task, "rows": ROWS,
                    "partitions": PARTITIONS, "seed": seed, **spec} for task, seed in (("a", 1), ("b", 2))}
    workers = {task: start_worker(**s, go=str(go)) for task, s in specs.items()}
    wait_for(lambda: all(Path(f"{go}.{task}.ready").exists() for task in specs), 120, "both workers' rows")
    go.touch()  # both start their write now
    results: dict[str, dict[str, Any]] = {}
    for task, worker in workers.items():
        code, last, err = worker.finish()
        if code == 0:
            results[task] = json.loads(last)
            continue
        line = err.strip().splitlines()[-1]
        assert code == 2 and line.startswith("error: ") and "Traceback" not in err, err[-2000:]
        results[task] = {**start_worker(**specs[task]).result(), "conflict": line}
    return results


def _seed(table: Path) -> int:
    from delta_worker import rows

    from airflow_provider_parity.delta.writer import write_version

    return write_version(str(table), rows(PARTITIONS, PARTITIONS, seed=0), partition_by=["part"]).snapshot.version


def _commits_per_writer(table: Path) -> dict[str, int]:
    from airflow_provider_parity.delta.writer import history_with_metadata

    ids = [e["metadata"].get("parity.write_id") for e in history_with_metadata(str(table))]
    return {task: ids.count(f"faults/scheduled__1/{task}/-1") for task in ("a", "b")}


def test_two_appends_at_once_both_land_once(tmp_path: Path, start_worker: Callable[..., Any]) -> None:
    from airflow_provider_parity.delta import read_arrow

    table = tmp_path / "events"
    seeded = _seed(table)
    results = _race(start_worker, table)
    # Blind appends do not conflict: delta-rs commits the second on top of the first.
    assert all(r["written"] and "conflict" not in r for r in results.values()), results
    assert sorted(r["version"] for r in results.values()) == [seeded + 1, seeded + 2]
    data = read_arrow(str(table))
    counts = data.group_by("writer").aggregate([("id", "count_distinct")]).sort_by("writer")
    assert counts.to_pylist() == [{"writer": 0, "id_count_distinct": PARTITIONS},
                                  {"writer": 1, "id_count_distinct": ROWS}, {"writer": 2, "id_count_distinct": ROWS}]
    assert data.num_rows == PARTITIONS + 2 * ROWS
    assert _commits_per_writer(table) == {"a": 1, "b": 1}


def test_two_replacements_of_one_partition_at_once(tmp_path: Path, start_worker: Callable[..., Any]) -> None:
    from airflow_provider_parity.delta import read_arrow, resolve_snapshot

    table = tmp_path / "events"
    seeded = _seed(table)
    results = _race(start_worker, table, partitions=1, mode="overwrite", replace_where="part = 0")
    # Both read version 0 and replace the same rows: the second commit conflicts, and says so.
    conflicts = [r["conflict"] for r in results.values() if "conflict" in r]
    assert len(conflicts) == 1, results
    assert conflicts[0] == (f"error: {table}: write not committed, another writer's commit conflicts with it "
                            "(Failed to commit transaction: Commit failed: a concurrent transactions added new data.); "
                            "nothing was changed, a retry applies it to the new version")
    assert resolve_snapshot(str(table)).version == seeded + 2
    assert _commits_per_writer(table) == {"a": 1, "b": 1}
    last = max(results, key=lambda task: results[task]["version"])
    data = read_arrow(str(table))
    part0 = data.filter(data.column("part").to_numpy() == 0)
    assert set(part0.column("writer").to_pylist()) == {1 if last == "a" else 2}
    assert part0.num_rows == ROWS
    assert data.num_rows == ROWS + PARTITIONS - 1  # the other partitions keep their seeded row
