"""Canary manifests validate against the vendored KServe and Istio CRD schemas; the watch decides ramp or abort."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.outcomes.model import Check
from airflow_provider_parity.tracking.canary import istio_virtual_service, kserve_inference_service, next_step
from airflow_provider_parity.tracking.watch import WatchVerdict

CRDS = Path(__file__).parent / "crds"
# The group/version and kind each vendored schema was taken from.
API = {"kserve-inferenceservice-v1beta1.schema.json": ("serving.kserve.io/v1beta1", "InferenceService"),
       "istio-virtualservice-v1.schema.json": ("networking.istio.io/v1", "VirtualService")}


def _strict(schema: Any) -> Any:
    """The schema as the API server's strict field validation applies it: unknown fields are errors
    wherever the CRD lists properties and does not preserve unknown fields."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items() if k != "x-vendored"}
        if "properties" in out and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def _validate(manifest: dict[str, Any], schema_file: str) -> None:
    import jsonschema

    schema = _strict(json.loads((CRDS / schema_file).read_text()))
    # apiVersion, kind and metadata are the API server's own (a CRD schema need not list them).
    schema.pop("additionalProperties", None)
    jsonschema.Draft7Validator(schema).validate(json.loads(json.dumps(manifest)))
    assert (manifest["apiVersion"], manifest["kind"]) == API[schema_file]


@pytest.mark.parametrize("percent", [0, 10, 100])
def test_the_kserve_inference_service_validates(percent: int) -> None:
    manifest = kserve_inference_service("churn", namespace="models", storage_uri="s3://models/churn/2",
                                        canary_percent=percent, version="2")
    _validate(manifest, "kserve-inferenceservice-v1beta1.schema.json")
    assert manifest["spec"]["predictor"]["canaryTrafficPercent"] == percent


@pytest.mark.parametrize("percent", [0, 25, 100])
def test_the_istio_virtual_service_validates_and_splits_the_traffic(percent: int) -> None:
    manifest = istio_virtual_service("churn", host="churn.models.svc.cluster.local", stable="churn-v1",
                                     canary="churn-v2", canary_percent=percent, port=8080)
    _validate(manifest, "istio-virtualservice-v1.schema.json")
    [route] = manifest["spec"]["http"]
    assert [r["weight"] for r in route["route"]] == [100 - percent, percent]


def test_the_schemas_reject_what_a_cluster_would() -> None:
    import jsonschema

    bad = kserve_inference_service("churn", storage_uri="s3://m/2", canary_percent=10)
    bad["spec"]["predictor"]["canaryTrafficPercent"] = "10%"
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'integer'"):
        _validate(bad, "kserve-inferenceservice-v1beta1.schema.json")
    typo = istio_virtual_service("churn", host="h", stable="a", canary="b", canary_percent=10)
    typo["spec"]["http"][0]["route"][0]["wieght"] = 90
    with pytest.raises(jsonschema.ValidationError, match="wieght"):
        _validate(typo, "istio-virtualservice-v1.schema.json")


@pytest.mark.parametrize(("call", "message"), [
    (lambda: kserve_inference_service("Churn_Model", storage_uri="s3://m", canary_percent=10), "not a valid Kubernetes name"),
    (lambda: kserve_inference_service("churn", storage_uri="", canary_percent=10), "storage URI"),
    (lambda: kserve_inference_service("churn", storage_uri="s3://m", canary_percent=101), "in [0, 100]"),
    (lambda: istio_virtual_service("churn", host="h", stable="a", canary="a", canary_percent=10), "two different"),
])
def test_bad_manifest_input_is_a_configuration_error(call: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as info:
        call()
    assert message in str(info.value)


HELD = WatchVerdict(False, "3 guardrail(s) held", ())
BREACHED = WatchVerdict(True, "kpi(conversion): observed 0.1 -> 0.07", (Check("kpi(conversion)", False),))


@pytest.mark.parametrize(("verdict", "current", "action", "percent"), [
    (HELD, 10, "ramp", 25), (HELD, 25, "ramp", 50), (HELD, 30, "ramp", 50), (HELD, 50, "ramp", 100),
    (HELD, 100, "complete", 100), (BREACHED, 10, "abort", 0), (BREACHED, 50, "abort", 0),
])
def test_the_watch_decides_ramp_or_abort(verdict: WatchVerdict, current: int, action: str, percent: int) -> None:
    step = next_step(verdict, current)
    assert (step.action, step.percent) == (action, percent)
    assert verdict.reason in step.reason and verdict.canary_action == ("abort" if verdict.breached else "ramp")


@pytest.mark.parametrize("ramp", [(), (10, 50), (50, 25, 100), (0, 100)])
def test_a_ramp_must_increase_to_100(ramp: tuple[int, ...]) -> None:
    with pytest.raises(ConfigurationError, match="must increase within 1..100 and end at 100"):
        next_step(HELD, 10, ramp)
