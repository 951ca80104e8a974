"""CanaryManifestOperator: after a promotion, the traffic-split manifest a deployer applies for a canary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.exceptions import OperatorArgumentError
from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.mlflow import _MlflowOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

XCOM_MANIFEST = "canary_manifest"


class CanaryManifestOperator(GateMixin, _MlflowOperator):
    """Write the canary manifest of a model version (default: the champion) as YAML beside the run's reports.

    ``kserve``: an ``InferenceService`` whose predictor serves the version's artifacts (its MLflow
    ``source``, or ``storage_uri``) with ``canaryTrafficPercent``; ``istio``: a ``VirtualService``
    sending ``percent`` of ``host`` to ``canary_host`` and the rest to ``stable_host``. The manifest's
    URI is the task's XCom ``canary_manifest``; applying it is the deployer's (GitOps, ``kubectl``).

    Args:
        kind: ``kserve`` or ``istio``.
        percent: the canary's share of traffic (templated).
        name / namespace: the Kubernetes resource (default: the model name, ``default``).
        version: the model version (templated; default the ``champion`` alias).
        storage_uri: where KServe loads the model from (default: the version's MLflow source).
        host / stable_host / canary_host: the Istio split.
    """

    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "percent", "version", "storage_uri")
    ui_color = "#e8f0e8"

    def __init__(self, *, kind: Literal["kserve", "istio"], percent: int | str, name: str | None = None,
                 namespace: str = "default", version: str | None = None, storage_uri: str | None = None,
                 host: str | None = None, stable_host: str | None = None, canary_host: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kind not in ("kserve", "istio"):
            raise OperatorArgumentError(f"CanaryManifestOperator: kind must be 'kserve' or 'istio', got {kind!r}")
        self.kind, self.percent, self.resource = kind, percent, name
        self.namespace, self.version, self.storage_uri = namespace, version, storage_uri
        self.host, self.stable_host, self.canary_host = host, stable_host, canary_host

    def execute(self, context: Context) -> dict[str, Any]:
        import yaml

        from airflow_provider_parity.tracking.canary import istio_virtual_service, kserve_inference_service

        with self._session() as client:
            version = str(self.version) if self.version not in (None, "", "None") else None
            if version is None:
                from airflow_provider_parity.tracking import keys
                from airflow_provider_parity.tracking.client import aliases_of

                version = aliases_of(client, self.model_name).get(keys.CHAMPION)
            if version is None:
                raise OperatorArgumentError(f"{self.model_name} has no champion and no version was given")
            source = str(self.storage_uri or client.get_model_version(self.model_name, version).source or "")
            name = self.resource or self.model_name.lower().replace("_", "-")
            percent = int(self.percent)
            manifest = (kserve_inference_service(name, storage_uri=source, canary_percent=percent,
                                                 namespace=self.namespace, version=version)
                        if self.kind == "kserve" else
                        istio_virtual_service(name, host=self.host or "", stable=self.stable_host or "",
                                              canary=self.canary_host or "", canary_percent=percent,
                                              namespace=self.namespace))
        uri = self.report_uri(context, f"-{self.kind}.yaml")
        self.artifacts.write_text(uri, yaml.safe_dump(manifest, sort_keys=False))
        context["ti"].xcom_push(key=XCOM_MANIFEST, value=uri)
        self.log.info("canary manifest for %s v%s (%s%%): %s", self.model_name, version, percent, uri)
        return {"uri": uri, "version": version, "manifest": manifest}
