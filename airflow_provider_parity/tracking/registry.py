"""Registering a run's model as a version that carries its data, and setting aliases.

Registration is safe to retry: a version already registered from the same run is reused,
so a task retried after a crash does not leave twin versions behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking import keys

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    source: str
    alias: str | None
    created: bool
    """False when a version from this run already existed (a retry) and was reused."""
    tags: dict[str, str] = field(default_factory=dict)


def ensure_registered_model(client: MlflowClient, name: str) -> None:
    """Create the registered model unless it exists (two tasks may race to create it)."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if getattr(exc, "error_code", "") not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise


def model_source(client: MlflowClient, run_id: str, artifact_path: str) -> tuple[str, str | None]:
    """Where the model logged by ``run_id`` under ``artifact_path`` lives, and its logged-model id.

    MLflow 3 logs models as LoggedModels; older runs keep them as run artifacts.

    Raises:
        ConfigurationError: the run logged no model under that name.
    """
    run = client.get_run(run_id)
    found = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{artifact_path}'",
    )
    if found:
        newest = max(found, key=lambda m: m.creation_timestamp or 0)
        # The artifact location, not ``models:/<id>``: MLflow's SQL registry resolves the latter
        # through a default client (the global tracking URI), not through this client's store.
        return str(newest.artifact_location), newest.model_id
    if any(a.path == f"{artifact_path}/MLmodel" for a in client.list_artifacts(run_id, artifact_path)):
        return f"{run.info.artifact_uri.rstrip('/')}/{artifact_path}", None
    raise ConfigurationError(f"run {run_id} logged no model named {artifact_path!r}")


def existing_version(client: MlflowClient, name: str, run_id: str) -> str | None:
    """The newest version of ``name`` registered from ``run_id``, if any."""
    versions = client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'")
    return str(max(int(v.version) for v in versions)) if versions else None


def register_model(client: MlflowClient, *, run_id: str, name: str, artifact_path: str = "model",
                   alias: str | None = keys.CHALLENGER, extra_tags: Mapping[str, str] | None = None,
                   require_record: bool = True) -> RegisteredVersion:
    """Register the model of ``run_id`` as a version of ``name``, copy its data tags, set ``alias``.

    Args:
        client: the MLflow client.
        run_id: the training run (recorded with ``record_training``).
        name: the registered model.
        artifact_path: the name the model was logged under.
        alias: set on the new version (default ``challenger``); None for none. Aliases, never stages.
        extra_tags: more model-version tags.
        require_record: refuse a run without a training record (no ``parity.data`` tag).

    Returns:
        The version, with the tags it carries.

    Raises:
        ConfigurationError: no training record on the run, or no model logged under ``artifact_path``.
    """
    run_tags = dict(client.get_run(run_id).data.tags)
    if require_record and keys.DATA not in run_tags:
        raise ConfigurationError(
            f"run {run_id} has no {keys.DATA} tag: record the training data with record_training before registering")
    tags = {k: v for k, v in run_tags.items() if k.startswith(keys.PREFIX)}
    tags[keys.SOURCE_RUN] = run_id
    tags.update(extra_tags or {})
    ensure_registered_model(client, name)
    version = existing_version(client, name, run_id)
    source = ""
    if version is None:
        source, model_id = model_source(client, run_id, artifact_path)
        mv = client.create_model_version(name, source, run_id=run_id, tags=tags, model_id=model_id)
        version, created = str(mv.version), True
    else:
        # A retry: the version exists, maybe without all its tags if the first try died midway.
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)
        source, created = str(client.get_model_version(name, version).source or ""), False
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return RegisteredVersion(name=name, version=version, run_id=run_id, source=source, alias=alias,
                             created=created, tags=tags)
