"""The training record: everything a model version needs to be reproduced, logged in one call.

Used inside a training task or a KubernetesPodOperator pod, on the MLflow run that trains the
model. The pinned Delta inputs go through MLflow's dataset inputs (``log_inputs``, what
``mlflow.log_input`` calls) with the table URI and version in the source and the fingerprint
as digest and input tag; the same facts are tags, so nothing about the data is free text.

Example:
    >>> with mlflow.start_run() as run:                                    # doctest: +SKIP
    ...     snap = resolve_snapshot("s3://lake/features", version=12)
    ...     model = train(read_arrow(snap.uri, snap.version))
    ...     mlflow.sklearn.log_model(model, name="model")
    ...     record_training(inputs=[snap], contract=contract, gates={"validation": result})
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking import keys

if TYPE_CHECKING:
    from mlflow import MlflowClient

GateStatus = Literal["passed", "failed", "warned"]
CodeSource = Literal["explicit", "env", "git", "package", "unknown"]

_STATUS_WORDS: dict[str, GateStatus] = {
    "passed": "passed", "pass": "passed", "success": "passed", "succeeded": "passed",
    "failed": "failed", "fail": "failed", "error": "failed", "failure": "failed",
    "warned": "warned", "warn": "warned", "warning": "warned",
}
# What Airflow exports to a task's environment; a KubernetesPodOperator passes them on with env_vars.
_AIRFLOW_ENV = {"dag_id": "AIRFLOW_CTX_DAG_ID", "task_id": "AIRFLOW_CTX_TASK_ID",
                "run_id": "AIRFLOW_CTX_DAG_RUN_ID", "try_number": "AIRFLOW_CTX_TRY_NUMBER"}


@dataclass(frozen=True)
class PinnedInput:
    """One Delta table version a model was trained (or evaluated) on."""

    uri: str
    version: int
    fingerprint: str
    name: str = "training"
    """The role of the data for MLflow (``mlflow.data.context``): training, evaluation, ..."""
    row_count: int | None = None

    @classmethod
    def of(cls, source: Any, name: str = "training") -> PinnedInput:
        """From a ``delta.Snapshot``, a mapping with the same fields, or a ``PinnedInput``.

        Raises:
            ConfigurationError: the source lacks a URI, an integer version or a fingerprint.
        """
        if isinstance(source, PinnedInput):
            return source
        get = source.get if isinstance(source, Mapping) else (lambda k, d=None: getattr(source, k, d))
        uri, version, fingerprint = get("uri"), get("version"), get("fingerprint")
        if not uri or not isinstance(version, int) or isinstance(version, bool) or version < 0 or not fingerprint:
            raise ConfigurationError(
                f"pinned input needs uri, a version >= 0 and a fingerprint; got uri={uri!r} "
                f"version={version!r} fingerprint={'set' if fingerprint else 'missing'}")
        row_count = get("row_count")
        return cls(uri=str(uri), version=version, fingerprint=str(fingerprint),
                   name=str(get("name") or name), row_count=int(row_count) if row_count is not None else None)


@dataclass(frozen=True)
class GateRecord:
    """A gate that ran on the training data, and how it went."""

    name: str
    status: GateStatus


@dataclass(frozen=True)
class TrainingRecord:
    """What ``record_training`` logged; ``tags`` are exactly the run tags it set."""

    run_id: str
    inputs: list[PinnedInput]
    contract: dict[str, str] | None
    gates: list[GateRecord]
    code_version: str
    code_source: CodeSource
    airflow: dict[str, str]
    packages: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def gate_status(name: str, result: Any) -> GateStatus:
    """The status of a gate result: a dataclass or mapping with ``status`` or ``passed``/``success``.

    Raises:
        ConfigurationError: neither field is there.
    """
    data = result_dict(result)
    status = data.get("status")
    if isinstance(data.get("blocking"), bool):
        # A gate outcome: whether it blocks decides; a non-blocking cold start or thin data is a warning.
        return "failed" if data["blocking"] else ("passed" if status == "passed" else "warned")
    if isinstance(status, str) and status.lower() in _STATUS_WORDS:
        return _STATUS_WORDS[status.lower()]
    for flag in ("passed", "success"):
        if isinstance(data.get(flag), bool):
            return "passed" if data[flag] else "failed"
    raise ConfigurationError(f"gate {name!r}: result has no 'status' (passed/failed/warned) nor boolean 'passed'")


def result_dict(result: Any) -> dict[str, Any]:
    """A gate result as a JSON-ready dict (dataclasses and mappings; other values are refused).

    Raises:
        ConfigurationError: the result is neither a dataclass nor a mapping.
    """
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        data: Any = dataclasses.asdict(result)
    elif isinstance(result, Mapping):
        data = dict(result)
    else:
        raise ConfigurationError(f"gate result must be a dataclass or a mapping, got {type(result).__name__}")
    # Round-trip so datetimes and paths become strings once, the same in the artifact and the tags.
    return dict(json.loads(json.dumps(data, default=str)))


def contract_identity(contract: Any) -> dict[str, str]:
    """``name``, ``version``, ``hash`` and ``ref`` of a ``Contract`` (or a mapping holding them).

    Raises:
        ConfigurationError: the name or the hash is missing.
    """
    if isinstance(contract, Mapping):
        name, version, digest = contract.get("name"), contract.get("version"), contract.get("hash")
    else:
        name, version, digest = contract.name, contract.dataset.version, contract.fingerprint
    if not name or not digest:
        raise ConfigurationError("contract needs a name and a hash")
    ref = f"{name}@{version}#{str(digest)[:12]}"
    return {"name": str(name), "version": str(version), "hash": str(digest), "ref": ref}


def airflow_identity(context: Mapping[str, Any] | None = None) -> dict[str, str]:
    """dag_id, task_id, run_id and try_number from an Airflow context or the task's environment."""
    ti = (context or {}).get("ti") or (context or {}).get("task_instance")
    found: dict[str, str] = {}
    for key, env in _AIRFLOW_ENV.items():
        value = getattr(ti, key, None) if ti is not None else None
        if value is None:
            value = os.environ.get(env)
        if value is not None:
            found[key] = str(value)
    return found


