"""Canary rollouts: the traffic-split manifests a deployer applies, and the ramp-or-abort decision.

A promotion can hand the new version to a canary instead of all traffic at once: a KServe
``InferenceService`` whose predictor carries ``canaryTrafficPercent`` (KServe keeps the previous
revision for the rest), or an Istio ``VirtualService`` splitting one host between a stable and a
canary destination. The manifests are plain dicts (``yaml.safe_dump`` them; no Kubernetes client
here), checked against the vendored CRD schemas in the tests. :func:`next_step` turns the watch's
analysis (:class:`~airflow_provider_parity.tracking.watch.WatchVerdict`) into the next traffic share:
a breach aborts (0%), a clean window ramps to the next step, the last step completes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.exceptions import ConfigurationError

if TYPE_CHECKING:
    from airflow_provider_parity.tracking.watch import WatchVerdict

RAMP = (10, 25, 50, 100)
# RFC 1123 labels: what Kubernetes accepts as a resource name or namespace.
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def _name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _DNS_LABEL.match(value):
        raise ConfigurationError(f"{kind} {value!r} is not a valid Kubernetes name (lowercase letters, digits, '-', "
                                 "at most 63 characters)")
    return value


def _percent(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ConfigurationError(f"canary traffic must be an integer percentage in [0, 100], got {value!r}")
    return value


def kserve_inference_service(name: str, *, storage_uri: str, canary_percent: int, namespace: str = "default",
                             model_format: str = "mlflow", version: str | None = None,
                             min_replicas: int = 1) -> dict[str, Any]:
    """A KServe ``InferenceService`` (``serving.kserve.io/v1beta1``) rolling ``storage_uri`` out as a canary.

    Applying it over the running service makes the new revision take ``canary_percent`` of the traffic
    (the previous ready revision keeps the rest); 100 completes the rollout, 0 sends everything back.

    Raises:
        ConfigurationError: a name that Kubernetes would refuse, an empty storage URI, a share outside 0..100.
    """
    if not storage_uri:
        raise ConfigurationError("the canary needs the model's storage URI")
    labels = {"app.kubernetes.io/managed-by": "airflow-provider-parity"}
    if version is not None:
        labels["parity.model-version"] = str(version)
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": _name("name", name), "namespace": _name("namespace", namespace), "labels": labels},
        "spec": {"predictor": {
            "canaryTrafficPercent": _percent(canary_percent),
            "minReplicas": min_replicas,
            "model": {"modelFormat": {"name": model_format}, "storageUri": storage_uri},
        }},
    }


def istio_virtual_service(name: str, *, host: str, stable: str, canary: str, canary_percent: int,
                          namespace: str = "default", port: int | None = None) -> dict[str, Any]:
    """An Istio ``VirtualService`` (``networking.istio.io/v1``) sending ``canary_percent`` of ``host`` to
    the ``canary`` destination host and the rest to ``stable``.

    Raises:
        ConfigurationError: a bad name, empty hosts, the same host twice or a share outside 0..100.
    """
    if not host or not stable or not canary or stable == canary:
        raise ConfigurationError(f"the split needs a host and two different destinations, got {host!r}, "
                                 f"{stable!r} and {canary!r}")
    share = _percent(canary_percent)

    def destination(target: str, weight: int) -> dict[str, Any]:
        where: dict[str, Any] = {"host": target}
        if port is not None:
            where["port"] = {"number": port}
        return {"destination": where, "weight": weight}

    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": _name("name", name), "namespace": _name("namespace", namespace)},
        "spec": {"hosts": [host], "http": [{"name": "parity-canary",
                                            "route": [destination(stable, 100 - share), destination(canary, share)]}]},
    }


@dataclass(frozen=True)
class CanaryStep:
    action: Literal["ramp", "abort", "complete"]
    percent: int
    reason: str


def next_step(verdict: WatchVerdict, current: int, ramp: Sequence[int] = RAMP) -> CanaryStep:
    """The canary's next traffic share from the watch's analysis of the current step.

    A breach aborts (0%: all traffic back to the stable model); otherwise the next step of ``ramp``
    above ``current``, or ``complete`` at 100%.

    Raises:
        ConfigurationError: a ramp that is not increasing within 1..100 or does not end at 100.
    """
    steps = list(ramp)
    if not steps or steps[-1] != 100 or any(not a < b for a, b in zip([0, *steps], steps, strict=False)):
        raise ConfigurationError(f"a canary ramp must increase within 1..100 and end at 100, got {steps}")
    _percent(current)
    if verdict.breached:
        return CanaryStep("abort", 0, f"abort at {current}%: {verdict.reason}")
    following = [s for s in steps if s > current]
    if not following:
        return CanaryStep("complete", 100, f"complete: {verdict.reason}")
    return CanaryStep("ramp", following[0], f"ramp {current}% -> {following[0]}%: {verdict.reason}")
