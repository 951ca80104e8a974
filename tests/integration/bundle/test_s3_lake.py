"""The reference DAGs on an S3 lake, as docker compose and Helm run them: a real S3 API (moto's server).

The lake is ``s3://<bucket>/lake`` and every reader and writer (the raw extract, dbt's
staging, the contract gate, the Delta writes, sensor, pin, skew gate, training, the serving
log) reaches it through the ``AWS_*`` environment variables alone, no connection. One clean
day must build, train and promote, with the feature table committed on S3.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration
pytest.importorskip("moto")

REPO = Path(__file__).resolve().parents[3]
MODEL = "churn_s3_lake"
BUCKET = "parity-lake"
DAY = date(2026, 5, 1)
FEATURES_ASSET = "churn.customer_features"


@pytest.fixture(scope="module")
def s3_bundle(airflow_db: Path, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The bundle's DAG files in the session's dags folder, its lake on S3, its own model and MLflow store."""
    import boto3

    root = tmp_path_factory.mktemp("s3_bundle")
    (airflow_db / "dags").mkdir(exist_ok=True)
    for dag_file in (REPO / "dags").glob("*.py"):
        shutil.copy(dag_file, airflow_db / "dags" / dag_file.name)
    env = {
        # What docker-compose.yaml gives the Airflow services for MinIO.
        "AWS_ACCESS_KEY_ID": "AKIAPARITYTEST",
        "AWS_SECRET_ACCESS_KEY": "parity-test-secret",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "AWS_CONDITIONAL_PUT": "etag",
        "AIRFLOW__PARITY__LAKE_URI": f"s3://{BUCKET}/lake",
        "AIRFLOW__PARITY__ALERT_FILE": str(root / "alerts.jsonl"),
        "AIRFLOW__PARITY__MODEL_NAME": MODEL,
        "AIRFLOW__PARITY__FRESHNESS_TIMEOUT": "3",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        # moto keeps buckets in memory, per server: a fresh bucket for the module.
        boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=BUCKET)
        _release_asset_name(FEATURES_ASSET)
        yield {"root": root, **env}
        _release_asset_name(FEATURES_ASSET)


def _release_asset_name(name: str) -> None:
    """Let the next DAG sync activate asset ``name`` under another URI.

    The session's one metadata database may hold ``churn.customer_features`` with another
    module's local-lake URI. Airflow keeps one active URI per asset name and marks a task
    whose outlet lost that race inactive (it fails before running); the scheduler's
    orphanage pass swaps them when the DAG files change, but ``dag.test()`` runs no
    scheduler, so this does the swap: it drops the name's active row.
    """
    from airflow.models.asset import AssetActive
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(AssetActive).where(AssetActive.name == name))


@pytest.fixture(scope="module")
def clean_day(s3_bundle: dict[str, Any]) -> Any:
    from churn.scenario import run_day

    return run_day(DAY)


def _keys(prefix: str) -> list[str]:
    import boto3

    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def test_a_clean_day_on_s3_builds_trains_and_promotes(clean_day: Any) -> None:
    from mlflow import MlflowClient

    from airflow_provider_parity.tracking.client import aliases_of

    assert clean_day.features.state == "success", clean_day.features.tasks
    assert set(clean_day.features.tasks.values()) == {"success"}
    assert clean_day.serving["boundary"] == {"passed": True, "failures": []}
    assert clean_day.retraining.state == "success", clean_day.retraining.tasks
    assert set(clean_day.retraining.tasks.values()) == {"success"}
    assert aliases_of(MlflowClient(), MODEL)["champion"] == "1"
    data = json.loads(MlflowClient().get_model_version(MODEL, "1").tags["parity.data"])
    assert [(d["uri"], d["version"]) for d in data] == [(f"s3://{BUCKET}/lake/features/customer_features", 0)]
    assert clean_day.monitor.tasks["serving_skew"] == "success"


def test_the_lake_on_s3_holds_the_raw_extract_the_features_and_the_delta_tables(clean_day: Any) -> None:
    from airflow_provider_parity.delta import read_arrow

    day = DAY.isoformat()
    # The day's annotations (the label gate's input) land with the extract.
    assert _keys("lake/raw/") == [f"lake/raw/annotations/date={day}/part-0.parquet",
                                  f"lake/raw/customers/date={day}/part-0.parquet",
                                  f"lake/raw/orders/date={day}/part-0.parquet"]
    assert _keys("lake/staging/") == [f"lake/staging/customer_features/date={day}.parquet"]
    # The duckdb database stayed local: nothing but the lake's tables on S3.
    assert not _keys("lake/warehouse/")
    delta_log = _keys("lake/features/customer_features/_delta_log/")
    assert "lake/features/customer_features/_delta_log/00000000000000000000.json" in delta_log
    features = read_arrow(f"s3://{BUCKET}/lake/features/customer_features", 0)
    assert features.num_rows > 1000
    assert {str(d) for d in features.column("feature_date").to_pylist()} == {day}
    assert read_arrow(f"s3://{BUCKET}/lake/serving/feature_log").num_rows == clean_day.serving["rows"]


def test_a_day_without_its_raw_extract_on_s3_is_a_one_line_data_error(s3_bundle: dict[str, Any]) -> None:
    from airflow_provider_parity.exceptions import DataError
    from churn.features import build_features

    with pytest.raises(DataError) as info:
        build_features("2026-05-20", s3_bundle["AIRFLOW__PARITY__LAKE_URI"], str(REPO / "dbt_project"))
    message = str(info.value)
    assert "no raw extract for 2026-05-20: run ingest_raw first" in message
    assert f"s3://{BUCKET}/lake/raw/customers/date=2026-05-20/part-0.parquet" in message
    assert "\n" not in message and s3_bundle["AWS_SECRET_ACCESS_KEY"] not in message
