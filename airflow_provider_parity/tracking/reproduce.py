"""Reproducibility audit: recreate a model version's training set from its recorded Delta versions.

For each recorded input the audit pins the same Delta version, recomputes its fingerprint,
reads the data back (which fails if the files were vacuumed) and compares the row count.
Anything that differs is named: the table, the version, recorded versus recomputed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from airflow_provider_parity.exceptions import (
    ConfigurationError,
    ParityError,
    ReproducibilityMismatch,
)
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.record import PinnedInput

if TYPE_CHECKING:
    from mlflow import MlflowClient

AuditStatus = Literal["match", "mismatch", "unavailable"]


@dataclass(frozen=True)
class InputAudit:
    """One recorded input, recreated."""

    name: str
    uri: str
    version: int
    status: AuditStatus
    recorded_fingerprint: str
    fingerprint: str | None = None
    recorded_row_count: int | None = None
    row_count: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class ReproductionReport:
    model: str
    version: str
    run_id: str | None
    passed: bool
    inputs: list[InputAudit] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """One line naming every input that differs (or that all match)."""
        bad = [f"{i.uri}@v{i.version}: {i.detail}" for i in self.inputs if i.status != "match"]
        return "; ".join(bad) if bad else f"{len(self.inputs)} input(s) reproduced"


def recorded_inputs(tags: Mapping[str, str], where: str) -> list[PinnedInput]:
    """The pinned inputs in a ``parity.data`` tag.

    Raises:
        ConfigurationError: no such tag, or one that is not a list of inputs.
    """
    text = tags.get(keys.DATA)
    if not text:
        raise ConfigurationError(f"{where} has no {keys.DATA} tag: it was not recorded with record_training")
    try:
        return [PinnedInput.of(item) for item in json.loads(text)]
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{where}: tag {keys.DATA} is not a list of pinned inputs: {exc}") from None


def audit_input(pinned: PinnedInput, *, storage_options: Mapping[str, str] | None = None,
                read_data: bool = True) -> InputAudit:
    """Recreate one input: pin its version, recompute the fingerprint, read the rows back.

    Args:
        pinned: the recorded input.
        storage_options: delta-rs storage options.
        read_data: read the version's files (catches vacuumed files and row-count changes).

    Returns:
        ``match`` when fingerprint (and row count) agree, ``mismatch`` naming what differs,
        ``unavailable`` when the version can no longer be read (vacuumed, deleted, expired log).
    """
    from airflow_provider_parity.delta import read_arrow, resolve_snapshot

    base = InputAudit(name=pinned.name, uri=pinned.uri, version=pinned.version, status="unavailable",
                      recorded_fingerprint=pinned.fingerprint, recorded_row_count=pinned.row_count)
    try:
        snapshot = resolve_snapshot(pinned.uri, pinned.version, storage_options=storage_options)
        rows = (read_arrow(pinned.uri, pinned.version, storage_options=storage_options).num_rows
                if read_data else snapshot.row_count)
    except ParityError as exc:
        return dataclasses.replace(base, detail=f"cannot be recreated: {exc}")
    differences = []
    if snapshot.fingerprint != pinned.fingerprint:
        differences.append(f"fingerprint {snapshot.fingerprint[:12]} recomputed, {pinned.fingerprint[:12]} recorded")
    if pinned.row_count is not None and rows is not None and rows != pinned.row_count:
        differences.append(f"{rows} rows read, {pinned.row_count} recorded")
    return dataclasses.replace(base, status="mismatch" if differences else "match", fingerprint=snapshot.fingerprint,
                               row_count=rows, detail=", ".join(differences) or "same fingerprint")


def audit_inputs(inputs: Sequence[PinnedInput], *, storage_options: Mapping[str, str] | None = None,
                 read_data: bool = True) -> list[InputAudit]:
    return [audit_input(p, storage_options=storage_options, read_data=read_data) for p in inputs]


def audit_version(client: MlflowClient, name: str, version: str | int, *,
                  storage_options: Mapping[str, str] | None = None, read_data: bool = True) -> ReproductionReport:
    """Audit a registered model version against the data recorded on it (or on its run).

    Args:
        client: the MLflow client.
        name: the registered model.
        version: the version.
        storage_options: delta-rs storage options for the tables.
        read_data: also read the data back, not only the log.

    Returns:
        The report; ``passed`` when every input matches.

    Raises:
        ConfigurationError: the version is not a number, does not exist or has no recorded data.
    """
    from airflow_provider_parity.tracking.client import load_version

    if not str(version).isdigit() or int(version) < 1:
        raise ConfigurationError(f"model version must be a whole number from 1, got {str(version)[:40]!r}")
    info = load_version(client, name, version)
    tags = info.tags
    if keys.DATA not in tags and info.run_id:
        tags = dict(client.get_run(info.run_id).data.tags)
    inputs = recorded_inputs(tags, f"model {name!r} v{info.version}")
    audits = audit_inputs(inputs, storage_options=storage_options, read_data=read_data)
    return ReproductionReport(model=name, version=info.version, run_id=info.run_id,
                              passed=all(a.status == "match" for a in audits), inputs=audits)


@contextmanager
def refusals_as_bad_input(tracking_uri: str | None, *, secrets: Sequence[str | None] = ()) -> Iterator[None]:
    """Turn MLflow refusing a request (an unsupported URI, a bad parameter) into one ``ConfigurationError`` line.

    Outages are not refusals: wrap the calls in ``outage_as_error`` inside this, so they stay
    ``ServiceUnavailable``.
    """
    from mlflow.exceptions import MlflowException

    from airflow_provider_parity.tracking.client import redact, safe_uri

    try:
        yield
    except MlflowException as exc:
        first = str(exc.message if hasattr(exc, "message") else exc).splitlines()[0]
        message = f"MLflow at {safe_uri(tracking_uri)} refused the request: {first}"
        raise ConfigurationError(redact(message, secrets)) from None


def require_reproducible(report: ReproductionReport) -> ReproductionReport:
    """``report`` when it passed.

    Raises:
        ReproducibilityMismatch: an input differs or can no longer be read; the message names it.
    """
    if not report.passed:
        raise ReproducibilityMismatch(f"{report.model} v{report.version} not reproducible: {report.reason}",
                                      result=report)
    return report
