"""One CeleryExecutor stack per module, its workers sharing nothing local (see prodlike_stack.running_stack).

The stack module lives with the production-like test; it is imported from there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "prodlike"))

import prodlike_stack as ps  # found through the path above


@pytest.fixture(scope="module")
def celery_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ps.RunningStack]:
    """The stack, up for the whole module, then stopped (also on failure or interruption)."""
    # A stale table fails the freshness sensor within two minutes, not six hours.
    with ps.stack_for_tests(tmp_path_factory.mktemp("celery"), scheduled_runs=False, executor="celery",
                            extra_env=lambda root, url: {"AIRFLOW__PARITY__FRESHNESS_TIMEOUT": "120"}) as running:
        yield running
