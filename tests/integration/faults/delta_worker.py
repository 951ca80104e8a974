"""A worker process for the fault tests: one task instance of ``DeltaWriteOperator``, run for real.

    python delta_worker.py SPEC_JSON

``SPEC_JSON`` holds ``table``, ``run_id``, ``task_id``, ``rows``, ``partitions``, ``seed`` and
optionally ``mode``, ``replace_where``, ``delta_conn_id`` (its ``AIRFLOW_CONN_*`` variable comes
through the environment) and ``go``: a file to wait for before writing (the worker creates
``<go>.<task_id>.ready`` once its rows are built), so that two workers start their writes
together. ``writing`` is printed just before the write, so a test kills or stops something
while the write is under way, not while the data is being generated.

On success the operator's return value is printed as one JSON line; a project error prints
its one-line message and exits with its exit code (as the ``parity`` CLI does).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any


def rows(count: int, partitions: int, seed: int) -> Any:
    """``count`` rows over ``partitions`` values of ``part``; ``seed`` tells one writer's rows from another's."""
    import numpy as np
    import pyarrow as pa

    ids = np.arange(count, dtype="int64")
    rng = np.random.default_rng(seed)
    return pa.table({"part": (ids % partitions).astype("int64"), "id": ids,
                     "writer": np.full(count, seed, dtype="int64"), "value": rng.normal(size=count)})


def main(spec: dict[str, Any]) -> int:
    from airflow_provider_parity.exceptions import ParityError
    from airflow_provider_parity.operators.delta import DeltaWriteOperator

    data = rows(spec["rows"], spec["partitions"], spec["seed"])
    operator = DeltaWriteOperator(task_id=spec["task_id"], table=spec["table"], data=lambda context: data,
                                  mode=spec.get("mode", "append"), replace_where=spec.get("replace_where"),
                                  delta_conn_id=spec.get("delta_conn_id"), partition_by=["part"])
    ti = SimpleNamespace(dag_id="faults", run_id=spec["run_id"], task_id=spec["task_id"], map_index=-1)
    if spec.get("go"):
        Path(f"{spec['go']}.{spec['task_id']}.ready").touch()
        while not Path(spec["go"]).exists():
            time.sleep(0.005)
    print("writing", flush=True)
    try:
        result = operator.execute({"ti": ti})  # type: ignore[arg-type]
    except ParityError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    print(json.dumps({"version": result["snapshot"]["version"], "written": result["written"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
