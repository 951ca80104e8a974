"""OpenLineage from the Delta operators and the sensor: datasets, version, schema, quality, errors."""

from __future__ import annotations

import pyarrow as pa
from deltalake import write_deltalake

from airflow_provider_parity.delta import resolve_snapshot
from airflow_provider_parity.delta.freshness import check_freshness
from airflow_provider_parity.operators.delta import DeltaCompletenessOperator, DeltaWriteOperator
from airflow_provider_parity.sensors.delta import DeltaFreshnessSensor


def _table(tmp_path) -> str:  # type: ignore[no-untyped-def]
    uri = str(tmp_path / "t")
    write_deltalake(uri, pa.table({"id": [1, 2], "name": ["a", None]}))
    return uri


def test_write_operator_lineage_names_the_written_version(tmp_path) -> None:
    uri = _table(tmp_path)
    operator = DeltaWriteOperator(task_id="write", table=uri, data=lambda context: None)
    assert [(d.namespace, d.name) for d in operator.get_openlineage_facets_on_start().outputs] == [("file", uri)]
    operator._written = resolve_snapshot(uri)
    [output] = operator.get_openlineage_facets_on_complete(None).outputs
    assert output.facets["version"].datasetVersion == "0"
    assert [f.name for f in output.facets["schema"].fields] == ["id", "name"]
    operator._error = ValueError("bad data")
    assert operator.get_openlineage_facets_on_failure(None).run_facets["errorMessage"].message == "bad data"


def test_completeness_gate_blocks_and_its_lineage_carries_the_assertions(tmp_path, task_context) -> None:
    import pytest

    from airflow_provider_parity.compat import AirflowFailException

    uri = _table(tmp_path)
    operator = DeltaCompletenessOperator(task_id="gate", table=uri, minimums={"name": 0.9})
    with pytest.raises(AirflowFailException, match=r"completeness\(name\): observed non-null ratio 0.5000, expected >= 0.9"):
        operator.execute(task_context("gate"))
    lineage = operator.get_openlineage_facets_on_failure(None)
    [dataset] = lineage.inputs
    [assertion] = dataset.inputFacets["dataQualityAssertions"].assertions
    assert (assertion.assertion, assertion.column, assertion.success) == ("completeness(name)", "name", False)
    assert assertion.actual == "non-null ratio 0.5000"
    assert dataset.inputFacets["dataQualityMetrics"].rowCount == 2
    assert dataset.facets["version"].datasetVersion == "0"
    assert "completeness(name)" in lineage.run_facets["errorMessage"].message
    assert lineage.run_facets["parity_outcome"].status == "failed"


def test_sensor_lineage_names_the_observed_version(tmp_path) -> None:
    uri = _table(tmp_path)
    sensor = DeltaFreshnessSensor(task_id="fresh", table=uri)
    assert [d.name for d in sensor.get_openlineage_facets_on_start().inputs] == [uri]
    sensor._last = check_freshness(uri, reference="2024-01-01T00:00:00Z")
    [dataset] = sensor.get_openlineage_facets_on_complete(None).inputs
    assert dataset.facets["version"].datasetVersion == "0"


def test_write_operator_needs_exactly_one_data_source(tmp_path) -> None:
    import pytest

    with pytest.raises(ValueError, match="exactly one of data="):
        DeltaWriteOperator(task_id="w", table=str(tmp_path), data=lambda c: None, data_path="x.parquet")
