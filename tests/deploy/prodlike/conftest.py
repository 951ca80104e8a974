"""One production-like stack per module: PostgreSQL, mlflow server, Airflow's four services.

The stack runs the repository's ``dags/`` with the LocalExecutor; the tests drive it through
the REST API only, like an operator or a CI job would. Everything is stopped at the end of the
module, also when a test fails or the run is interrupted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import prodlike_stack as ps
import pytest


def _require_postgres() -> None:
    """Skip without PostgreSQL or its drivers on a developer machine; CI must have them."""
    missing = ps.missing_tools("local")
    if missing:
        message = "production-like stack needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="module")
def prodlike(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ps.RunningStack]:
    """The stack, up for the whole module; its log tails are printed when it fails to start."""
    _require_postgres()
    root = tmp_path_factory.mktemp("prodlike")
    try:
        with ps.running_stack(root, scheduled_runs=False) as running:
            yield running
    except ps.StackError as error:
        logs = "\n".join(f"----- {path.name} -----\n{ps.tail(path)}" for path in sorted((root / "logs").glob("*.log")))
        pytest.fail(f"production-like stack failed: {error}\n{logs}", pytrace=False)
