"""The one value every gate produces: :class:`GateOutcome`.

A contract gate, the dbt build, a drift or skew gate, the freshness sensor, the completeness
gate, the promotion gate and the reproducibility audit each end in a ``GateOutcome``. Every
consumer derives what it needs from it, and only from it: the task's state and XCom, the
CLI's exit code, the ledger row, the OpenLineage facets and the MLflow tags. Nobody re-reads a
report file or guesses a field name.

Plain dataclasses, JSON-ready through :meth:`GateOutcome.to_dict`; no Airflow, no data library.

Example:
    >>> outcome = GateOutcome(gate="contract", status="failed", blocking=True,
    ...                       reason="between(orders_30d): observed 5 offending values, expected [0, 1000]")
    >>> outcome.exit_code
    1
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal, get_args

OutcomeStatus = Literal["passed", "failed", "warned", "no_baseline", "insufficient_data", "error"]
STATUSES: tuple[str, ...] = get_args(OutcomeStatus)
Severity = Literal["error", "warn"]

# A check's observed/expected text and a reason are capped: an offending value may be a 10 MB string.
MAX_TEXT = 500
MAX_REASON = 2000


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` on one line, at most ``limit`` characters (an ellipsis marks the cut)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _plain(value: Any) -> Any:
    """A metric value JSON and Parquet both hold: finite numbers, text, booleans or None."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def _number(value: Any) -> float | None:
    """A finite float, or None (NaN, infinities, text and booleans are not measurements)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "item"):
        return None
    number = float(value.item() if hasattr(value, "item") else value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class Check:
    """One thing a gate checked: what, where, observed versus expected, and whether it held.

    These become OpenLineage ``dataQualityAssertions`` (``actual`` is ``observed``), the rows of
    the report, and the "which check fired" of a blocked run.

    ``value`` is the observed number, exact, when the check measured one (``observed`` is its
    rounded text): for a contract rule the fraction of rows that broke it (for ``not_null`` and
    ``completeness`` rules, the null ratio), for the completeness gate the non-null ratio, for a
    drift check its score, for per-entity skew the mismatch rate, for a promotion's metric check
    the challenger's metric. Outcomes written before it existed read back with ``None``.
    """

    name: str
    success: bool
    column: str | None = None
    observed: str | None = None
    expected: str | None = None
    severity: Severity = "error"
    value: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _number(self.value))

    def message(self) -> str:
        where = f"{self.name}" if not self.column or self.column in self.name else f"{self.name}({self.column})"
        return f"{where}: observed {self.observed}, expected {self.expected}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(name=str(data["name"]), success=bool(data["success"]), column=data.get("column"),
                   observed=None if data.get("observed") is None else str(data["observed"]),
                   expected=None if data.get("expected") is None else str(data["expected"]),
                   severity="warn" if data.get("severity") == "warn" else "error", value=data.get("value"))


@dataclass(frozen=True)
class RunIdentity:
    """Which task try produced an outcome (Airflow's, or a CLI run's own)."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 1

    @property
    def key(self) -> str:
        return f"{self.dag_id}/{self.run_id}/{self.task_id}/{self.map_index}/{self.try_number}"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunIdentity:
        return cls(dag_id=str(data["dag_id"]), run_id=str(data["run_id"]), task_id=str(data["task_id"]),
                   map_index=int(data.get("map_index", -1)), try_number=int(data.get("try_number", 1)))