def code_version(explicit: str | None = None, *, code_dir: str | None = None,
                 package: str | None = None) -> tuple[str, CodeSource, bool | None]:
    """The code that trained the model: explicit, ``PARITY_CODE_VERSION``, git HEAD, or a package version.

    Returns:
        ``(version, source, dirty)``; ``dirty`` is only known for git (uncommitted changes).
    """
    if explicit:
        return explicit, "explicit", None
    if os.environ.get("PARITY_CODE_VERSION"):
        return os.environ["PARITY_CODE_VERSION"], "env", None
    sha, dirty = _git_head(code_dir or os.getcwd())
    if sha:
        return sha, "git", dirty
    if package:
        from importlib.metadata import PackageNotFoundError, version

        try:
            return f"{package}=={version(package)}", "package", None
        except PackageNotFoundError:
            pass
    return "unknown", "unknown", None


def _git_head(directory: str) -> tuple[str | None, bool | None]:
    try:
        head = subprocess.run(["git", "-C", directory, "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", directory, "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return head or None, bool(status.strip())


def installed_packages() -> dict[str, str]:
    """``{distribution name (lower case): version}`` of everything installed, sorted."""
    from importlib.metadata import distributions

    found: dict[str, str] = {}
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            found[name.lower().replace("_", "-")] = dist.version
    return dict(sorted(found.items()))


def record_tags(inputs: Sequence[PinnedInput], contract: dict[str, str] | None, gates: Sequence[GateRecord],
                code: tuple[str, CodeSource, bool | None], airflow: Mapping[str, str],
                packages: Mapping[str, str]) -> dict[str, str]:
    """The run tags of a training record (pure: no MLflow)."""
    tags = {keys.DATA: json.dumps([dataclasses.asdict(i) for i in inputs], sort_keys=True)}
    if contract:
        tags.update({keys.CONTRACT_NAME: contract["name"], keys.CONTRACT_VERSION: contract["version"],
                     keys.CONTRACT_HASH: contract["hash"], keys.CONTRACT_REF: contract["ref"]})
    for gate in gates:
        tags[keys.GATE_STATUS.format(name=gate.name)] = gate.status
    if gates:
        tags[keys.GATES_STATUS] = "failed" if any(g.status == "failed" for g in gates) else "passed"
    tags[keys.CODE_VERSION], tags[keys.CODE_SOURCE] = code[0], code[1]
    if code[2] is not None:
        tags[keys.CODE_DIRTY] = str(code[2]).lower()
    airflow_keys = {"dag_id": keys.AIRFLOW_DAG_ID, "task_id": keys.AIRFLOW_TASK_ID, "run_id": keys.AIRFLOW_RUN_ID,
                    "try_number": keys.AIRFLOW_TRY_NUMBER}
    tags.update({airflow_keys[k]: v for k, v in airflow.items() if k in airflow_keys})
    for name in keys.KEY_PACKAGES:
        if name in packages:
            tags[keys.PACKAGE.format(name=name)] = packages[name]
    return tags


def record_training(
    *,
    inputs: Sequence[Any],
    contract: Any = None,
    gates: Mapping[str, Any] | None = None,
    code: str | None = None,
    code_dir: str | None = None,
    code_package: str | None = None,
    airflow_context: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    client: MlflowClient | None = None,
) -> TrainingRecord:
    """Record on an MLflow run the data, contract, gates, code, Airflow identity and packages.

    Args:
        inputs: the pinned Delta versions: ``delta.Snapshot`` objects, ``PinnedInput`` or mappings
            with uri, version, fingerprint (and optionally name, row_count).
        contract: the ``Contract`` the data was checked against, or ``{"name", "version", "hash"}``.
        gates: ``{gate name: result}``; each result a dataclass or mapping with ``status`` or ``passed``.
            Each is logged as ``parity/gates/<name>.json`` and its status as a tag.
        code: the code version; default ``PARITY_CODE_VERSION``, git HEAD of ``code_dir``, then
            the version of ``code_package``.
        code_dir: where to look for git (default: the working directory).
        code_package: a distribution whose version names the code when git is not available.
        airflow_context: the task's context; default the ``AIRFLOW_CTX_*`` environment variables.
        run_id: the run to record on; default the active run.
        client: default ``MlflowClient()`` (environment-configured, e.g. by ``MlflowHook``).

    Returns:
        The record, whose ``tags`` are the run tags set.

    Raises:
        ConfigurationError: no run, no inputs, or an input or gate result without its fields.
    """
    import mlflow
    from mlflow.entities import RunTag

    pinned = [PinnedInput.of(i) for i in inputs]
    if not pinned:
        raise ConfigurationError("record_training needs at least one pinned input: the data must be named")
    run_id = active_run_id(run_id)
    client = client or mlflow.MlflowClient()
    gate_records = [GateRecord(name, gate_status(name, result)) for name, result in (gates or {}).items()]
    identity = contract_identity(contract) if contract is not None else None
    packages = installed_packages()
    code_info = code_version(code, code_dir=code_dir, package=code_package)
    airflow = airflow_identity(airflow_context)
    tags = record_tags(pinned, identity, gate_records, code_info, airflow, packages)

    client.log_inputs(run_id, datasets=[_dataset_input(p) for p in pinned])
    for name, result in (gates or {}).items():
        client.log_dict(run_id, result_dict(result), f"{keys.GATES_DIR}/{name}.json")
    client.log_dict(run_id, packages, keys.PACKAGES_FILE)
    record = TrainingRecord(run_id=run_id, inputs=pinned, contract=identity, gates=gate_records,
                            code_version=code_info[0], code_source=code_info[1], airflow=airflow,
                            packages=packages, tags=tags)
    client.log_dict(run_id, {k: v for k, v in dataclasses.asdict(record).items() if k != "packages"},
                    keys.RECORD_FILE)
    # Tags last: a record whose tags are present is complete (the gate reads the tags).
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    return record


def active_run_id(run_id: str | None) -> str:
    """``run_id``, or the active run's id.

    Raises:
        ConfigurationError: no run id given and no active run.
    """
    if run_id:
        return run_id
    import mlflow

    active = mlflow.active_run()
    if active is None:
        raise ConfigurationError("no active MLflow run: pass run_id= or call inside mlflow.start_run()")
    return str(active.info.run_id)


@functools.cache
def _pinned_source_class() -> type:
    from mlflow.data.delta_dataset_source import DeltaDatasetSource

    class PinnedDeltaSource(DeltaDatasetSource):
        """A Delta source whose JSON always has the version and the fingerprint.

        MLflow's own drops ``delta_table_version`` when it is 0 (a falsy check), and a source
        without its version does not name the data. Same source type: readers parse it as Delta.
        """

        def __init__(self, path: str, version: int, fingerprint: str) -> None:
            super().__init__(path=path, delta_table_version=version)
            self._fingerprint = fingerprint

        def to_dict(self) -> dict[Any, Any]:
            return {**super().to_dict(), "delta_table_version": self.delta_table_version,
                    "fingerprint": self._fingerprint}

    return PinnedDeltaSource


def _dataset_input(pinned: PinnedInput) -> Any:
    from mlflow.data.meta_dataset import MetaDataset
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    source = _pinned_source_class()(pinned.uri, pinned.version, pinned.fingerprint)
    # MLflow stores 36 characters of digest; the full fingerprint goes in an input tag.
    dataset = MetaDataset(source=source, name=f"{pinned.uri}@v{pinned.version}",  # type: ignore[abstract]
                          digest=pinned.fingerprint[:36])
    input_tags = [InputTag(MLFLOW_DATASET_CONTEXT, pinned.name), InputTag(keys.INPUT_FINGERPRINT, pinned.fingerprint)]
    return DatasetInput(dataset=dataset._to_mlflow_entity(), tags=input_tags)


def log_slice_metrics(metrics: Mapping[str, Mapping[str, float]], *, run_id: str | None = None,
                      client: MlflowClient | None = None, key_template: str = keys.DEFAULT_METRIC_KEY) -> None:
    """Log evaluation metrics per slice under the keys the promotion gate reads.

    Args:
        metrics: ``{slice: {metric: value}}``, e.g. ``{"overall": {"auc": 0.91}, "country=FR": {...}}``.
        run_id: default the active run.
        client: default ``MlflowClient()``.
        key_template: how a (metric, slice) pair is named; must match the policy's ``metric_key``.
    """
    import mlflow
    from mlflow.entities import Metric

    run_id = active_run_id(run_id)
    client = client or mlflow.MlflowClient()
    now = int(time.time() * 1000)
    batch = [Metric(keys.metric_key(m, s, key_template), float(v), now, 0)
             for s, values in metrics.items() for m, v in values.items()]
    client.log_batch(run_id, metrics=batch)
