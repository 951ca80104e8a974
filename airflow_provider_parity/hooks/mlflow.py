"""MlflowHook: an MLflow tracking server (or the embedded local store) from a connection.

Connection type ``mlflow``:

* ``host``: the tracking URI or host, e.g. ``http://mlflow.internal:5000``, ``mlflow.internal``
  (with ``schema`` ``https`` and ``port``), or a full store URI such as ``sqlite:////data/mlflow.db``
  (``extra.tracking_uri`` wins over ``host``). No host: the embedded local store (see below).
* ``login`` / ``password``: basic auth. ``password`` alone, or ``extra.token``: a bearer token.
  ``extra.auth_type`` (``basic``, ``token``, ``none``) forces the choice.
* ``extra``: ``registry_uri``, ``max_retries``, ``timeout`` (seconds), ``backoff_factor``,
  ``insecure_tls``. Without them, waits are bounded (2 retries, backoff factor 1, 6 s per request:
  a server that is down fails the task in under 30 s, not MLflow's 255 s; see
  ``tracking.client.BOUNDED_REQUESTS``).

Without a connection (``mlflow_conn_id=None``) or host, the store is ``MLFLOW_TRACKING_URI`` if
set, else ``sqlite:///{AIRFLOW_HOME}/mlflow/mlflow.db``: MLflow 3 defaults to a SQLite store and
the file store is deprecated.

MLflow's client reads credentials from ``MLFLOW_TRACKING_*`` environment variables at each
request, so the hook hands them over that way (never in a URI) and registers them with the
secrets masker; no secret is logged or put in an error message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, cast

from airflow_provider_parity.compat import BaseHook

if TYPE_CHECKING:
    from mlflow import MlflowClient

AuthType = Literal["none", "basic", "token"]
# Environment variables this hook may set; restored after ``environment()``.
_ENV_KEYS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
             "MLFLOW_TRACKING_TOKEN", "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT",
             "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_TRACKING_INSECURE_TLS")
_RETRY_EXTRAS = {"max_retries": "MLFLOW_HTTP_REQUEST_MAX_RETRIES", "timeout": "MLFLOW_HTTP_REQUEST_TIMEOUT",
                 "backoff_factor": "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"}


@dataclass(frozen=True)
class MlflowSettings:
    """What a connection resolves to. ``repr`` hides the secret."""

    tracking_uri: str
    registry_uri: str | None = None
    auth: AuthType = "none"
    username: str | None = None
    secret: str | None = None
    retries: tuple[tuple[str, str], ...] = ()
    insecure_tls: bool = False

    def __repr__(self) -> str:
        return (f"MlflowSettings(tracking_uri={self.tracking_uri!r}, registry_uri={self.registry_uri!r}, "
                f"auth={self.auth!r}, username={self.username!r})")

    def environment(self) -> dict[str, str]:
        """The ``MLFLOW_*`` variables for mlflow's client (secrets included: never log this)."""
        env = {"MLFLOW_TRACKING_URI": self.tracking_uri}
        if self.registry_uri:
            env["MLFLOW_REGISTRY_URI"] = self.registry_uri
        if self.auth == "basic" and self.username is not None:
            env["MLFLOW_TRACKING_USERNAME"] = self.username
            env["MLFLOW_TRACKING_PASSWORD"] = self.secret or ""
        elif self.auth == "token" and self.secret:
            env["MLFLOW_TRACKING_TOKEN"] = self.secret
        from airflow_provider_parity.tracking.client import request_limits

        env.update(request_limits(dict(self.retries)))
        if self.insecure_tls:
            env["MLFLOW_TRACKING_INSECURE_TLS"] = "true"
        return env


def local_store_uri() -> str:
    """The embedded default: ``MLFLOW_TRACKING_URI``, else SQLite under ``AIRFLOW_HOME``."""
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return os.environ["MLFLOW_TRACKING_URI"]
    home = os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))
    folder = os.path.join(home, "mlflow")
    os.makedirs(folder, exist_ok=True)
    return f"sqlite:///{folder}/mlflow.db"


def settings_from_connection(conn: Any) -> MlflowSettings:
    """Resolve an ``mlflow`` connection (host, schema, port, login, password, extra).

    Raises:
        ConfigurationError: an unknown ``auth_type`` or a non-numeric retry setting.
    """
    from airflow_provider_parity.exceptions import ConfigurationError

    extra = conn.extra_dejson or {}
    tracking_uri = str(extra.get("tracking_uri") or _uri_from_host(conn) or local_store_uri())
    token = extra.get("token")
    auth = extra.get("auth_type") or ("token" if token else "basic" if conn.login and conn.password
                                      else "token" if conn.password else "none")
    if auth not in ("none", "basic", "token"):
        raise ConfigurationError(f"connection {conn.conn_id}: auth_type must be none, basic or token, got {auth!r}")
    auth = cast("AuthType", auth)
    retries = []
    for key, env in _RETRY_EXTRAS.items():
        if extra.get(key) is not None:
            try:
                retries.append((env, str(int(extra[key]))))
            except (TypeError, ValueError):
                raise ConfigurationError(f"connection {conn.conn_id}: extra {key} must be an integer") from None
    return MlflowSettings(tracking_uri=tracking_uri, registry_uri=extra.get("registry_uri") or None,
                          auth=auth, username=conn.login or None, secret=token or conn.password or None,
                          retries=tuple(retries), insecure_tls=str(extra.get("insecure_tls", "")).lower() == "true")


