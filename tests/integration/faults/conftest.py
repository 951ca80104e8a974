"""Fault tests: real processes killed, stopped or refused; what the project guarantees after each.

Workers are ``delta_worker.py`` subprocesses running ``DeltaWriteOperator`` for one task
instance, so a ``kill -9`` hits a real write and a retry uses the same task identity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

WORKER = Path(__file__).with_name("delta_worker.py")


@dataclass
class Worker:
    """A running ``delta_worker.py``; ``finish()`` waits and returns (exit code, stdout's last line, stderr)."""

    proc: subprocess.Popen[str]

    def wait_writing(self, timeout: float = 60) -> None:
        """Block until the worker has built its rows and starts the write."""
        assert self.proc.stdout is not None
        seen = []
        for line in self.proc.stdout:  # Airflow may log to stdout before the worker's own line
            if line.strip() == "writing":
                return
            seen.append(line)
        code, _, err = self.finish(timeout)
        raise AssertionError(f"worker exited {code} before writing: {''.join(seen)[-1000:]} {err[-2000:]}")

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        return self.proc.returncode, lines[-1] if lines else "", err

    def result(self) -> dict[str, Any]:
        """The operator's result of a worker that must succeed."""
        code, last, err = self.finish()
        assert code == 0, err[-2000:]
        return dict(json.loads(last))


@pytest.fixture
def start_worker() -> Iterator[Callable[..., Worker]]:
    """``start_worker(table=, run_id=, task_id=, rows=, partitions=, seed=, ...) -> Worker``."""
    started: list[Worker] = []

    def start(**spec: Any) -> Worker:
        proc = subprocess.Popen([sys.executable, str(WORKER), json.dumps(spec)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=os.environ.copy())
        started.append(Worker(proc))
        return started[-1]

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.communicate(timeout=30)
