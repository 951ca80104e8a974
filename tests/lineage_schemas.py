"""Validate OpenLineage events against the official spec's JSON schemas and this provider's facet schemas.

The spec's schemas (every version, stored by their ``$id``) are in ``../shared/openlineage-spec/`` beside
the checkout; the provider's own facet schemas are in ``airflow_provider_parity/lineage_schemas/``, named
by the ``_schemaURL`` its facets carry. An event validates when the event itself matches the spec version
it names, and every facet in it (run, job, dataset, input and output facets) matches the schema its
``_schemaURL`` names.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO.parent / "shared" / "openlineage-spec" / "by-id"
OWN = REPO / "airflow_provider_parity" / "lineage_schemas"


@functools.cache
def _registry() -> Any:
    from referencing import Registry, Resource

    if not SPEC.is_dir():  # pragma: no cover - the CI layout always has it
        raise FileNotFoundError(f"the OpenLineage spec schemas are expected at {SPEC}")
    resources = []
    for path in [*SPEC.rglob("*.json"), *OWN.glob("*.json")]:
        document = json.loads(path.read_text())
        if "$id" in document:
            resources.append((document["$id"], Resource.from_contents(document)))
    return Registry().with_resources(resources)


def _validate(instance: Any, url: str) -> None:
    from jsonschema import Draft202012Validator

    # A reference, not the fragment's contents: its own "#/$defs/..." references then resolve
    # against the document it lives in.
    Draft202012Validator({"$ref": url}, registry=_registry()).validate(instance)


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for where, holder in (("run", event.get("run", {})), ("job", event.get("job", {}))):
        for name, facet in (holder.get("facets") or {}).items():
            yield f"{where}.{name}", facet
    for side in ("inputs", "outputs"):
        for dataset in event.get(side) or []:
            for group in ("facets", "inputFacets", "outputFacets"):
                for name, facet in (dataset.get(group) or {}).items():
                    yield f"{side}[{dataset['name']}].{group}.{name}", facet


def validate_event(event: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` (with the facet's path in the note) when the event is invalid."""
    _validate(event, event["schemaURL"])
    for where, facet in _facets(event):
        url = facet.get("_schemaURL")
        if not url:
            raise AssertionError(f"{where}: facet without _schemaURL")
        try:
            _validate(facet, url)
        except Exception as exc:
            raise AssertionError(f"{where} does not match {url}: {str(exc).splitlines()[0]}") from exc


def operator_event(lineage: Any, job: str, state: str = "COMPLETE") -> dict[str, Any]:
    """An operator's ``OperatorLineage`` as the OpenLineage listener sends it (JSON), validated against the spec."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.serde import Serde
    from openlineage.client.uuid import generate_new_uuid

    event = RunEvent(eventType=RunState(state), eventTime="2026-11-30T00:00:00+00:00",
                     run=Run(runId=str(generate_new_uuid()), facets=lineage.run_facets),
                     job=Job(namespace="parity", name=job, facets=lineage.job_facets),
                     producer="https://github.com/airflow-provider-parity/", inputs=lineage.inputs,
                     outputs=lineage.outputs)
    payload: dict[str, Any] = json.loads(Serde.to_json(event))
    validate_event(payload)
    return payload


def own_facets(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The facets this provider defines (``parity_*``), by name."""
    return {name.split(".")[-1]: facet for name, facet in _facets(event) if name.split(".")[-1].startswith("parity_")}
