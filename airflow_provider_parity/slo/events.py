"""What an SLO counts, decided once: the good and bad events a gate outcome contributes.

* ``freshness``: each outcome of a freshness gate is one event, good when it passed.
* ``completeness``: each completeness check (the completeness gate's, and the contract gate's
  ``completeness(column)`` rules) is one event, good when it held; a completeness gate that could
  not look (``error``) is one bad event.
* ``gate_pass_rate``: each outcome about the dataset is one event, good when it did not block.

Events are keyed by the dataset's *name* (the contract's, else the last segment of the data's
URI), never by a URI or a version: a label whose values grow with the data would blow up
Prometheus, and a contract bump must not restart an SLO.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from airflow_provider_parity.contracts.model import SloKind
from airflow_provider_parity.outcomes.model import GateOutcome

SLO_KINDS: tuple[SloKind, ...] = ("freshness", "completeness", "gate_pass_rate")


@dataclass(frozen=True)
class SloEvent:
    """One event of one SLO: which dataset, which SLO, whether it was good, and when."""

    dataset: str
    slo: SloKind
    good: bool
    at: datetime


def dataset_key(outcome: GateOutcome) -> str:
    """The dataset an outcome is about, as a stable low-cardinality name.

    ``customer_features@1.0.0#abc`` gives ``customer_features``; without a contract,
    ``s3://lake/features/customer_features/`` gives ``customer_features``.
    """
    if outcome.contract:
        return outcome.contract.partition("@")[0]
    if outcome.dataset:
        return outcome.dataset.rstrip("/").rpartition("/")[2].partition("?")[0] or outcome.dataset
    return "unknown"


def contract_version(outcome: GateOutcome) -> str:
    """The contract's semantic version (``1.0.0``), or ``""`` when the outcome names no contract."""
    if not outcome.contract or "@" not in outcome.contract:
        return ""
    return outcome.contract.partition("@")[2].partition("#")[0]


def moment(text: str | None) -> datetime | None:
    """An outcome's ISO 8601 time in UTC (a time without zone is UTC, as the ledger writes it)."""
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def finished(outcome: GateOutcome) -> datetime | None:
    return moment(outcome.finished_at)


def _completeness(outcome: GateOutcome) -> list[bool]:
    if outcome.gate == "completeness" and outcome.status == "error":
        return [False]
    if outcome.gate not in ("completeness", "contract"):
        return []
    return [c.success for c in outcome.checks if c.name.startswith("completeness(")]


def slo_events(outcome: GateOutcome) -> list[SloEvent]:
    """The SLO events ``outcome`` contributes (none when it has no finish time)."""
    at = finished(outcome)
    if at is None:
        return []
    dataset = dataset_key(outcome)
    events = [SloEvent(dataset, "gate_pass_rate", not outcome.blocking, at)]
    if outcome.gate == "freshness":
        events.append(SloEvent(dataset, "freshness", outcome.status == "passed", at))
    events += [SloEvent(dataset, "completeness", good, at) for good in _completeness(outcome)]
    return events
