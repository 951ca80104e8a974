"""The retraining policy: when a model is retrained, when not, and when it must not be.

The policy is data (a mapping in the DAG bundle, a ``Param`` a run may override): the minimum and
maximum interval between retrainings, the drift and per-entity skew levels that request one, the
label-quality floor that forbids one, and the evaluation window after a promotion during which the
new champion is watched, not replaced. :func:`decide` is pure: signals in, one of ``retrain``,
``skip`` or ``forbid`` out, with its reason; :func:`history` reads the last retraining and promotion
from gate outcomes (the ledger), so every decision is itself an outcome the next one reads.

Example:
    >>> policy = RetrainingPolicy.from_dict({"min_interval": "12h", "max_interval": "7d"})
    >>> decide(policy, RetrainingSignals(now=datetime(2026, 3, 2, tzinfo=UTC),
    ...                                  last_retraining=datetime(2026, 3, 1, 18, tzinfo=UTC))).decision
    'skip'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.outcomes.model import Check, GateOutcome

Decision = Literal["retrain", "skip", "forbid"]
GATE = "retraining_policy"
_DURATIONS = ("min_interval", "max_interval", "evaluation_window")
_LEVELS = ("drift_request", "skew_request", "label_floor")
LABEL_METRICS = ("krippendorff_alpha", "fleiss_kappa", "cohen_kappa_min")


@dataclass(frozen=True)
class RetrainingPolicy:
    """When retraining is asked for, allowed and forbidden. Every field is optional (None: no such rule).

    Attributes:
        min_interval: no retraining sooner than this after the last one (a burst of drift alerts
            retrains once).
        max_interval: a retraining is due this long after the last one, drift or not.
        drift_request: the largest drift score (the skew gate's ``max_score``, e.g. PSI) at or above
            which a retraining is requested.
        skew_request: the largest per-entity mismatch rate (``feature_skew``'s ``max_mismatch_rate``)
            at or above which a retraining is requested.
        label_floor: the label-quality floor: below it (``label_metric`` of the latest label gate or
            audit) retraining is forbidden, whatever else asks for it: it would learn the wrong truth.
        label_metric: which agreement statistic the floor reads.
        evaluation_window: after a promotion, the new champion is watched this long; retraining waits.
    """

    min_interval: timedelta | None = None
    max_interval: timedelta | None = None
    drift_request: float | None = None
    skew_request: float | None = None
    label_floor: float | None = None
    label_metric: str = "krippendorff_alpha"
    evaluation_window: timedelta | None = None

    def __post_init__(self) -> None:
        if self.min_interval and self.max_interval and self.min_interval > self.max_interval:
            raise ConfigurationError(f"retraining policy: min_interval {self.min_interval} is longer than "
                                     f"max_interval {self.max_interval}")
        if self.label_metric not in LABEL_METRICS:
            raise ConfigurationError(f"retraining policy: label_metric must be one of {', '.join(LABEL_METRICS)}, "
                                     f"got {self.label_metric!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RetrainingPolicy:
        """Build from plain data (durations as ``"12h"``, ``"7d"``).

        Raises:
            ConfigurationError: an unknown key, a malformed duration or a level that is not a number.
        """
        from airflow_provider_parity.contracts.model import parse_duration

        data = dict(data or {})
        unknown = sorted(set(data) - {*_DURATIONS, *_LEVELS, "label_metric"})
        if unknown:
            raise ConfigurationError(f"retraining policy: unknown key(s) {', '.join(unknown)}; expected any of "
                                     f"{', '.join((*_DURATIONS, *_LEVELS, 'label_metric'))}")
        kwargs: dict[str, Any] = {}
        for key in _DURATIONS:
            if data.get(key) is not None:
                try:
                    kwargs[key] = parse_duration(str(data[key]))
                except ValueError as exc:
                    raise ConfigurationError(f"retraining policy: {key}: {exc}") from None
        for key in _LEVELS:
            value = data.get(key)
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ConfigurationError(f"retraining policy: {key} must be a number, got {value!r}")
                kwargs[key] = float(value)
        if data.get("label_metric") is not None:
            kwargs["label_metric"] = str(data["label_metric"])
        return cls(**kwargs)


@dataclass(frozen=True)
class RetrainingSignals:
    """What the decision looks at, all optional but ``now``.

    Attributes:
        now: the run's moment (its ``as_of``): intervals count from it, so a late run judges as on time.
        last_retraining: when the last retraining was decided (None: never).
        last_promotion: when the current champion was promoted (None: never).
        drift: the largest drift score seen (training versus serving).
        skew: the largest per-entity mismatch rate seen.
        label_quality: the latest agreement statistic of the labels (``label_metric``).
        requested: why someone asked for a retraining (e.g. the monitor's asset event), or None.
    """

    now: datetime
    last_retraining: datetime | None = None
    last_promotion: datetime | None = None
    drift: float | None = None
    skew: float | None = None
    label_quality: float | None = None
    requested: str | None = None


@dataclass(frozen=True)
class RetrainingDecision:
    decision: Decision
    reason: str
    checks: tuple[Check, ...] = ()

    def outcome(self, *, mode: str = "train", as_of: str | None = None, dataset: str | None = None) -> GateOutcome:
        """The decision as a gate outcome (gate ``retraining_policy``): ``forbid`` blocks; ``skip`` and
        ``retrain`` pass, ``metrics.decision`` telling them apart. ``mode`` is ``train`` for the run
        that trains, ``request`` for a monitor that only asks (only the former counts as a retraining)."""
        return GateOutcome(gate=GATE, status="failed" if self.decision == "forbid" else "passed",
                           blocking=self.decision == "forbid", reason=f"{self.decision}: {self.reason}",
                           dataset=dataset, as_of=as_of, metrics={"decision": self.decision, "mode": mode},
                           checks=self.checks)


def _age(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f}d" if abs(hours) >= 48 else f"{hours:.1f}h"


def _level_checks(policy: RetrainingPolicy, s: RetrainingSignals) -> list[Check]:
    """The request levels: a check 'succeeds' when its signal asks for a retraining."""
    checks = []
    for name, value, level in (("drift_request", s.drift, policy.drift_request),
                               ("skew_request", s.skew, policy.skew_request)):
        if level is not None and value is not None:
            checks.append(Check(name=name, success=value >= level, observed=f"{value:.4g}", expected=f">= {level:g}",
                                severity="warn"))
    return checks


def decide(policy: RetrainingPolicy, signals: RetrainingSignals) -> RetrainingDecision:
    """Retrain, skip or forbid, in this order of precedence:

    1. ``forbid`` when the label quality is under the floor (nothing overrides bad labels);
    2. ``retrain`` when there was never a retraining;
    3. ``skip`` inside the minimum interval, then inside the evaluation window of the last promotion;
    4. ``retrain`` once the maximum interval has passed, or when drift or skew reach their request
       level, or when someone requested it;
    5. otherwise ``skip``: nothing asks for it.
    """
    s, checks = signals, _level_checks(policy, signals)
    if policy.label_floor is not None and s.label_quality is not None:
        ok = s.label_quality >= policy.label_floor
        checks.insert(0, Check(name="label_floor", success=ok, observed=f"{s.label_quality:.4f}",
                               expected=f">= {policy.label_floor:g} ({policy.label_metric})"))
        if not ok:
            return RetrainingDecision("forbid", f"label quality {policy.label_metric} {s.label_quality:.4f} is under "
                                                f"the floor {policy.label_floor:g}: retraining would learn wrong labels",
                                      tuple(checks))
    if s.last_retraining is None:
        return RetrainingDecision("retrain", "no retraining on record", tuple(checks))
    since = s.now - s.last_retraining
    if policy.min_interval is not None and since < policy.min_interval:
        return RetrainingDecision("skip", f"last retraining {_age(since)} ago, under the minimum interval "
                                          f"{_age(policy.min_interval)}", tuple(checks))
    window = policy.evaluation_window
    if window is not None and s.last_promotion is not None and s.now - s.last_promotion < window:
        return RetrainingDecision("skip", f"the champion promoted {_age(s.now - s.last_promotion)} ago is in its "
                                          f"evaluation window of {_age(window)}", tuple(checks))
    return _requested(policy, s, since, tuple(checks))


def _requested(policy: RetrainingPolicy, s: RetrainingSignals, since: timedelta,
               checks: tuple[Check, ...]) -> RetrainingDecision:
    if policy.max_interval is not None and since >= policy.max_interval:
        return RetrainingDecision("retrain", f"last retraining {_age(since)} ago, at least the maximum interval "
                                             f"{_age(policy.max_interval)}", checks)
    asked = [f"{c.name.removesuffix('_request')} {c.observed} {c.expected}" for c in checks
             if c.name.endswith("_request") and c.success]
    if asked:
        return RetrainingDecision("retrain", "requested by " + ", ".join(asked), checks)
    if s.requested:
        return RetrainingDecision("retrain", f"requested: {s.requested}", checks)
    return RetrainingDecision("skip", f"nothing asks for it: last retraining {_age(since)} ago"
                              + (f" (maximum interval {_age(policy.max_interval)})" if policy.max_interval else "")
                              + "".join(f"; {c.name.removesuffix('_request')} {c.observed} below "
                                        f"{(c.expected or '').removeprefix('>= ')}"
                                        for c in checks if c.name.endswith("_request")), checks)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def history(outcomes: Iterable[GateOutcome], *, before: datetime) -> tuple[datetime | None, datetime | None]:
    """``(last retraining, last promotion)`` up to ``before`` (a rerun of the same moment counts), from the ledger's outcomes.

    A retraining is a ``retrain`` decision of a training run (``mode: train``), dated by its ``as_of``;
    a promotion is a passed promotion gate in such a run, dated by that run's decision (the
    simulated or scheduled moment, not the wall clock of the task).
    """
    outcomes = list(outcomes)
    decided = {o.run.run_id: o for o in outcomes if o.gate == GATE and o.run is not None
               and o.metrics.get("decision") == "retrain" and o.metrics.get("mode") == "train"}
    retrained = [m for o in decided.values() if (m := _moment(o.as_of)) is not None and m <= before]
    promoted = [m for o in outcomes if o.gate == "promotion" and not o.blocking and o.run is not None
                and o.run.run_id in decided and (m := _moment(decided[o.run.run_id].as_of)) is not None and m <= before]
    return max(retrained, default=None), max(promoted, default=None)


def signal(outcome: GateOutcome | None, metric: str) -> float | None:
    """A number from a gate outcome's metrics (None when the gate did not run or did not measure it)."""
    value = None if outcome is None else outcome.metrics.get(metric)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
