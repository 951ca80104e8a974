"""OpenLineage datasets and facets for the provider's operators.

Every import of OpenLineage happens inside a function: the openlineage provider is an
optional extra and the dag-processor must not pay for it. Operators build their
``OperatorLineage`` from these helpers so that naming is the same everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset

SchemaFields = Sequence[tuple[str, str]]
# Optional text fields of an OpenLineage Assertion (openlineage-python >= 1.39).
_ASSERTION_TEXT = ("column", "severity", "name", "description", "expected", "actual")


def namespace_and_name(uri: str) -> tuple[str, str]:
    """Map a storage URI to OpenLineage's (namespace, name), after its naming spec.

    ``s3://bucket/a/b`` -> ``("s3://bucket", "a/b")``; a local path -> ``("file", "/abs/path")``;
    ``postgres://host:5432/db.schema.table`` style URIs keep scheme and authority as namespace.
    """
    parts = urlsplit(uri)
    if parts.scheme in ("", "file") or (len(parts.scheme) == 1 and os.name == "nt"):
        path = parts.path if parts.scheme == "file" else uri
        return "file", os.path.abspath(path)
    name = parts.path.lstrip("/")
    return f"{parts.scheme}://{parts.netloc}", name or parts.netloc


def _dataset_facets(schema: SchemaFields | None, version: str | None,
                    extra: Mapping[str, Any] | None) -> dict[str, Any]:
    from openlineage.client.facet_v2 import dataset_version_dataset, schema_dataset

    facets: dict[str, Any] = {}
    if schema:
        facets["schema"] = schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type=str(kind), ordinal_position=i + 1)
                    for i, (name, kind) in enumerate(schema)]
        )
    if version is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(version))
    facets.update(extra or {})
    return facets


def input_dataset(uri: str, *, version: str | int | None = None, schema: SchemaFields | None = None,
                  facets: Mapping[str, Any] | None = None,
                  input_facets: Mapping[str, Any] | None = None) -> InputDataset:
    """An OpenLineage input dataset with schema, version and quality facets."""
    from openlineage.client.event_v2 import InputDataset

    namespace, name = namespace_and_name(uri)
    return InputDataset(
        namespace=namespace,
        name=name,
        facets=_dataset_facets(schema, None if version is None else str(version), facets),
        inputFacets=dict(input_facets or {}),
    )


def output_dataset(uri: str, *, version: str | int | None = None, schema: SchemaFields | None = None,
                   facets: Mapping[str, Any] | None = None) -> OutputDataset:
    """An OpenLineage output dataset with schema and version facets."""
    from openlineage.client.event_v2 import OutputDataset

    namespace, name = namespace_and_name(uri)
    return OutputDataset(namespace=namespace, name=name,
                         facets=_dataset_facets(schema, None if version is None else str(version), facets))


def operator_lineage(inputs: Iterable[Any] = (), outputs: Iterable[Any] = (),
                     run_facets: Mapping[str, Any] | None = None,
                     job_facets: Mapping[str, Any] | None = None) -> OperatorLineage[Any, Any]:
    from airflow.providers.openlineage.extractors import OperatorLineage

    return OperatorLineage(inputs=list(inputs), outputs=list(outputs),
                           run_facets=dict(run_facets or {}), job_facets=dict(job_facets or {}))


def error_facets(exc: BaseException | None) -> dict[str, Any]:
    """Run facets describing why a task failed (empty when there is no error)."""
    if exc is None:
        return {}
    from openlineage.client.facet_v2 import error_message_run

    return {"errorMessage": error_message_run.ErrorMessageRunFacet(
        message=str(exc), programmingLanguage="python")}


def quality_input_facets(assertions: Iterable[Mapping[str, Any]], *, row_count: int | None = None,
                         column_metrics: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """dataQualityAssertions and dataQualityMetrics input facets.

    Args:
        assertions: mappings with ``assertion``, ``success``, and optionally ``column``,
            ``severity``, ``name``, ``description``, ``expected``, ``actual``.
        row_count: rows checked.
        column_metrics: per column ``nullCount``, ``distinctCount``, ``min``, ``max``, ...
    """
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
    from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as dqm

    metric_fields = {"nullCount", "distinctCount", "sum", "count", "min", "max", "quantiles"}
    return {
        "dataQualityAssertions": dqa.DataQualityAssertionsDatasetFacet(assertions=[
            dqa.Assertion(assertion=str(a["assertion"]), success=bool(a["success"]),
                          **cast(dict[str, Any], {k: str(a[k]) for k in _ASSERTION_TEXT if a.get(k) is not None}))
            for a in assertions
        ]),
        "dataQualityMetrics": dqm.DataQualityMetricsInputDatasetFacet(
            rowCount=row_count,
            columnMetrics={col: dqm.ColumnMetrics(**{k: v for k, v in m.items() if k in metric_fields})
                           for col, m in (column_metrics or {}).items()},
        ),
    }
