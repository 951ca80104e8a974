"""Talking to MLflow: a client for explicit URIs, outage errors, and reading model versions.

The Airflow hook and the ``parity`` CLI both end here, so an unreachable server gives the same
one-line ``ServiceUnavailable`` everywhere, and no URI with credentials reaches a message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from airflow_provider_parity.exceptions import ConfigurationError, ServiceUnavailable

if TYPE_CHECKING:
    from mlflow import MlflowClient

# Substrings of the messages mlflow's REST layer raises once its retries are exhausted
# (mlflow/utils/rest_utils.py): refused or reset connections, timeouts, 5xx answers.
_OUTAGE_MARKERS = ("failed with exception", "failed with timeout", "Max retries exceeded",
                   "Connection refused", "Connection aborted", "error code 50", "Read timed out")
# The most telling cause first: "Max retries exceeded" wraps the others.
_CAUSES = tuple(re.compile(p) for p in (r"Connection refused", r"Connection aborted", r"Read timed out",
                                         r"timed out", r"error code \d+", r"Max retries exceeded"))
# MLflow's own defaults (7 retries, backoff factor 2, 120 s per request) retry a refused
# connection for about 255 s before giving up. These bound every wait: a refused connection
# fails in about 4 s, a server that accepts but never answers in (2 + 1) x 6 s plus up to 4 s
# of backoff and jitter (measured: 22 s), under 30 s. An ``MLFLOW_HTTP_REQUEST_*`` variable already set wins, and
# the hook's connection extra (``max_retries``, ``backoff_factor``, ``timeout``) wins over both.
BOUNDED_REQUESTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                    "MLFLOW_HTTP_REQUEST_TIMEOUT": "6"}


def safe_uri(uri: str | None) -> str:
    """``uri`` without a ``user:password@`` part, fit for logs and messages."""
    if not uri:
        return "<default>"
    parts = urlsplit(uri)
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact(text: str, secrets: Sequence[str | None]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def make_client(tracking_uri: str | None = None, registry_uri: str | None = None) -> MlflowClient:
    """An ``MlflowClient`` bound to explicit URIs (``None``: mlflow's own resolution, env first).

    Args:
        tracking_uri: ``http(s)://host:port``, ``sqlite:///path/mlflow.db``, ``databricks``...
        registry_uri: the model registry when it is not the tracking store.

    Returns:
        The client. Credentials are read by mlflow from ``MLFLOW_TRACKING_*`` at each request.
    """
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)


def request_limits(overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``MLFLOW_HTTP_REQUEST_*`` variables to run with: ``overrides``, else the environment, else bounded.

    Args:
        overrides: values from a connection, by variable name.
    """
    chosen = dict(overrides or {})
    return {key: chosen.get(key) or os.environ.get(key) or default for key, default in BOUNDED_REQUESTS.items()}


@contextmanager
def environment_set(values: Mapping[str, str], *, clear: Sequence[str] = ()) -> Iterator[None]:
    """Run the block with ``clear`` removed from ``os.environ`` and ``values`` set, then restore both."""
    saved = {key: os.environ.get(key) for key in (*clear, *values)}
    for key in clear:
        os.environ.pop(key, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def bounded_requests() -> AbstractContextManager[None]:
    """Run a block with :func:`request_limits` in ``os.environ`` (mlflow reads them per request)."""
    return environment_set(request_limits())


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` is mlflow giving up on an unreachable or failing server."""
    text = str(exc)
    return "API request to" in text and any(marker in text for marker in _OUTAGE_MARKERS)


@contextmanager
def outage_as_error(tracking_uri: str | None, *, secrets: Sequence[str | None] = ()) -> Iterator[None]:
    """Turn mlflow's long retry-exhausted errors into one ``ServiceUnavailable`` line.

    Args:
        tracking_uri: named in the message (credentials stripped).
        secrets: strings that must not appear in the message.

    Raises:
        ServiceUnavailable: the server did not answer after mlflow's retries.
    """
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        if not is_outage(exc):
            raise
        found = next((m for m in (c.search(str(exc)) for c in _CAUSES) if m), None)
        cause = found.group(0) if found else "no answer"
        message = (f"MLflow tracking server {safe_uri(tracking_uri)} unreachable after retries ({cause}); "
                   "nothing was changed")
        raise ServiceUnavailable(redact(message, secrets)) from None


@dataclass(frozen=True)
class VersionInfo:
    """A registered model version with what the gate reads: its tags and its run's metrics."""

    name: str
    version: str
    run_id: str | None
    source: str
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


def aliases_of(client: MlflowClient, name: str) -> dict[str, str]:
    """``{alias: version}`` of a registered model.

    Raises:
        ConfigurationError: no registered model has this name.
    """
    from mlflow.exceptions import MlflowException

    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            raise ConfigurationError(f"registered model {name!r} does not exist") from None
        raise
    return {alias: str(version) for alias, version in (model.aliases or {}).items()}


def load_version(client: MlflowClient, name: str, version: str | int) -> VersionInfo:
    """Read a model version, its tags and the latest metrics of its run.

    Raises:
        ConfigurationError: the version does not exist.
    """
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version(name, str(version))
    except MlflowException as exc:
        if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            raise ConfigurationError(f"model version {name!r} v{version} does not exist") from None
        raise
    metrics: dict[str, float] = {}
    if mv.run_id:
        metrics = dict(client.get_run(mv.run_id).data.metrics)
    return VersionInfo(name=name, version=str(mv.version), run_id=mv.run_id, source=str(mv.source or ""),
                       tags=dict(mv.tags or {}), metrics=metrics, aliases=list(getattr(mv, "aliases", []) or []))


def local_artifact_root(tracking_uri: str | None) -> str | None:
    """Where a SQLite store keeps artifacts: ``<db folder>/artifacts`` (None for other stores).

    MLflow's SQLite store would default to ``./mlruns`` in the working directory, which for an
    Airflow worker is wherever it was started.
    """
    prefix = "sqlite:///"
    if not tracking_uri or not tracking_uri.startswith(prefix):
        return None
    from pathlib import Path

    return (Path(tracking_uri[len(prefix):]).resolve().parent / "artifacts").as_uri()


def ensure_experiment(client: MlflowClient, name: str, tracking_uri: str | None = None) -> str:
    """The id of experiment ``name``, created if missing (next to the database for SQLite stores).

    Args:
        client: the MLflow client.
        name: the experiment name.
        tracking_uri: the store's URI, to place a SQLite store's artifacts next to it.

    Returns:
        The experiment id.
    """
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    root = local_artifact_root(tracking_uri)
    location = f"{root}/{name}" if root else None
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException as exc:  # created meanwhile by a parallel task
        if getattr(exc, "error_code", "") != "RESOURCE_ALREADY_EXISTS":
            raise
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)
