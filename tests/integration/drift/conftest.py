"""One Spark session for the drift tests (local[1], no UI), shared across the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def drift_spark() -> Iterator[Any]:
    import os
    import sys

    from airflow_provider_parity.delta.spark_session import build_session

    # Executors run the Arrow engine in Python workers: the same interpreter as the tests.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = build_session("local[1]", conf={"spark.sql.shuffle.partitions": "1", "spark.driver.memory": "1g"},
                            app_name="parity-drift-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    # py4j logs while closing, after pytest has closed its capture streams.
    import logging

    logging.getLogger("py4j").setLevel(logging.WARNING)
    session.stop()
