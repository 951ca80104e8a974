"""Cluster policy of the production-like stack's CeleryExecutor layout (on the PYTHONPATH of its processes).

``task_policy`` sends each task to one of the queues in ``$PARITY_POLICY_QUEUES`` by its level
in its DAG (the longest path from a root task), alternating: a task and the task right after it
land on different queues, so on different workers. The bundle's DAGs are layered (every edge
goes from one level to the next), so every handoff crosses machines and anything a task leaves
on its own disk is out of its successor's reach, which is what the layout tests.

``worker_hostname`` is the workers' ``[core] hostname_callable``: the worker's own loopback
address (``$PARITY_WORKER_HOSTNAME``), recorded as the task instance's hostname, so the
api-server fetches each task's log from the log server of the worker that ran it.
"""

from __future__ import annotations

import os
import socket
from typing import Any

# Airflow copies every other public name of this module into airflow.settings.
__all__ = ["task_policy"]


def task_policy(task: Any) -> None:
    """Route ``task`` to a queue by the parity of its level; no-op without configured queues."""
    queues = [queue for queue in os.environ.get("PARITY_POLICY_QUEUES", "").split(",") if queue]
    if queues:
        task.queue = queues[_level(task, {}) % len(queues)]


def _level(task: Any, memo: dict[str, int]) -> int:
    """The number of tasks on the longest upstream path to ``task`` (0 for a root)."""
    if task.task_id not in memo:
        memo[task.task_id] = 1 + max((_level(up, memo) for up in task.upstream_list), default=-1)
    return memo[task.task_id]


def worker_hostname() -> str:
    """The worker's own loopback address, or the machine's name outside a worker."""
    return os.environ.get("PARITY_WORKER_HOSTNAME") or socket.getfqdn()
