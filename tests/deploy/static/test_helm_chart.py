"""The Helm chart: lint, renders of the main value combinations, schema, contracts, wiring."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    CHART_DIR,
    NAMESPACE,
    REPO,
    S3_EXAMPLE_VALUES,
    Helm,
    HelmFailure,
    Render,
    deep_merge,
    documents,
    find,
    kubernetes_versions,
    step_pod,
    validate_kubernetes_object,
)

# The value combinations a platform team installs (over values.yaml).
COMBINATIONS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "kubernetes-executor": {"airflow": {"executor": "KubernetesExecutor"}},
    "celery-executor": {"airflow": {"executor": "CeleryExecutor"}},
    "celery-external-broker": {
        "airflow": {"executor": "CeleryExecutor", "redis": {"enabled": False},
                    "data": {"brokerUrlSecretName": "parity-airflow-broker"}},
    },
    "mlflow-enabled": {"mlflow": {"enabled": True}},
    "mlflow-enabled-minio": {
        "mlflow": {"enabled": True, "artifacts": {"s3EndpointUrl": "http://minio.storage:9000",
                                                  "credentialsSecretName": "parity-mlflow-s3"}},
    },
    "mlflow-disabled": {"mlflow": {"enabled": False}},
    "airflow-disabled": {"airflow": {"enabled": False}},
    "local-execution": {"parity": {"executionMode": "local", "extraSettings": {"dbt_target": "postgres"}},
                        "openlineage": {"enabled": False}},
    "s3-example": yaml.safe_load(S3_EXAMPLE_VALUES.read_text()),
    "serving-enabled": {"serving": {"enabled": True, "onlineStore": {"secretName": "parity-online-store"}},
                        "mlflow": {"enabled": True}},
    "serving-url": {"serving": {"enabled": True, "onlineStore": {"url": "redis://redis.ml.svc:6379/0"}},
                    "mlflow": {"trackingUri": "https://mlflow.internal.example.com"}},
}

# Variables whose values must never be literal in a rendered object (connections carry credentials).
SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "ACCESS_KEY", "FERNET")
SECRET_PREFIXES = ("AIRFLOW_CONN_", "OPENLINEAGE__TRANSPORT__AUTH")


@pytest.fixture(scope="module")
def renders(chart_render: Render) -> dict[str, list[dict[str, Any]]]:
    return {name: chart_render(values) for name, values in COMBINATIONS.items()}


def test_lint_has_no_error_and_only_the_missing_airflow_dependency_as_warning(chart_helm: Helm) -> None:
    for values in ({}, COMBINATIONS["s3-example"], COMBINATIONS["mlflow-enabled"]):
        report = chart_helm.lint(CHART_DIR, values, kube_version="v1.30.0")
        assert report["errors"] == []
        warnings = [m["error"] for m in report["messages"] if m["severity"] >= 2]
        assert warnings == ["chart directory is missing these dependencies: airflow"]


def test_chart_depends_on_the_official_airflow_chart_behind_a_condition() -> None:
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    (dependency,) = chart["dependencies"]
    assert dependency["name"] == "airflow"
    assert dependency["repository"] == "https://airflow.apache.org"
    assert dependency["condition"] == "airflow.enabled"


def test_chart_versions_follow_the_provider_and_the_lock(chart_default_values: dict[str, Any]) -> None:
    import airflow_provider_parity

    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    assert chart["appVersion"] == airflow_provider_parity.__version__
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    airflow_versions = {p["version"] for p in lock["package"] if p["name"] == "apache-airflow"}
    assert chart_default_values["airflow"]["airflowVersion"] in airflow_versions


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
@pytest.mark.parametrize("version", kubernetes_versions())
def test_every_rendered_object_is_a_valid_kubernetes_object(
    renders: dict[str, list[dict[str, Any]]], combination: str, version: str
) -> None:
    objects = renders[combination]
    assert objects
    for obj in objects:
        validate_kubernetes_object(obj, version)
    # The step pod template is a manifest inside a ConfigMap: it is checked as the Pod it becomes.
    validate_kubernetes_object(step_pod(objects), version)


def test_the_validator_rejects_a_broken_object(renders: dict[str, list[dict[str, Any]]]) -> None:
    """The schema check above is not vacuous: a typo in a pod spec fails it."""
    import kubernetes_validate

    pod = step_pod(renders["defaults"])
    pod["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_kubernetes_object(pod, kubernetes_versions()[-1])


def test_which_objects_each_combination_renders(renders: dict[str, list[dict[str, Any]]]) -> None:
    def kinds(name: str) -> set[tuple[str, str]]:
        return {(o["kind"], o["metadata"]["name"]) for o in renders[name]}

    base = {("ConfigMap", "parity-env"), ("ConfigMap", "parity-contracts"), ("ConfigMap", "parity-pod-template"),
            ("ServiceAccount", "parity-steps")}
    mlflow = {("Deployment", "parity-mlflow"), ("Service", "parity-mlflow"), ("ServiceAccount", "parity-mlflow")}
    assert kinds("defaults") == base
    assert kinds("mlflow-disabled") == base
    assert kinds("airflow-disabled") == base
    assert kinds("mlflow-enabled") == base | mlflow
    serving = {("Deployment", "parity-serving"), ("Service", "parity-serving")}
    assert kinds("serving-enabled") == base | mlflow | serving
    assert kinds("serving-url") == base | serving


def test_no_secret_object_and_no_literal_secret_is_rendered(renders: dict[str, list[dict[str, Any]]]) -> None:
    for combination, objects in renders.items():
        assert not [o for o in objects if o["kind"] == "Secret"], combination
        for obj in objects:
            for name, value in _environment(obj):
                if any(word in name.upper() for word in SECRET_WORDS) or name.startswith(SECRET_PREFIXES):
                    assert value is None, f"{combination}: {obj['kind']} {obj['metadata']['name']} sets {name} literally"


def test_mlflow_reads_its_credentials_from_existing_secrets(renders: dict[str, list[dict[str, Any]]]) -> None:
    deployment = find(renders["mlflow-enabled-minio"], "Deployment", "parity-mlflow")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["MLFLOW_BACKEND_STORE_URI"]["valueFrom"]["secretKeyRef"] == {"name": "parity-mlflow-backend", "key": "uri"}
    assert env["MLFLOW_ARTIFACTS_DESTINATION"]["value"].startswith("s3://")
    assert env["MLFLOW_S3_ENDPOINT_URL"]["value"] == "http://minio.storage:9000"
    assert container["envFrom"] == [{"secretRef": {"name": "parity-mlflow-s3"}}]
    # MLflow answers only the Host headers it is told; its Service's names must be among them.
    hosts = env["MLFLOW_SERVER_ALLOWED_HOSTS"]["value"].split(",")
    assert {"parity-mlflow:5000", f"parity-mlflow.{NAMESPACE}.svc:5000"} <= set(hosts)
    service = find(renders["mlflow-enabled"], "Service", "parity-mlflow")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_pods_run_as_non_root_with_a_read_only_root_filesystem_where_airflow_allows(
        renders: dict[str, list[dict[str, Any]]], chart_default_values: dict[str, Any]) -> None:
    """The chart's own pods (MLflow, the step pod template) run non-root on a read-only root filesystem with
    writable /tmp and HOME; Airflow's pods run non-root (Airflow writes under AIRFLOW_HOME, so its root
    filesystem stays writable)."""
    import yaml

    deployment = find(renders["mlflow-enabled"], "Deployment", "parity-mlflow")["spec"]["template"]["spec"]
    template = yaml.safe_load(find(renders["defaults"], "ConfigMap", "parity-pod-template")["data"]["step.yaml"])["spec"]
    for spec in (deployment, template):
        assert spec["securityContext"]["runAsNonRoot"] is True
        container = spec["containers"][0]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert {"/tmp", "/home/airflow"} <= mounts
    airflow = chart_default_values["airflow"]["securityContexts"]
    assert airflow["pod"]["runAsNonRoot"] is True and airflow["containers"]["allowPrivilegeEscalation"] is False


def test_settings_reach_airflow_and_the_step_pods(renders: dict[str, list[dict[str, Any]]]) -> None:
    objects = renders["mlflow-enabled"]
    settings = find(objects, "ConfigMap", "parity-env")["data"]
    pod = step_pod(objects)
    base = pod["spec"]["containers"][0]
    assert base["name"] == "base"  # the container KubernetesPodOperator runs its command in
    assert settings["AIRFLOW__PARITY__EXECUTION_MODE"] == "kubernetes"
    assert settings["AIRFLOW__PARITY__POD_IMAGE"] == base["image"] == "registry.example.com/airflow-provider-parity:0.1.0"
    assert settings["AIRFLOW__PARITY__POD_NAMESPACE"] == NAMESPACE
    assert settings["AIRFLOW__PARITY__POD_TEMPLATE_FILE"] == "/opt/airflow/pod_templates/step.yaml"
    assert settings["MLFLOW_TRACKING_URI"] == f"http://parity-mlflow.{NAMESPACE}.svc:5000"
    bundles = yaml.safe_load(settings["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"])
    assert bundles == [{"name": "parity", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                        "kwargs": {"path": "/opt/airflow/dags"}}]
    transport = yaml.safe_load(settings["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert transport["type"] == "http" and transport["url"].startswith("http://marquez")
    assert {"configMapRef": {"name": "parity-env"}} in base["envFrom"]
    assert {"secretRef": {"name": "parity-connections"}} in base["envFrom"]
    assert pod["spec"]["serviceAccountName"] == "parity-steps"
    mounts = {m["name"]: m for m in base["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert mounts["contracts"]["mountPath"] == settings["AIRFLOW__PARITY__CONTRACTS_DIR"] == "/opt/airflow/contracts"
    assert volumes["contracts"]["configMap"]["name"] == "parity-contracts"


def test_the_s3_example_uses_the_existing_mlflow_and_the_pod_role(renders: dict[str, list[dict[str, Any]]]) -> None:
    objects = renders["s3-example"]
    settings = find(objects, "ConfigMap", "parity-env")["data"]
    assert settings["MLFLOW_TRACKING_URI"] == "https://mlflow.internal.example.com"
    assert settings["AIRFLOW__PARITY__MLFLOW_CONN_ID"] == "mlflow_default"
    assert settings["AIRFLOW__PARITY__LAKE_URI"].startswith("s3://")
    assert not [o for o in objects if o["metadata"]["name"] == "parity-mlflow"]
    account = find(objects, "ServiceAccount", "parity-steps")
    assert "eks.amazonaws.com/role-arn" in account["metadata"]["annotations"]
    pod = step_pod(objects)
    assert pod["spec"]["containers"][0]["image"].endswith("/airflow-provider-parity:0.1.0")
    assert pod["spec"]["nodeSelector"] == {"workload": "batch"}


def test_airflow_values_point_at_this_charts_objects(renders: dict[str, list[dict[str, Any]]]) -> None:
    """The airflow block names this chart's ConfigMaps and Secrets literally: they must match."""
    for combination in ("defaults", "s3-example"):
        values = deep_merge(yaml.safe_load((CHART_DIR / "values.yaml").read_text()), COMBINATIONS[combination])
        objects = renders[combination]
        airflow = values["airflow"]
        env_from = yaml.safe_load(airflow["extraEnvFrom"])
        assert {"configMapRef": {"name": "parity-env"}} in env_from
        for secret in values["connections"]["secretNames"]:
            assert {"secretRef": {"name": secret}} in env_from, combination
        config_maps = {v["name"]: v["configMap"]["name"] for v in airflow["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in airflow["volumeMounts"]}
        contracts = find(objects, "ConfigMap", config_maps["parity-contracts"])
        assert contracts["metadata"]["labels"]["app.kubernetes.io/component"] == "contracts"
        assert mounts["parity-contracts"] == values["contracts"]["mountPath"]
        template = find(objects, "ConfigMap", config_maps["parity-pod-template"])
        settings = find(objects, "ConfigMap", "parity-env")["data"]
        template_file = Path(settings["AIRFLOW__PARITY__POD_TEMPLATE_FILE"])
        assert str(template_file.parent) == mounts["parity-pod-template"]
        assert template_file.name in template["data"]
        # The Airflow chart runs the bundle image, from existing Secrets only, without a DAG volume.
        assert airflow["postgresql"]["enabled"] is False
        assert airflow["data"]["metadataSecretName"]
        assert airflow["dags"]["gitSync"]["enabled"] is False and airflow["dags"]["persistence"]["enabled"] is False


def test_contracts_configmap_ships_the_bundles_contracts_byte_for_byte(
    renders: dict[str, list[dict[str, Any]]],
) -> None:
    from airflow_provider_parity.contracts import load_contract

    files = sorted((REPO / "contracts").glob("*.yaml"))
    assert files
    contracts = find(renders["defaults"], "ConfigMap", "parity-contracts")
    assert contracts["data"] == {f.name: f.read_text() for f in files}
    for path in files:
        contract = load_contract(path)
        annotation = contracts["metadata"]["annotations"][f"contracts.parity.io/{contract.dataset.name}"]
        assert annotation == str(contract.dataset.version)


def test_a_contract_change_changes_the_checksum_that_pods_carry(chart_helm: Helm, chart_copy: Path) -> None:
    """The upgrade path: a new contract version shows in the ConfigMap and in every new step pod."""

    def render() -> list[dict[str, Any]]:
        return documents(chart_helm.render(chart_copy, {}))

    before = render()
    path = next((chart_copy / "contracts").glob("*.yaml"))
    text = path.read_text()
    version = yaml.safe_load(text)["dataset"]["version"]
    path.write_text(text.replace(f"version: {version}", "version: 2.0.0", 1))
    after = render()

    def checksum(objects: list[dict[str, Any]]) -> tuple[str, str]:
        contracts = find(objects, "ConfigMap", "parity-contracts")["metadata"]["annotations"]
        pod = step_pod(objects)["metadata"]["annotations"]
        return contracts["parity.io/contracts-checksum"], pod["parity.io/contracts-checksum"]

    assert checksum(before)[0] == checksum(before)[1]
    assert checksum(after)[0] == checksum(after)[1] != checksum(before)[0]
    name = yaml.safe_load(text)["dataset"]["name"]
    assert find(after, "ConfigMap", "parity-contracts")["metadata"]["annotations"][f"contracts.parity.io/{name}"] == "2.0.0"


def test_a_file_that_is_not_a_contract_fails_the_render(chart_helm: Helm, chart_copy: Path) -> None:
    (chart_copy / "contracts" / "notes.yaml").write_text("just: a note\n")
    with pytest.raises(HelmFailure, match="not a contract") as failure:
        chart_helm.render(chart_copy, {})
    assert failure.value.kind == "HelmRenderError"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"steps": {"replicas": 2}}, "additional properties 'replicas' not allowed"),
        ({"mlflow": {"enabled": "yes"}}, "/mlflow/enabled"),
        ({"parity": {"executionMode": "cloud"}}, "/parity/executionMode"),
        ({"contracts": {"mountPath": "relative/dir"}}, "/contracts/mountPath"),
        ({"connections": {"secretNames": ["Not_A_Name"]}}, "/connections/secretNames/0"),
        ({"namePrefix": 3}, "/namePrefix"),
        ({"parity": {"extraSettings": {"s3_secret_key": "abc"}}}, "invalid propertyName 's3_secret_key'"),
        ({"unknownBlock": {}}, "additional properties 'unknownBlock' not allowed"),
        ({"airflow": {"fernetKey": "literal"}}, "/airflow/fernetKey"),
        ({"serving": {"enabled": True, "onlineStore": {"url": "redis://:pw@redis:6379/0"}}}, "/serving/onlineStore/url"),
        ({"serving": {"enabled": True, "onBoundaryFailure": "ignore"}}, "/serving/onBoundaryFailure"),
        ({"airflow": {"jwtSecret": "literal"}}, "/airflow/jwtSecret"),
        ({"airflow": {"extraSecrets": {"x": {"data": "c2VjcmV0"}}}}, "/airflow/extraSecrets"),
        ({"openlineage": {"transport": {"type": "http", "url": "http://x", "auth": {"api_key": "k"}}}},
         "/openlineage/transport"),
    ],
)
def test_the_values_schema_rejects_bad_values(chart_render: Render, values: dict[str, Any], message: str) -> None:
    with pytest.raises(HelmFailure, match=message) as failure:
        chart_render(values)
    assert failure.value.kind == "HelmValuesError"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"airflow": {"data": {"metadataSecretName": None}}}, "metadataSecretName"),
        ({"airflow": {"executor": "CeleryExecutor", "redis": {"enabled": False}}}, "brokerUrlSecretName"),
        ({"airflow": {"defaultAirflowTag": None}}, "defaultAirflowTag"),
        ({"serving": {"enabled": True}, "mlflow": {"enabled": True}}, "serving.onlineStore"),
        ({"serving": {"enabled": True, "onlineStore": {"url": "redis://r:6379/0"}}}, "serving.enabled needs MLflow"),
    ],
)
def test_settings_that_would_fail_at_run_time_fail_the_render(
    chart_render: Render, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmFailure, match=message) as failure:
        chart_render(values)
    assert failure.value.kind == "HelmRenderError"


