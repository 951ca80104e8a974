"""A dataset's contract versions over time, and what changed between consecutive ones.

Which contract a gate checked is in the ledger (each outcome's ``contract`` ref,
``name@version#hash``); the contracts themselves are the ``parity/contract.json`` artifacts the
training runs recorded (``tracking.record``), found by their ``parity.contract.ref`` tag. The
diff is ``contracts.diff``'s, breaking or not. A contract no run recorded is listed without a diff.
No Airflow here: the plugin passes the ledger rows and an MLflow client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from airflow_provider_parity.contracts.model import Contract

MAX_VERSIONS = 12
"""The newest contract versions the page diffs (each costs an artifact download)."""


@dataclass(frozen=True)
class ContractVersion:
    ref: str
    first_seen: str
    last_seen: str
    outcomes: int


def contract_versions(rows: Iterable[Mapping[str, Any]]) -> list[ContractVersion]:
    """Each contract ref in ``rows`` (ledger rows, oldest first) with when it was first and last checked."""
    seen: dict[str, list[Any]] = {}
    for row in rows:
        ref = row.get("contract")
        if ref:
            entry = seen.setdefault(ref, [row["finished_at"], row["finished_at"], 0])
            entry[1], entry[2] = row["finished_at"], entry[2] + 1
    return [ContractVersion(ref, str(first), str(last), count) for ref, (first, last, count) in seen.items()]


def recorded_contract(client: MlflowClient, ref: str) -> Contract | None:
    """The contract ``ref`` as a training run recorded it (None: no run recorded that one)."""
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.tracking import keys
    from airflow_provider_parity.tracking.explain import _run_json

    experiments = [e.experiment_id for e in client.search_experiments()]
    quoted = ref.replace("'", "\\'")
    runs = client.search_runs(experiments, filter_string=f"tags.`{keys.CONTRACT_REF}` = '{quoted}'", max_results=1)
    data = _run_json(client, runs[0].info.run_id, keys.CONTRACT_FILE) if runs else None
    return None if data is None else Contract.model_validate(data)


def contract_diffs(client: MlflowClient, versions: Sequence[ContractVersion]) -> dict[str, list[str]]:
    """For each of the newest versions after the first: the change lines from the version before it."""
    from airflow_provider_parity.contracts.diff import diff_contracts

    newest = list(versions)[-MAX_VERSIONS:]
    bodies = {v.ref: recorded_contract(client, v.ref) for v in newest}
    diffs: dict[str, list[str]] = {}
    for before, after in zip(newest, newest[1:], strict=False):
        old, new = bodies[before.ref], bodies[after.ref]
        if old is None or new is None:
            diffs[after.ref] = ["(not recorded by a training run: compare the refs)"]
            continue
        diff = diff_contracts(old, new)
        verdict = ("BREAKING" if diff.breaking else "compatible") + (
            "" if diff.version_ok else ", without the version bump its policy asks for")
        diffs[after.ref] = [verdict, *(c.line() for c in diff.changes)]
    return diffs