@dataclass(frozen=True)
class GateOutcome:
    """What a gate decided about one dataset (or model), and everything needed to act on it.

    Attributes:
        gate: the kind of gate: ``contract``, ``dbt``, ``drift``, ``skew``, ``freshness``,
            ``completeness``, ``promotion``, ``reproduce``, ...
        status: ``passed``, ``failed``, ``warned`` (a violation let through), ``no_baseline``,
            ``insufficient_data`` or ``error`` (bad input: nothing could be checked).
        blocking: whether downstream work must stop. A failure blocks unless warn-only; a
            cold start or thin data blocks only when the gate's policy says so.
        reason: one line: what was checked and, when it did not pass, which check fired with
            observed versus expected.
        dataset: the data judged (URI without credentials), or the model for a promotion.
        version: its Delta (or model) version.
        fingerprint: the Delta snapshot fingerprint, when pinned.
        contract: the contract's ``name@version#hash12``.
        metrics: key numbers (rows, failed checks, the largest drift score, ...).
        checks: every check that ran.
        reports: report URIs by kind (``json``, ``html``).
        as_of: the moment freshness was judged against (ISO 8601), one per run.
        started_at / finished_at: ISO 8601 UTC.
        run: the task try that produced it.
    """

    gate: str
    status: OutcomeStatus
    blocking: bool
    reason: str
    name: str | None = None
    """The gate's own name in its pipeline (the task id), when it differs from ``gate``."""
    dataset: str | None = None
    version: int | None = None
    fingerprint: str | None = None
    contract: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()
    reports: dict[str, str] = field(default_factory=dict)
    as_of: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    run: RunIdentity | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown outcome status {self.status!r}; expected one of {', '.join(STATUSES)}")
        object.__setattr__(self, "reason", clip(self.reason, MAX_REASON))
        object.__setattr__(self, "metrics", {str(k): _plain(v) for k, v in self.metrics.items()})
        object.__setattr__(self, "checks", tuple(self.checks))

    # --- what consumers derive -------------------------------------------------------

    @property
    def passed(self) -> bool:
        """True when nothing downstream has to stop."""
        return not self.blocking

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 0 when it does not block, 1 for a blocking verdict, 2 for bad input."""
        if not self.blocking:
            return 0
        return 2 if self.status == "error" else 1

    @property
    def label(self) -> str:
        """How a person names this gate: the task id when there is one, else the kind."""
        return self.name or (self.run.task_id if self.run else None) or self.gate

    @property
    def outcome_id(self) -> str:
        """Stable per task try (so a ledger append retried by the same try is written once)."""
        basis = self.run.key if self.run else json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.success]

    def with_(self, **changes: Any) -> GateOutcome:
        """A copy with ``changes`` (reports, run identity, finish time, ...)."""
        return replace(self, **changes)

    def lineage_assertions(self) -> list[dict[str, Any]]:
        """OpenLineage ``dataQualityAssertions``: ``actual`` is what was observed."""
        return [{"assertion": c.name, "success": c.success, "column": c.column, "expected": c.expected,
                 "actual": c.observed, "severity": c.severity} for c in self.checks]

    def mlflow_tags(self, prefix: str = "parity.gate") -> dict[str, str]:
        """Tags for an MLflow run or model version: status, reason and where the data was."""
        base = f"{prefix}.{self.label}"
        tags = {f"{base}.status": self.status, f"{base}.blocking": str(self.blocking).lower(),
                f"{base}.reason": clip(self.reason, 5000)}
        if self.dataset:
            tags[f"{base}.dataset"] = self.dataset
        if self.version is not None:
            tags[f"{base}.version"] = str(self.version)
        if self.reports.get("json"):
            tags[f"{base}.report"] = self.reports["json"]
        return tags

    # --- plain data ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [asdict(c) for c in self.checks]
        data["exit_code"] = self.exit_code
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateOutcome:
        """Rebuild an outcome from :meth:`to_dict` (unknown keys are ignored: newer writers may add some).

        Raises:
            ValueError: a required field is missing or the status is unknown.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a gate outcome must be a mapping, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        missing = [k for k in ("gate", "status", "blocking", "reason") if k not in kwargs]
        if missing:
            raise ValueError(f"not a gate outcome: missing {', '.join(missing)}")
        kwargs["checks"] = tuple(Check.from_dict(c) for c in data.get("checks") or ())
        kwargs["run"] = RunIdentity.from_dict(data["run"]) if data.get("run") else None
        kwargs["metrics"] = dict(data.get("metrics") or {})
        kwargs["reports"] = {str(k): str(v) for k, v in (data.get("reports") or {}).items()}
        if kwargs.get("version") is not None:
            kwargs["version"] = int(kwargs["version"])
        return cls(**kwargs)


def coerce_outcomes(value: Any) -> list[GateOutcome]:
    """Outcomes from what a task receives: an outcome, its dict, JSON text, or a list or mapping of them.

    Airflow hands a list pulled from several tasks as a list (native rendering) or as its text;
    a pod receives JSON. ``None`` entries (a gate that did not run) are dropped.

    Raises:
        ValueError: something that is not an outcome.
    """
    if value is None or value == "":
        return []
    if isinstance(value, GateOutcome):
        return [value]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            import ast

            try:  # Jinja without native rendering gives Python's repr of a list of dicts
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                raise ValueError(f"not gate outcomes: {clip(value, 120)!r}") from None
        if value is None:
            return []
    if isinstance(value, Mapping) and "gate" in value and "status" in value:
        return [GateOutcome.from_dict(value)]
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, Sequence):
        return [o for item in value for o in coerce_outcomes(item)]
    raise ValueError(f"not gate outcomes: {type(value).__name__}")
