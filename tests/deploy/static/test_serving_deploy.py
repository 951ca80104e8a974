"""The online service (`parity serve`) in the Helm chart and in docker compose.

The renders are validated against the Kubernetes schemas by test_helm_chart.py (its ``serving-*``
combinations); here: what the service needs to run and be scraped, and nothing secret in sight.
"""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import Render, find

SERVING = {"serving": {"enabled": True, "onlineStore": {"secretName": "parity-online-store", "secretKey": "url"}},
           "mlflow": {"enabled": True}}


@pytest.fixture(scope="module")
def serving_objects(chart_render: Render) -> list[dict[str, Any]]:
    return chart_render(SERVING)


def _pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, "Deployment", "parity-serving")["spec"]["template"]
    return spec


def test_the_service_is_off_by_default(chart_render: Render) -> None:
    assert not [o for o in chart_render({}) if o["metadata"]["name"] == "parity-serving"]


def test_the_deployment_runs_parity_serve_with_probes_and_scrape_annotations(
        serving_objects: list[dict[str, Any]]) -> None:
    pod = _pod(serving_objects)
    container = pod["spec"]["containers"][0]
    command = container["command"]
    assert command[:2] == ["parity", "serve"]
    assert "--host=0.0.0.0" in command and "--port=8000" in command
    assert "--contract=/opt/airflow/contracts/customer_features.yaml" in command
    assert "--model=churn" in command and "--log=s3://parity-lake/churn/serving/feature_log" in command
    assert "--on-boundary-failure=reject" in command and "--workers=1" in command
    assert not [a for a in command if a.startswith("--store")]  # from the environment, never on the command line
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    # Ready only with a champion loaded; started before one exists, it waits instead of crash-looping.
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert "--wait-for-champion" in command and "--wait-for-features" in command
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics" and annotations["prometheus.io/port"] == "8000"
    assert container["resources"]["requests"]["cpu"] and container["resources"]["limits"]["memory"]
    # The contracts come from the chart's ConfigMap: a contract change rolls the service.
    contracts = find(serving_objects, "ConfigMap", "parity-contracts")
    assert annotations["parity.io/contracts-checksum"] == contracts["metadata"]["annotations"]["parity.io/contracts-checksum"]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["contracts"]["configMap"]["name"] == "parity-contracts"


def test_the_store_url_comes_from_a_secret_or_a_plain_value(serving_objects: list[dict[str, Any]],
                                                            chart_render: Render) -> None:
    env = {e["name"]: e for e in _pod(serving_objects)["spec"]["containers"][0]["env"]}
    assert env["PARITY_ONLINE_STORE"] == {"name": "PARITY_ONLINE_STORE", "valueFrom": {
        "secretKeyRef": {"name": "parity-online-store", "key": "url"}}}
    assert env["MLFLOW_TRACKING_URI"]["value"] == "http://parity-mlflow.ml.svc:5000"
    plain = chart_render({"serving": {"enabled": True, "onlineStore": {"url": "redis://redis.ml.svc:6379/0"}},
                          "mlflow": {"trackingUri": "https://mlflow.example.com"}})
    env = {e["name"]: e for e in _pod(plain)["spec"]["containers"][0]["env"]}
    assert env["PARITY_ONLINE_STORE"]["value"] == "redis://redis.ml.svc:6379/0"
    assert env["MLFLOW_TRACKING_URI"]["value"] == "https://mlflow.example.com"
    # Airflow's materialize task writes where the service reads.
    settings = find(plain, "ConfigMap", "parity-env")["data"]
    assert settings["AIRFLOW__PARITY__ONLINE_STORE"] == "redis://redis.ml.svc:6379/0"
    assert "AIRFLOW__PARITY__ONLINE_STORE" not in find(serving_objects, "ConfigMap", "parity-env")["data"]


def test_the_pod_runs_non_root_on_a_read_only_root_filesystem(serving_objects: list[dict[str, Any]]) -> None:
    spec = _pod(serving_objects)["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["automountServiceAccountToken"] is False
    container = spec["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    scratch = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts["/tmp"] in scratch and mounts["/home/airflow"] in scratch
    # The steps' account carries the cloud role that reaches the lake the serving log is written to.
    assert spec["serviceAccountName"] == "parity-steps"


def test_the_service_selects_the_deployments_pods(serving_objects: list[dict[str, Any]]) -> None:
    service = find(serving_objects, "Service", "parity-serving")
    labels = _pod(serving_objects)["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]


# --- docker compose -------------------------------------------------------------------------

def test_compose_runs_the_service_with_its_own_redis_and_a_materialise_step(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    serve, materialize, redis = services["parity-serve"], services["online-materialize"], services["online-store"]
    assert serve["entrypoint"] == ["parity", "serve"] and materialize["entrypoint"] == ["parity", "materialize"]
    assert serve["depends_on"]["online-store"] == {"condition": "service_healthy"}
    assert serve["depends_on"]["online-materialize"] == {"condition": "service_completed_successfully"}
    assert serve["depends_on"]["mlflow"] == {"condition": "service_healthy"}
    assert "/healthz" in " ".join(serve["healthcheck"]["test"])
    assert "PONG" in " ".join(redis["healthcheck"]["test"])
    # The store URL (with its password) only in the environment; the service, the one-shot and
    # Airflow's materialize task all use the same store.
    store = serve["environment"]["PARITY_ONLINE_STORE"]
    assert store.startswith("redis://:") and store.endswith("@online-store:6379/0")
    assert materialize["environment"]["PARITY_ONLINE_STORE"] == store
    assert services["airflow-worker"]["environment"]["AIRFLOW__PARITY__ONLINE_STORE"] == store
    assert not [a for a in serve["command"] + materialize["command"] if "redis://" in a]
    # The log goes where the monitor reads it: <lake_uri>/serving/feature_log.
    lake = services["airflow-worker"]["environment"]["AIRFLOW__PARITY__LAKE_URI"]
    log = serve["command"][serve["command"].index("--log") + 1]
    assert log == f"{lake}/serving/feature_log"
    assert materialize["command"][0] == f"{lake}/features/customer_features"
