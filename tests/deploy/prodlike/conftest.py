"""One production-like stack per module: PostgreSQL, mlflow server, Airflow's four services.

The stack runs the repository's ``dags/`` with the LocalExecutor; the tests drive it through
the REST API only, like an operator or a CI job would. Everything is stopped at the end of the
module, also when a test fails or the run is interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator

import prodlike_stack as ps
import pytest


@pytest.fixture(scope="module")
def prodlike(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ps.RunningStack]:
    """The stack, up for the whole module; its log tails are printed when it fails to start."""
    with ps.stack_for_tests(tmp_path_factory.mktemp("prodlike"), scheduled_runs=False) as running:
        yield running
