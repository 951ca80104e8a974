"""The churn dbt project built by dbt-spark (method ``session``) on the run's Spark session with delta-spark:
Delta tables, the contract's Spark schema enforced by dbt, every generated test passing on a clean day."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from airflow_provider_parity.contracts.dbt import write_dbt
from airflow_provider_parity.contracts.rules import compile_rules
from airflow_provider_parity.transform.dbt_build import run_dbt_build
from churn.datagen import raw_paths
from churn.features import DBT_SCHEMA_OPTIONS, ingest_raw, parse_day

pytestmark = [pytest.mark.integration, pytest.mark.spark]

REPO = Path(__file__).resolve().parents[3]
DAY = datetime.now(UTC).date().isoformat()  # dbt's freshness test compares with the warehouse's clock


@pytest.fixture(scope="module")
def spark_build(delta_spark, example_contract, tmp_path_factory):  # type: ignore[no-untyped-def]
    lake = str(tmp_path_factory.mktemp("lake"))
    ingest_raw(DAY, lake, n_customers=200)
    # The bundle's project with the contract compiled for Spark (to_dbt_schema(adapter="spark")).
    project = tmp_path_factory.mktemp("dbt") / "churn"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    options = {**DBT_SCHEMA_OPTIONS, "adapter": "spark"}
    write_dbt([example_contract], project, **options)
    end_of_day = datetime.combine(parse_day(DAY) + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    result = run_dbt_build(project, target="spark",
                           vars={"feature_date": DAY, "lake_uri": lake, "parity_as_of": end_of_day.isoformat()})
    return lake, result


def test_dbt_spark_builds_the_project_as_delta_tables_and_every_test_passes(spark_build, delta_spark,
                                                                            example_contract) -> None:
    lake, result = spark_build
    assert result.success and (result.failures, result.errors) == (0, 0), result.summary()
    assert sum(n.resource_type == "test" for n in result.nodes) == len(compile_rules(example_contract, "training"))
    relation = result.node("customer_features").relation
    detail = delta_spark.sql(f"DESCRIBE DETAIL {relation}").collect()[0]
    assert detail.format == "delta"
    customers = pq.read_metadata(raw_paths(lake, parse_day(DAY))["customers"]).num_rows
    assert delta_spark.table(relation).count() == customers


def test_the_spark_table_keeps_the_contract_on_every_engine(spark_build, delta_spark, example_contract) -> None:
    from airflow_provider_parity.delta import read_arrow
    from airflow_provider_parity.delta.storage import normalize_table_uri
    from airflow_provider_parity.validation.validate import open_data, validate_data, validate_table

    _, result = spark_build
    location = delta_spark.sql(f"DESCRIBE DETAIL {result.node('customer_features').relation}").collect()[0].location
    table = read_arrow(location)  # delta-rs reads what delta-spark wrote (at Spark's file:/ location)
    assert table.column_names == example_contract.column_names
    as_of = datetime.now(UTC)
    by_duckdb = validate_table(example_contract, table, source=location, engine="duckdb", now=as_of)
    path = normalize_table_uri(location)
    by_spark = validate_data(example_contract, open_data(path, engine="spark"), engine="spark", now=as_of)
    assert by_duckdb.success and by_spark.success, (by_duckdb.failures, by_spark.failures)
    assert by_spark.row_count == by_duckdb.row_count == table.num_rows
