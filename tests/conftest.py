"""Test-wide setup: an isolated Airflow home, no outbound traffic, markers.

The environment is set at import time, before anything imports Airflow, because
Airflow reads its configuration once, on first import.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="parity-airflow-home-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ["AIRFLOW__PARITY__REPORT_DIR"] = str(_HOME / "reports")
# Lineage events go nowhere during tests; tests of lineage call the operators' methods.
os.environ["AIRFLOW__OPENLINEAGE__DISABLED"] = "True"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["MLFLOW_ENABLE_TELEMETRY"] = "false"
os.environ["DO_NOT_TRACK"] = "1"

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_CONTRACT = REPO / "contracts" / "customer_features.yaml"


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[Path]:
    """A migrated Airflow metadata database (SQLite) in the session's AIRFLOW_HOME."""
    db = _HOME / "airflow.db"
    if not db.exists():
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=os.environ.copy(),
                       stdout=subprocess.DEVNULL)
    yield _HOME


@pytest.fixture(scope="session")
def example_contract_path() -> Path:
    return EXAMPLE_CONTRACT


@pytest.fixture(scope="session")
def example_contract():  # type: ignore[no-untyped-def]
    from airflow_provider_parity.contracts import load_contract

    return load_contract(EXAMPLE_CONTRACT)


@pytest.fixture
def run_dag(airflow_db):  # type: ignore[no-untyped-def]
    """Run a DAG the way Airflow 3 needs: from a file in the DAG bundle, through ``dag.test()``.

    ``run_dag(dag_id, source)`` writes ``source`` (which must define ``dag``) to the
    bundle's folder, imports it and returns the finished DagRun.
    """
    import importlib.util

    folder = airflow_db / "dags"
    folder.mkdir(exist_ok=True)

    def _run(dag_id: str, source: str, **test_kwargs):  # type: ignore[no-untyped-def]
        path = folder / f"{dag_id}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(f"parity_test_dag_{dag_id}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.dag.test(**test_kwargs)

    return _run


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Undo what a test's DAG run leaves in os.environ (Airflow exports AIRFLOW_CTX_* in-process)."""
    # A module-scoped fixture's in-process DAG runs may export them before this snapshot: a test
    # starts without another test's task identity.
    for key in [k for k in os.environ if k.startswith("AIRFLOW_CTX_")]:
        del os.environ[key]
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def task_context(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """``task_context(task_id, **extra)``: a minimal context (a FakeTaskInstance, the DAG, the run id) whose
    reports and ledger go under ``tmp_path``."""
    from fakes import fake_context

    monkeypatch.setenv("AIRFLOW__PARITY__REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", str(tmp_path / "ledger"))
    return fake_context


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one Spark session of the test run (local mode starts slowly and the machine is small).

    delta-spark is on it when scripts/setup.sh cached its jars (``delta_conf``): tests that
    need it take ``delta_spark``; the parquet fallback is read with ``path="parquet"``.
    """
    import logging

    from airflow_provider_parity.delta.spark_session import build_session

    # Executors run the Arrow engine (drift profiles) in Python workers: the same interpreter as the tests.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = build_session(
        "local[1]",
        conf={
            "spark.sql.shuffle.partitions": "1",
            "spark.default.parallelism": "1",
            "spark.driver.memory": "1g",
            # Delta rebuilds a table's state in 50 tasks by default: one is enough for test tables.
            "spark.databricks.delta.snapshotPartitions": "1",
            # Managed tables (dbt-spark's) go to a scratch folder, not the working directory.
            "spark.sql.warehouse.dir": str(_HOME / "spark-warehouse"),
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