def _uri_from_host(conn: Any) -> str | None:
    host = (conn.host or "").strip()
    if not host:
        return None
    if "://" in host:
        return host if not conn.port or host.count(":") > 1 else f"{host.rstrip('/')}:{conn.port}"
    scheme = conn.schema or "http"
    return f"{scheme}://{host}:{conn.port}" if conn.port else f"{scheme}://{host}"


class MlflowHook(BaseHook):
    """Reach MLflow's tracking store and model registry through an ``mlflow`` connection.

    Args:
        mlflow_conn_id: the connection; None for the embedded local store.

    Example:
        >>> with MlflowHook("mlflow_default").client() as client:
        ...     client.get_registered_model("churn").aliases
    """

    conn_name_attr = "mlflow_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = "mlflow"
    hook_name = "MLflow"

    def __init__(self, mlflow_conn_id: str | None = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mlflow_conn_id = mlflow_conn_id
        self._settings: MlflowSettings | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": [],
            "relabeling": {
                "host": "Tracking URI or host",
                "schema": "Scheme (http or https)",
                "login": "Username (basic auth)",
                "password": "Password or token",
            },
            "placeholders": {
                "host": "http://mlflow.internal:5000 (empty: local SQLite store)",
                "extra": '{"registry_uri": "", "auth_type": "token", "max_retries": 5, "timeout": 30}',
            },
        }

    @property
    def settings(self) -> MlflowSettings:
        if self._settings is None:
            if self.mlflow_conn_id is None:
                self._settings = MlflowSettings(tracking_uri=local_store_uri())
            else:
                self._settings = settings_from_connection(self.get_connection(self.mlflow_conn_id))
            if self._settings.secret:
                from airflow.sdk.log import mask_secret

                mask_secret(self._settings.secret)
        return self._settings

    @property
    def secrets(self) -> tuple[str | None, ...]:
        return (self.settings.secret,)

    @contextmanager
    def environment(self) -> Iterator[dict[str, str]]:
        """Set the ``MLFLOW_*`` variables for the block (for mlflow's fluent API), then restore them."""
        from airflow_provider_parity.tracking.client import environment_set

        env = self.settings.environment()
        with environment_set(env, clear=_ENV_KEYS):
            yield {k: v for k, v in env.items() if k.startswith("MLFLOW_HTTP") or k.endswith("_URI")}

    @contextmanager
    def client(self) -> Iterator[MlflowClient]:
        """A client for the block; an unreachable server becomes one ``ServiceUnavailable`` line."""
        from airflow_provider_parity.tracking.client import (
            make_client,
            outage_as_error,
            safe_uri,
        )

        settings = self.settings
        self.log.info("MLflow tracking store %s (auth: %s)", safe_uri(settings.tracking_uri), settings.auth)
        with self.environment(), outage_as_error(settings.tracking_uri, secrets=self.secrets):
            yield make_client(settings.tracking_uri, settings.registry_uri)

    def ensure_experiment(self, name: str) -> str:
        """The id of experiment ``name``, created if needed (a SQLite store keeps its artifacts beside it)."""
        from airflow_provider_parity.tracking.client import ensure_experiment

        with self.client() as client:
            return ensure_experiment(client, name, self.settings.tracking_uri)

    def get_conn(self) -> MlflowClient:
        """A client, with the connection's ``MLFLOW_*`` variables set for the rest of the process.

        Prefer ``client()`` in operators: it restores the environment and maps outages to errors.
        """
        from airflow_provider_parity.tracking.client import make_client

        os.environ.update(self.settings.environment())
        return make_client(self.settings.tracking_uri, self.settings.registry_uri)

    def test_connection(self) -> tuple[bool, str]:
        """Ask the server for one experiment; the message never carries a secret."""
        from airflow_provider_parity.tracking.client import redact, safe_uri

        try:
            with self.client() as client:
                client.search_experiments(max_results=1)
        except Exception as exc:  # the UI shows the message: any failure is an answer
            first = (str(exc).splitlines() or [""])[0]
            return False, redact(first, self.secrets)
        return True, f"Connected to MLflow at {safe_uri(self.settings.tracking_uri)}"
