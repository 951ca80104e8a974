"""OpenLineage datasets and facets for the provider's operators.

Every import of OpenLineage happens inside a function: the openlineage provider is an
optional extra and the dag-processor must not pay for it. Operators build their
``OperatorLineage`` from these helpers so that naming is the same everywhere.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from airflow_provider_parity import __version__

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset

    from airflow_provider_parity.outcomes.model import GateOutcome

PRODUCER = f"https://github.com/airflow-provider-parity/airflow-provider-parity/tree/{__version__}"
"""``_producer`` of the facets this provider defines (OpenLineage asks for the code that made them)."""
SCHEMA_BASE = ("https://raw.githubusercontent.com/airflow-provider-parity/airflow-provider-parity/main/"
               "airflow_provider_parity/lineage_schemas/")
"""Where the custom facets' JSON schemas live; the path after ``main/`` is the file in this repository."""

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


_PARTITION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=([^/]+?)(?:\.parquet)?$")


def split_partitions(uri: str) -> tuple[str, dict[str, str]]:
    """A Hive-partitioned path as (its dataset, its partition): ``.../raw/orders/date=2026-01-02/part-0.parquet``
    is the dataset ``.../raw/orders``, partition ``{"date": "2026-01-02"}``. One dataset per table,
    not one per daily file, so lineage graphs stay readable."""
    parts = uri.rstrip("/").split("/")
    for index, part in enumerate(parts):
        if index and _PARTITION.match(part):
            partitions = {m.group(1): m.group(2) for m in map(_PARTITION.match, parts[index:]) if m}
            return "/".join(parts[:index]), partitions
    return uri, {}


def input_dataset(uri: str, *, version: str | int | None = None, schema: SchemaFields | None = None,
                  facets: Mapping[str, Any] | None = None,
                  input_facets: Mapping[str, Any] | None = None) -> InputDataset:
    """An OpenLineage input dataset with schema, version and quality facets (a partition as ``inputSubset``)."""
    from openlineage.client.event_v2 import InputDataset

    base, partitions = split_partitions(uri)
    namespace, name = namespace_and_name(base)
    extra = dict(input_facets or {})
    if partitions:
        extra.update(partition_input_facets(partitions))
    return InputDataset(
        namespace=namespace,
        name=name,
        facets=_dataset_facets(schema, None if version is None else str(version), facets),
        inputFacets=extra,
    )


def output_dataset(uri: str, *, version: str | int | None = None, schema: SchemaFields | None = None,
                   facets: Mapping[str, Any] | None = None) -> OutputDataset:
    """An OpenLineage output dataset with schema and version facets (a partition as ``outputSubset``)."""
    from openlineage.client.event_v2 import OutputDataset

    base, partitions = split_partitions(uri)
    namespace, name = namespace_and_name(base)
    output_facets = _subset_facets(partitions, "output") if partitions else {}
    return OutputDataset(namespace=namespace, name=name,
                         facets=_dataset_facets(schema, None if version is None else str(version), facets),
                         outputFacets=output_facets)


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


@functools.cache
def _facet_types() -> dict[str, type]:
    """The provider's custom run facets, as openlineage-python attrs classes (built on first use:
    the openlineage client is an optional extra)."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class ParityOutcomeRunFacet(RunFacet):  # type: ignore[misc]
        gate: str
        status: str
        blocking: bool
        reason: str
        name: str | None = None
        dataset: str | None = None
        version: int | None = None
        fingerprint: str | None = None
        contract: str | None = None
        as_of: str | None = None
        metrics: dict[str, Any] = attr.field(factory=dict)
        checks: list[dict[str, Any]] = attr.field(factory=list)
        reports: dict[str, str] = attr.field(factory=dict)

        @staticmethod
        def _get_schema() -> str:
            return SCHEMA_BASE + "ParityOutcomeRunFacet.json#/$defs/ParityOutcomeRunFacet"

    @attr.define
    class ParityVerdictRunFacet(RunFacet):  # type: ignore[misc]
        status: str
        gates: dict[str, Any]
        blocked_by: str | None = None
        reason: str | None = None

        @staticmethod
        def _get_schema() -> str:
            return SCHEMA_BASE + "ParityVerdictRunFacet.json#/$defs/ParityVerdictRunFacet"

    return {"outcome": ParityOutcomeRunFacet, "verdict": ParityVerdictRunFacet}


def outcome_run_facet(outcome: GateOutcome) -> Any:
    """The ``parity_outcome`` run facet: the gate's whole outcome (but its run identity, which the event has)."""
    data = outcome.to_dict()
    fields = ("gate", "status", "blocking", "reason", "name", "dataset", "version", "fingerprint", "contract",
              "as_of", "metrics", "checks", "reports")
    return _facet_types()["outcome"](**{k: data[k] for k in fields}, producer=PRODUCER)


def verdict_run_facet(verdict: Mapping[str, Any]) -> Any:
    """The ``parity_verdict`` run facet: a run's status, the blocking gate and why."""
    return _facet_types()["verdict"](status=verdict["status"], gates=dict(verdict["gates"]),
                                     blocked_by=verdict.get("blocked_by"), reason=verdict.get("reason"),
                                     producer=PRODUCER)


def outcome_quality_facets(outcome: GateOutcome, row_count: int | None = None,
                           column_metrics: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """dataQualityAssertions (observed values as ``actual``) and dataQualityMetrics from a gate outcome."""
    rows = row_count if row_count is not None else outcome.metrics.get("rows")
    return quality_input_facets(outcome.lineage_assertions(), row_count=rows if isinstance(rows, int) else None,
                                column_metrics=column_metrics)


def partition_input_facets(partitions: Mapping[str, str]) -> dict[str, Any]:
    """An ``inputSubset`` facet: the partition of a dataset a task read (one dataset, many days)."""
    return _subset_facets(partitions, "input")


def _subset_facets(partitions: Mapping[str, str], side: str) -> dict[str, Any]:
    from openlineage.client.facet_v2 import base_subset_dataset as subset

    condition = subset.PartitionSubsetCondition(
        partitions=[subset.Partition(identifier="/".join(f"{k}={v}" for k, v in partitions.items()),
                                     dimensions=dict(partitions))])
    if side == "input":
        return {"inputSubset": subset.InputSubsetInputDatasetFacet(inputCondition=condition)}
    return {"outputSubset": subset.OutputSubsetOutputDatasetFacet(outputCondition=condition)}
