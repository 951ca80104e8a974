"""docker-compose.yaml: valid against the compose specification, healthy wiring, no secrets."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import pytest
import yaml
from deploy_support import REPO, compose_variables, env_example, interpolate

AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker")
REQUIRED_SERVICES = (*AIRFLOW_SERVICES, "airflow-init", "postgres", "redis", "mlflow", "mlflow-db", "minio",
                     "minio-init", "marquez-api", "marquez-web", "marquez-db")
# Variable names that hold secrets: these must be required (${NAME:?...}), never defaulted.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$")


def _services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = config["services"]
    return services


def _one_shot(config: dict[str, Any], name: str) -> bool:
    """A service that runs once: not restarted, and awaited by others until it completes."""
    service = _services(config)[name]
    awaited = any(
        isinstance(other.get("depends_on"), dict)
        and other["depends_on"].get(name, {}).get("condition") == "service_completed_successfully"
        for other in _services(config).values()
    )
    return service.get("restart") == "no" and awaited


def test_compose_file_is_valid_against_the_compose_spec(
    compose_text: str, compose_config: dict[str, Any], compose_schema: dict[str, Any]
) -> None:
    # Both the file as written (variables unexpanded) and as compose sees it after interpolation.
    jsonschema.validate(yaml.safe_load(compose_text), compose_schema)
    jsonschema.validate(compose_config, compose_schema)


def test_the_schema_rejects_a_broken_service(compose_config: dict[str, Any], compose_schema: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose_config)
    broken["services"]["mlflow"]["helthcheck"] = broken["services"]["mlflow"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError, match="helthcheck"):
        jsonschema.validate(broken, compose_schema)


def test_the_stack_has_every_service(compose_config: dict[str, Any]) -> None:
    assert set(REQUIRED_SERVICES) <= set(_services(compose_config))


def test_every_service_has_a_healthcheck_or_is_a_one_shot(compose_config: dict[str, Any]) -> None:
    for name, service in _services(compose_config).items():
        if _one_shot(compose_config, name):
            assert "healthcheck" not in service, name
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert service.get("restart") in ("always", "unless-stopped"), name
    assert _one_shot(compose_config, "airflow-init") and _one_shot(compose_config, "minio-init")


def test_dependencies_wait_for_health_or_completion(compose_config: dict[str, Any]) -> None:
    services = _services(compose_config)
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for target, rule in depends_on.items():
            assert target in services and target != name, f"{name} -> {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health, which has no check"
            else:
                assert condition == "service_completed_successfully" and _one_shot(compose_config, target)
    for name in AIRFLOW_SERVICES:
        waits = services[name]["depends_on"]
        assert {"postgres", "redis", "airflow-init", "mlflow", "minio-init"} <= set(waits), name
    assert services["airflow-init"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_host_ports_do_not_clash(compose_config: dict[str, Any]) -> None:
    published: dict[str, str] = {}
    for name, service in _services(compose_config).items():
        for port in service.get("ports", []):
            host, _, container = str(port).rpartition(":")
            assert host, f"{name}: publish {port} with an explicit host port"
            assert host not in published, f"host port {host}: {published.get(host)} and {name}"
            published[host] = f"{name}:{container}"
    # MLflow and Marquez both listen on 5000 inside the network; only their host ports differ.
    assert published[_host_port(compose_config, "mlflow")] == "mlflow:5000"
    assert published[_host_port(compose_config, "marquez-api")] == "marquez-api:5000"


def _host_port(config: dict[str, Any], service: str) -> str:
    return str(_services(config)[service]["ports"][0]).rpartition(":")[0]


def test_every_secret_comes_from_env_and_is_required(compose_text: str) -> None:
    variables = compose_variables(compose_text)
    secrets = {name for name, _, _ in variables if SECRET_NAME.search(name)}
    assert {"AIRFLOW_DB_PASSWORD", "AIRFLOW_FERNET_KEY", "MLFLOW_DB_PASSWORD", "MINIO_ROOT_PASSWORD"} <= secrets
    for name, op, _ in variables:
        if name in secrets:
            assert op == ":?", f"${{{name}}} is a secret: write it ${{{name}:?message}}, never with a default"


def test_no_literal_secret_in_the_file(compose_text: str) -> None:
    config = yaml.safe_load(compose_text)
    for name, service in config["services"].items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), name
        for key, value in environment.items():
            text = str(value)
            if SECRET_NAME.search(key):
                assert text.startswith("${") and text.endswith("}"), f"{name}: {key} is literal"
            # Credentials inside URIs (scheme://user:password@host) must be variables too.
            for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", text):
                assert password.startswith("${"), f"{name}: {key} has a literal password"
            if key.startswith("AIRFLOW_CONN_"):
                for field in ("password", "login"):
                    match = re.search(rf'"{field}":\s*"([^"]*)"', text)
                    assert match is None or match.group(1).startswith("${"), f"{name}: {key}.{field} is literal"


def test_env_example_lists_every_variable_and_leaves_secrets_empty(compose_text: str) -> None:
    example = env_example()
    used = {name for name, _, _ in compose_variables(compose_text)}
    assert used <= set(example), f"missing from .env.example: {sorted(used - set(example))}"
    assert set(example) <= used, f"unused in docker-compose.yaml: {sorted(set(example) - used)}"
    for name, value in example.items():
        if SECRET_NAME.search(name):
            assert value == "", f".env.example must not carry a value for the secret {name}"


def test_a_missing_secret_stops_compose(compose_text: str, compose_env: dict[str, str]) -> None:
    env = dict(compose_env)
    del env["AIRFLOW_DB_PASSWORD"]
    with pytest.raises(ValueError, match="AIRFLOW_DB_PASSWORD"):
        interpolate(compose_text, env)


def test_airflow_reaches_mlflow_marquez_and_the_lake(compose_config: dict[str, Any]) -> None:
    services = _services(compose_config)
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__PARITY__EXECUTION_MODE"] == "local"
        assert env["AIRFLOW__PARITY__LAKE_URI"].startswith("s3://lake/")
        mlflow = json.loads(env["AIRFLOW_CONN_MLFLOW_DEFAULT"])
        assert mlflow == {"conn_type": "mlflow", "host": "http://mlflow:5000"}
        assert env["AIRFLOW__PARITY__MLFLOW_CONN_ID"] == "mlflow_default"
        delta = json.loads(env["AIRFLOW_CONN_DELTA_DEFAULT"])
        assert delta["conn_type"] == "delta" and delta["host"] == "s3://lake"
        assert delta["extra"]["endpoint_url"] == "http://minio:9000"
        transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
        assert transport["type"] == "http" and transport["url"] == "http://marquez-api:5000"
        bundles = json.loads(env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"])
        assert [b["kwargs"]["path"] for b in bundles] == ["/opt/airflow/dags"]
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:8080/")
    # Each MinIO bucket the stack writes to is created by the one-shot service.
    init = " ".join(services["minio-init"]["command"])
    for uri in (services["airflow-worker"]["environment"]["AIRFLOW__PARITY__LAKE_URI"],
                services["mlflow"]["environment"]["MLFLOW_ARTIFACTS_DESTINATION"]):
        bucket = uri.removeprefix("s3://").split("/")[0]
        assert f"local/{bucket}" in init, bucket


def test_mlflow_uses_postgres_and_minio(compose_config: dict[str, Any]) -> None:
    mlflow = _services(compose_config)["mlflow"]
    env = mlflow["environment"]
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg2://")
    assert env["MLFLOW_BACKEND_STORE_URI"].endswith("@mlflow-db/mlflow")
    assert env["MLFLOW_ARTIFACTS_DESTINATION"].startswith("s3://mlflow/")
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    # MLflow answers only the Host headers listed; Airflow calls it as mlflow:5000.
    assert "mlflow:5000" in env["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    assert mlflow["entrypoint"] == ["mlflow", "server"]


def test_the_bundle_image_is_built_from_this_repository(compose_config: dict[str, Any]) -> None:
    services = _services(compose_config)
    built = {name for name, s in services.items() if "build" in s}
    assert set(AIRFLOW_SERVICES) | {"airflow-init", "mlflow"} <= built
    images = {services[name]["image"] for name in built}
    assert len(images) == 1, images
    for name in built:
        build = services[name]["build"]
        assert (REPO / build["context"] / build["dockerfile"]).is_file()
