"""Servers shared by integration tests of several areas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from live_servers import free_port, start_moto_server


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on 127.0.0.1, as ``http://127.0.0.1:<port>``; skips without moto.

    The server runs in its own process: delta-rs holds the GIL during I/O, so a server
    thread in the test process could not answer.
    """
    port = free_port()
    process = start_moto_server(port)
    if process is None:
        pytest.skip("moto_server is not installed")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one Spark session of the test run (local mode starts slowly and the machine is small).

    delta-spark is on it when scripts/setup.sh cached its jars (``delta_conf``): tests that
    need it take ``delta_spark``; the parquet fallback is read with ``path="parquet"``.
    """
    import logging
    import os
    import sys

    from airflow_provider_parity.delta.spark_session import build_session

    # Executors run the Arrow engine (drift profiles) in Python workers: the same interpreter as the tests.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = build_session(
        "local[1]",
        conf={
            "spark.sql.shuffle.partitions": "1",
            "spark.default.parallelism": "1",
            "spark.driver.memory": "1g",
            "spark.ui.showConsoleProgress": "false",
            # Delta rebuilds a table's state in 50 tasks by default: one is enough for test tables.
            "spark.databricks.delta.snapshotPartitions": "1",
        },
        app_name="parity-tests",
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    # py4j logs while closing, after pytest has closed its capture streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session.stop()


@pytest.fixture(scope="session")
def delta_spark(spark: Any) -> Any:
    """The session with delta-spark's jars; skips where setup could not cache them (no Maven)."""
    from airflow_provider_parity.delta.spark_engine import has_delta_jars

    if not has_delta_jars(spark):
        pytest.skip("no delta-spark jars cached (scripts/setup.sh resolves them with Maven)")
    return spark
