"""What changed between two model versions: data, commits, contract, code, gates, metrics, drift.

"What changed?" answered from what training recorded (``record_training``'s tags and artifacts on
each version's run) and the Delta log, in seconds: no war room. Between two versions of a
registered model:

* the training data: each pinned table's version and fingerprint on both sides;
* every Delta commit between the two pins, with who wrote it (the ``parity.*`` commit metadata:
  DAG, run, task, contract);
* the contract: refs on both sides and, when both contracts were recorded, the classified diff;
* the code version and the packages whose versions changed;
* each data gate's status on both sides;
* every metric of the two runs with its delta (AUC per slice, ...);
* optionally the drift between the two training sets (the drift engine on the two pinned
  snapshots).

No Airflow here; mlflow and deltalake are imported by the functions that need them.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking import keys

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mlflow import MlflowClient

    from airflow_provider_parity.tracking.client import VersionInfo


@dataclass
class ExplainReport:
    """The differences between model versions ``old`` and ``new`` (JSON-ready through :meth:`to_dict`)."""

    model: str
    old: str
    new: str
    runs: dict[str, str | None]
    data: list[dict[str, Any]] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)
    contract: dict[str, Any] = field(default_factory=dict)
    code: dict[str, Any] = field(default_factory=dict)
    gates: dict[str, dict[str, str | None]] = field(default_factory=dict)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    drift: dict[str, Any] | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> list[str]:
        """The report as lines a person reads top to bottom."""
        lines = [f"{self.model}: v{self.old} -> v{self.new} (runs {self.runs['old']} -> {self.runs['new']})"]
        for item in self.data:
            state = "changed" if item["changed"] else "same"
            lines.append(f"data      {item['uri']}: v{item['old_version']} -> v{item['new_version']} ({state}; "
                         f"fingerprint {str(item['old_fingerprint'])[:12]} -> {str(item['new_fingerprint'])[:12]})")
        for commit in self.commits:
            who = " ".join(f"{k}={v}" for k, v in commit["by"].items())
            lines.append(f"commit    {commit['uri']} v{commit['version']} {commit['timestamp']} "
                         f"{commit['operation']} {who}".rstrip())
        contract = self.contract
        lines.append(f"contract  {contract.get('old')} -> {contract.get('new')}: {contract.get('verdict')}")
        lines += [f"          {change}" for change in contract.get("changes", [])]
        code = self.code
        lines.append(f"code      {code.get('old')} -> {code.get('new')}"
                     + (f"; packages: {', '.join(code['packages'])}" if code.get("packages") else "; same packages"))
        for name, sides in sorted(self.gates.items()):
            lines.append(f"gate      {name}: {sides['old']} -> {sides['new']}")
        for row in self.metrics:
            delta = "" if row["delta"] is None else f" ({row['delta']:+.4f})"
            lines.append(f"metric    {row['key']}: {_fmt(row['old'])} -> {_fmt(row['new'])}{delta}")
        if self.drift is not None:
            lines.append(f"drift     between the training sets: {self.drift['message']}")
        return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _inputs(info: VersionInfo) -> list[dict[str, Any]]:
    text = info.tags.get(keys.DATA)
    try:
        return list(json.loads(text)) if text else []
    except ValueError:
        raise ConfigurationError(f"{info.name} v{info.version}: tag {keys.DATA} is not JSON") from None


def _data(old: VersionInfo, new: VersionInfo) -> list[dict[str, Any]]:
    before = {i.get("uri"): i for i in _inputs(old)}
    rows = []
    for item in _inputs(new):
        prior = before.pop(item.get("uri"), {})
        rows.append({"uri": item.get("uri"), "old_version": prior.get("version"), "new_version": item.get("version"),
                     "old_fingerprint": prior.get("fingerprint"), "new_fingerprint": item.get("fingerprint"),
                     "changed": prior.get("fingerprint") != item.get("fingerprint")})
    rows += [{"uri": uri, "old_version": p.get("version"), "new_version": None, "old_fingerprint": p.get("fingerprint"),
              "new_fingerprint": None, "changed": True} for uri, p in before.items()]
    return rows


def _commits(data: list[dict[str, Any]], storage_options: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """Each table's commits after the old pin up to the new one, oldest first, with their ``parity.*`` metadata."""
    from airflow_provider_parity.delta.writer import history_with_metadata

    found = []
    for item in data:
        lo, hi = item["old_version"], item["new_version"]
        if lo is None or hi is None or lo == hi:
            continue
        start, end = sorted((int(lo), int(hi)))
        for entry in reversed(history_with_metadata(item["uri"], storage_options=storage_options)):
            if start < entry["version"] <= end:
                by = {k.removeprefix("parity."): v for k, v in entry["metadata"].items()
                      if k.startswith("parity.") and k not in ("parity.write_id", "parity.contract_hash")}
                found.append({"uri": item["uri"], "version": entry["version"], "timestamp": entry["timestamp"],
                              "operation": entry["operation"], "by": by})
    return found


def _run_json(client: MlflowClient, run_id: str | None, path: str) -> Any:
    """A JSON artifact of a run, or None when the run has none (older runs recorded less)."""
    import tempfile

    if not run_id:
        return None
    with tempfile.TemporaryDirectory(prefix="parity-explain-") as folder:
        try:
            local = client.download_artifacts(run_id, path, folder)
        except Exception:  # MLflow raises several types for a missing artifact
            return None
        with open(local, encoding="utf-8") as handle:
            return json.load(handle)


