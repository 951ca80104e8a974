"""MlflowHook: URIs and auth from the connection, handed to mlflow by environment, secrets kept out."""

from __future__ import annotations

import json
import logging
import os

import pytest
from airflow.sdk import Connection

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.hooks.mlflow import MlflowHook, settings_from_connection

TOKEN = "tok-9f8e7d6c5b4a"


def conn(**fields: object) -> Connection:
    extra = fields.pop("extra", None)
    return Connection(conn_id="mlflow_t", conn_type="mlflow", extra=json.dumps(extra) if extra else None,
                      **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("fields, uri", [
    ({"host": "http://mlflow:5000"}, "http://mlflow:5000"),
    ({"host": "mlflow.internal", "schema": "https", "port": 8443}, "https://mlflow.internal:8443"),
    ({"host": "http://mlflow", "port": 5000}, "http://mlflow:5000"),
    ({"host": "ignored", "extra": {"tracking_uri": "sqlite:////data/m.db"}}, "sqlite:////data/m.db"),
])
def test_tracking_uri_from_the_connection(fields: dict, uri: str) -> None:  # type: ignore[type-arg]
    assert settings_from_connection(conn(**fields)).tracking_uri == uri


def test_no_host_is_the_local_sqlite_store(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert settings_from_connection(conn()).tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert MlflowHook(None).settings.tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"


def test_auth_kinds_and_their_environment() -> None:
    basic = settings_from_connection(conn(host="http://h", login="ana", password="pw-123456"))
    assert basic.auth == "basic"
    assert basic.environment()["MLFLOW_TRACKING_USERNAME"] == "ana"
    token = settings_from_connection(conn(host="http://h", extra={"token": TOKEN, "registry_uri": "http://r",
                                                                  "max_retries": 1, "timeout": "3"}))
    env = token.environment()
    assert (token.auth, env["MLFLOW_TRACKING_TOKEN"], env["MLFLOW_REGISTRY_URI"]) == ("token", TOKEN, "http://r")
    assert (env["MLFLOW_HTTP_REQUEST_MAX_RETRIES"], env["MLFLOW_HTTP_REQUEST_TIMEOUT"]) == ("1", "3")
    assert settings_from_connection(conn(host="http://h", password=TOKEN)).auth == "token"
    none = settings_from_connection(conn(host="http://h", login="x", password="p", extra={"auth_type": "none"}))
    assert "MLFLOW_TRACKING_PASSWORD" not in none.environment()
    assert TOKEN not in repr(token) and "pw-123456" not in repr(basic)


def test_bad_connection_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match="auth_type must be none, basic or token"):
        settings_from_connection(conn(host="http://h", extra={"auth_type": "kerberos"}))
    with pytest.raises(ConfigurationError, match="extra timeout must be an integer"):
        settings_from_connection(conn(host="http://h", extra={"timeout": "soon"}))


def test_environment_is_set_for_the_block_then_restored(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_MLFLOW_ENV", json.dumps(
        {"conn_type": "mlflow", "host": "http://127.0.0.1:1", "extra": {"token": TOKEN}}))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////previous.db")
    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    hook = MlflowHook("mlflow_env")
    with caplog.at_level(logging.DEBUG), hook.environment() as shown:
        assert os.environ["MLFLOW_TRACKING_TOKEN"] == TOKEN
        assert os.environ["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:1"
        assert TOKEN not in json.dumps(shown)
    assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:////previous.db"
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ
    assert TOKEN not in caplog.text


def test_ui_field_behaviour_declares_the_form() -> None:
    behaviour = MlflowHook.get_ui_field_behaviour()
    assert behaviour["relabeling"]["host"] == "Tracking URI or host"
    assert json.loads(behaviour["placeholders"]["extra"])["auth_type"] == "token"
    assert (MlflowHook.conn_type, MlflowHook.default_conn_name) == ("mlflow", "mlflow_default")