def test_the_values_schema_describes_every_value_the_chart_adds(chart_default_values: dict[str, Any]) -> None:
    """Each key of values.yaml outside the airflow block has a schema entry (so typos are caught)."""
    import json

    schema = json.loads((CHART_DIR / "values.schema.json").read_text())

    def walk(values: Any, node: dict[str, Any], path: str) -> None:
        if not isinstance(values, dict) or "properties" not in node:
            return
        for key, value in values.items():
            assert key in node["properties"], f"{path}{key} is not in values.schema.json"
            walk(value, node["properties"][key], f"{path}{key}.")

    own = {k: v for k, v in chart_default_values.items() if k != "airflow"}
    walk(own, schema, "")
    assert schema["additionalProperties"] is False
    for key in own:
        block = schema["properties"][key]
        if block.get("type") == "object":
            assert block.get("additionalProperties") is False, key


def _environment(obj: dict[str, Any]) -> list[tuple[str, str | None]]:
    """(name, literal value or None) of every env entry and ConfigMap key of an object."""
    found: list[tuple[str, str | None]] = []
    if obj["kind"] == "ConfigMap":
        for key, value in (obj.get("data") or {}).items():
            if key == "step.yaml":
                found += _environment(yaml.safe_load(value))
            elif not key.endswith(".yaml"):
                found.append((key, value))
        return found
    spec = obj.get("spec", {})
    pod_spec = spec.get("template", {}).get("spec", spec)
    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        for entry in container.get("env", []):
            found.append((entry["name"], entry.get("value")))
    return found


def test_helm_runs_outside_the_test_process(renders: dict[str, list[dict[str, Any]]]) -> None:
    """Helm's Go runtime (signal handlers, threads) stays in the worker process."""
    import sys

    assert renders and "helm_python" not in sys.modules
