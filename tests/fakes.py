"""Stand-ins for the one thing unit tests of an operator's ``execute`` cannot have: a running task instance.

DAG-level behaviour is tested with real runs (``run_dag`` and the bundle's scenario); these fakes only
let an operator push XCom and read its run's task states outside a DAG run.
"""

from __future__ import annotations

from types import SimpleNamespace


class FakeTaskInstance:
    """The task instance API operators use outside a DAG run: XCom push/pull and this run's task states.

    For unit tests of an operator's ``execute``; DAG-level behaviour is tested with real runs (``run_dag``).
    """

    dag_id, run_id, map_index, try_number = "unit_dag", "manual__1", -1, 1

    def __init__(self, task_id: str = "t", states: dict[str, str] | None = None,
                 pulled: dict[tuple[str, str], object] | None = None) -> None:
        self.task_id, self.states, self.pulled, self.pushed = task_id, states or {}, pulled or {}, {}

    def xcom_push(self, *, key: str, value: object) -> None:
        self.pushed[key] = value

    def xcom_pull(self, *, task_ids: str, key: str = "return_value") -> object:
        return self.pulled.get((task_ids, key))

    def get_task_states(self, *, dag_id: str, run_ids: list[str]) -> dict[str, dict[str, str]]:
        return {self.run_id: self.states}


def fake_context(task_id: str = "t", **extra: object) -> dict[str, object]:
    """A minimal task context: a :class:`FakeTaskInstance`, the DAG and the run id (plus ``extra`` keys)."""
    ti = FakeTaskInstance(task_id, **{k: extra.pop(k) for k in ("states", "pulled") if k in extra})  # type: ignore[arg-type]
    if "run_id" in extra:
        ti.run_id = str(extra.pop("run_id"))
    return {"ti": ti, "run_id": ti.run_id, "dag": SimpleNamespace(dag_id=ti.dag_id), **extra}
