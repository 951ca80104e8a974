"""One PostgreSQL per session for the pushdown tests, reachable as the Airflow connection ``parity_pg``."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from postgres_server import Server, missing, running_postgres


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if reason := missing():
        pytest.skip(f"no PostgreSQL here: {reason}")
    with running_postgres(tmp_path_factory.mktemp("pg")) as server:
        # Session-wide (monkeypatch is per test): how a deployment defines a connection, no metadata DB.
        previous = os.environ.get("AIRFLOW_CONN_PARITY_PG")
        os.environ["AIRFLOW_CONN_PARITY_PG"] = server.airflow_conn()
        try:
            yield server
        finally:
            if previous is None:
                os.environ.pop("AIRFLOW_CONN_PARITY_PG", None)
            else:
                os.environ["AIRFLOW_CONN_PARITY_PG"] = previous