def _recorded_contract(client: MlflowClient, info: VersionInfo) -> Any:
    """The contract a version was trained under, when ``record_training`` stored it (else None)."""
    from airflow_provider_parity.contracts.model import Contract

    data = _run_json(client, info.run_id, keys.CONTRACT_FILE)
    return None if data is None else Contract.model_validate(data)


def _contract(client: MlflowClient, old: VersionInfo, new: VersionInfo) -> dict[str, Any]:
    from airflow_provider_parity.contracts.diff import diff_contracts

    refs = {"old": old.tags.get(keys.CONTRACT_REF), "new": new.tags.get(keys.CONTRACT_REF)}
    if refs["old"] == refs["new"]:
        return {**refs, "verdict": "same contract", "changes": []}
    before, after = _recorded_contract(client, old), _recorded_contract(client, new)
    if before is None or after is None:
        return {**refs, "verdict": "changed (the contracts themselves were not recorded: compare the refs)",
                "changes": []}
    diff = diff_contracts(before, after)
    verdict = ("BREAKING" if diff.breaking else "compatible") + f", {len(diff.changes)} change(s)" + (
        "" if diff.version_ok else ", without the version bump its policy asks for")
    return {**refs, "verdict": verdict, "changes": [c.line() for c in diff.changes]}


def _code(client: MlflowClient, old: VersionInfo, new: VersionInfo) -> dict[str, Any]:
    sides = [_run_json(client, v.run_id, keys.PACKAGES_FILE) or {} for v in (old, new)]
    names = sorted(set(sides[0]) | set(sides[1]))
    packages = [f"{n} {sides[0].get(n, '-')} -> {sides[1].get(n, '-')}" for n in names
                if sides[0].get(n) != sides[1].get(n)]
    return {"old": old.tags.get(keys.CODE_VERSION), "new": new.tags.get(keys.CODE_VERSION), "packages": packages}


def _gates(old: VersionInfo, new: VersionInfo) -> dict[str, dict[str, str | None]]:
    prefix, suffix = keys.GATE_STATUS.split("{name}")
    names = {k[len(prefix):-len(suffix)] for info in (old, new) for k in info.tags
             if k.startswith(prefix) and k.endswith(suffix)}
    return {n: {"old": old.tags.get(keys.GATE_STATUS.format(name=n)), "new": new.tags.get(keys.GATE_STATUS.format(name=n))}
            for n in names}


def _metrics(old: VersionInfo, new: VersionInfo) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(old.metrics) | set(new.metrics)):
        a, b = old.metrics.get(key), new.metrics.get(key)
        rows.append({"key": key, "old": a, "new": b, "delta": None if a is None or b is None else b - a})
    return rows


def _drift(data: list[dict[str, Any]], storage_options: Mapping[str, str] | None,
           contract: Any = None) -> dict[str, Any] | None:
    """The drift engine on the two pinned training sets; with the contract the new model was trained
    under, only its features (keys, event times and partition dates change by design)."""
    from airflow_provider_parity.drift.gate import run_drift

    changed = [d for d in data if d["changed"] and d["old_version"] is not None and d["new_version"] is not None]
    if not changed:
        return None
    item = changed[0]
    from airflow_provider_parity.exceptions import DataError

    def compare(with_contract: Any) -> Any:
        return run_drift(item["uri"], item["uri"], reference_version=int(item["old_version"]),
                         current_version=int(item["new_version"]), reference_kind="delta", current_kind="delta",
                         storage_options=storage_options, contract=with_contract)[0]

    try:
        result = compare(contract)
    except DataError:
        if contract is None:
            raise
        # The recorded contract does not describe this table (a training set built from it): every column.
        result = compare(None)
    return {"uri": item["uri"], "verdict": result.verdict, "message": result.message,
            "drifted_features": list(result.drifted_features)}


def previous_version(client: MlflowClient, name: str, version: str) -> str:
    """The version registered just before ``version``.

    Raises:
        ConfigurationError: ``version`` is the first one.
    """
    numbers = sorted(int(mv.version) for mv in client.search_model_versions(f"name = '{name}'"))
    earlier = [n for n in numbers if n < int(version)]
    if not earlier:
        raise ConfigurationError(f"{name} v{version} is its first version: give the version to compare it with")
    return str(earlier[-1])


def explain(client: MlflowClient, name: str, old: str | int | None, new: str | int, *,
            drift: bool = True, storage_options: Mapping[str, str] | None = None) -> ExplainReport:
    """Everything that differs between ``old`` and ``new`` versions of model ``name``.

    Args:
        client: the MLflow client.
        name: the registered model.
        old: the earlier version; None for the one registered just before ``new``.
        new: the later version.
        drift: also compare the two training sets with the drift engine (reads both snapshots).
        storage_options: object-store credentials for the Delta tables.

    Raises:
        ConfigurationError: an unknown model or version.
    """
    from airflow_provider_parity.tracking.client import load_version

    started = time.perf_counter()
    new = str(new)
    old = previous_version(client, name, new) if old in (None, "") else str(old)
    before, after = load_version(client, name, old), load_version(client, name, new)
    data = _data(before, after)
    report = ExplainReport(
        model=name, old=old, new=new, runs={"old": before.run_id, "new": after.run_id}, data=data,
        commits=_commits(data, storage_options), contract=_contract(client, before, after),
        code=_code(client, before, after), gates=_gates(before, after), metrics=_metrics(before, after),
        drift=_drift(data, storage_options, _recorded_contract(client, after)) if drift else None,
    )
    report.seconds = round(time.perf_counter() - started, 3)
    return report
