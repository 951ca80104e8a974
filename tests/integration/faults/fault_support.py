"""Helpers of the fault tests (importable: pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def data_files(table: Path) -> set[str]:
    """Every file under the table root outside ``_delta_log``, relative to it."""
    return {str(p.relative_to(table)) for p in table.rglob("*") if p.is_file() and "_delta_log" not in p.parts}


def wait_for(condition: Callable[[], bool], timeout: float, what: str, every: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
