"""Outage detection and secret hygiene of the MLflow client helpers."""

from __future__ import annotations

import os

import pytest
from mlflow.exceptions import MlflowException

from airflow_provider_parity.exceptions import ServiceUnavailable
from airflow_provider_parity.tracking.client import is_outage, local_artifact_root, outage_as_error, redact, safe_uri

REFUSED = ("API request to http://127.0.0.1:1/api/2.0/mlflow/registered-models/get failed with exception "
           "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /api/2.0/... "
           "(Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] Connection refused'))")


def test_safe_uri_drops_credentials() -> None:
    assert safe_uri("https://bob:hunter22@mlflow.example:8443/x") == "https://mlflow.example:8443/x"
    assert safe_uri("sqlite:////tmp/mlflow.db") == "sqlite:////tmp/mlflow.db"
    assert safe_uri(None) == "<default>"
    assert redact("token abc123 and abc123", ["abc123", None, ""]) == "token *** and ***"


def test_retry_exhaustion_becomes_one_line_without_secrets() -> None:
    assert is_outage(MlflowException(REFUSED))
    assert not is_outage(MlflowException("RESOURCE_DOES_NOT_EXIST: model 'x' not found"))
    with pytest.raises(ServiceUnavailable) as caught:
        with outage_as_error("http://u:pw-secret@127.0.0.1:1", secrets=["pw-secret"]):
            raise MlflowException(REFUSED)
    assert str(caught.value) == ("MLflow tracking server http://127.0.0.1:1 unreachable after retries "
                                 "(Connection refused); nothing was changed")
    assert caught.value.exit_code == 2


def test_other_mlflow_errors_pass_through() -> None:
    with pytest.raises(MlflowException, match="not found"):
        with outage_as_error("http://h"):
            raise MlflowException("model 'x' not found")


def test_sqlite_store_keeps_artifacts_beside_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert local_artifact_root(f"sqlite:///{tmp_path}/m.db") == (tmp_path / "artifacts").as_uri()
    assert local_artifact_root("http://mlflow:5000") is None


def test_request_limits_are_bounded_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_parity.tracking.client import BOUNDED_REQUESTS, bounded_requests, request_limits

    for key in BOUNDED_REQUESTS:
        monkeypatch.delenv(key, raising=False)
    assert request_limits() == BOUNDED_REQUESTS
    # The environment wins over the bounds, a connection's value over both.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    assert request_limits()["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "60"
    assert request_limits({"MLFLOW_HTTP_REQUEST_TIMEOUT": "5"})["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "5"
    with bounded_requests():
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == BOUNDED_REQUESTS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
        assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "60"
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ
