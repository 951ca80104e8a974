"""The training record's parts: pinned inputs, gates, contract, code version, Airflow identity, tags."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.record import (
    GateRecord,
    PinnedInput,
    airflow_identity,
    code_version,
    contract_identity,
    gate_status,
    installed_packages,
    record_tags,
    result_dict,
)


@dataclass
class DriftLike:
    passed: bool
    features: list[str]


def test_pinned_input_from_a_real_delta_snapshot(tmp_path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    from airflow_provider_parity.delta import resolve_snapshot

    write_deltalake(str(tmp_path / "t"), pa.table({"x": [1, 2, 3]}))
    snapshot = resolve_snapshot(str(tmp_path / "t"))
    pinned = PinnedInput.of(snapshot)
    assert (pinned.uri, pinned.version, pinned.fingerprint, pinned.row_count) == (
        snapshot.uri, 0, snapshot.fingerprint, 3)


@pytest.mark.parametrize("source", [
    {"uri": "", "version": 1, "fingerprint": "f"},
    {"uri": "s3://b/t", "version": None, "fingerprint": "f"},
    {"uri": "s3://b/t", "version": -1, "fingerprint": "f"},
    {"uri": "s3://b/t", "version": True, "fingerprint": "f"},
    {"uri": "s3://b/t", "version": 3, "fingerprint": ""},
])
def test_an_input_without_its_version_or_fingerprint_is_refused(source: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="pinned input needs uri, a version >= 0 and a fingerprint"):
        PinnedInput.of(source)


@pytest.mark.parametrize("result, status", [
    ({"status": "PASSED"}, "passed"), ({"status": "failed"}, "failed"), ({"status": "warning"}, "warned"),
    ({"success": False}, "failed"), (DriftLike(True, ["x"]), "passed"), (DriftLike(False, []), "failed"),
])
def test_gate_status_reads_status_or_passed(result: Any, status: str) -> None:
    assert gate_status("g", result) == status


def test_gate_results_must_say_how_they_went() -> None:
    with pytest.raises(ConfigurationError, match="gate 'g': result has no 'status'"):
        gate_status("g", {"rows": 3})
    with pytest.raises(ConfigurationError, match="dataclass or a mapping"):
        result_dict(["passed"])


def test_result_dict_is_json_ready() -> None:
    from datetime import datetime

    data = result_dict({"status": "passed", "at": datetime(2026, 1, 1), "path": Path("/x")})
    assert json.loads(json.dumps(data)) == {"status": "passed", "at": "2026-01-01 00:00:00", "path": "/x"}


def test_contract_identity_from_the_contract(example_contract: Any) -> None:
    identity = contract_identity(example_contract)
    assert identity == {"name": example_contract.name, "version": str(example_contract.dataset.version),
                        "hash": example_contract.fingerprint, "ref": example_contract.ref}
    with pytest.raises(ConfigurationError, match="name and a hash"):
        contract_identity({"name": "c"})


def test_airflow_identity_from_context_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    @dataclass
    class TaskInstanceFields:  # the attributes Airflow's RuntimeTaskInstance carries
        dag_id: str = "train_dag"
        task_id: str = "train"
        run_id: str = "manual__2026"
        try_number: int = 2

    assert airflow_identity({"ti": TaskInstanceFields()}) == {
        "dag_id": "train_dag", "task_id": "train", "run_id": "manual__2026", "try_number": "2"}
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "pod_dag")
    monkeypatch.setenv("AIRFLOW_CTX_TRY_NUMBER", "1")
    assert airflow_identity(None) == {"dag_id": "pod_dag", "try_number": "1"}


def test_code_version_prefers_explicit_then_env_then_git_then_package(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARITY_CODE_VERSION", raising=False)
    assert code_version("v1.2", code_dir=str(tmp_path)) == ("v1.2", "explicit", None)
    assert code_version(code_dir=str(tmp_path), package="mlflow")[1:] == ("package", None)
    assert code_version(code_dir=str(tmp_path), package="no-such-dist-xyz") == ("unknown", "unknown", None)
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@t", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    (tmp_path / "train.py").write_text("print(1)\n")
    subprocess.run([*git, "add", "train.py"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    sha = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert code_version(code_dir=str(tmp_path)) == (sha, "git", False)
    (tmp_path / "train.py").write_text("print(2)\n")
    assert code_version(code_dir=str(tmp_path)) == (sha, "git", True)
    monkeypatch.setenv("PARITY_CODE_VERSION", "image:abc")
    assert code_version(code_dir=str(tmp_path)) == ("image:abc", "env", None)


def test_record_tags_name_the_data_contract_gates_code_and_run() -> None:
    inputs = [PinnedInput("s3://lake/features", 12, "f" * 64, row_count=100),
              PinnedInput("s3://lake/labels", 3, "a" * 64, name="evaluation")]
    contract = {"name": "features", "version": "2", "hash": "h" * 64, "ref": "features@2#hhhhhhhhhhhh"}
    gates = [GateRecord("validation", "passed"), GateRecord("drift", "failed")]
    packages = installed_packages()
    tags = record_tags(inputs, contract, gates, ("abc", "git", True),
                       {"dag_id": "d", "run_id": "r", "try_number": "1"}, packages)
    assert json.loads(tags[keys.DATA])[1] == {"uri": "s3://lake/labels", "version": 3, "fingerprint": "a" * 64,
                                              "name": "evaluation", "row_count": None}
    assert tags[keys.CONTRACT_HASH] == "h" * 64
    assert (tags["parity.gate.validation.status"], tags["parity.gate.drift.status"]) == ("passed", "failed")
    assert tags[keys.GATES_STATUS] == "failed"
    assert (tags[keys.CODE_VERSION], tags[keys.CODE_SOURCE], tags[keys.CODE_DIRTY]) == ("abc", "git", "true")
    assert (tags[keys.AIRFLOW_DAG_ID], tags[keys.AIRFLOW_TRY_NUMBER]) == ("d", "1")
    assert tags["parity.package.mlflow"] == packages["mlflow"]
    assert all(len(v) <= 8000 for v in tags.values())
