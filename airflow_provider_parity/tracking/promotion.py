"""The promotion gate: a challenger becomes champion only when a policy passes.

The policy reads three things: the data gates recorded on the challenger (its tags), metric
thresholds on named evaluation slices (absolute, and relative to the current champion), and
optionally a minimum time since the last promotion. ``evaluate`` is pure; ``promote`` reads
MLflow, records the decision on the model version, and switches the alias as its very last
step, so a crash or an outage before that leaves the champion as it was and a retry is safe.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.exceptions import ConfigurationError, PromotionBlocked
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import (
    VersionInfo,
    aliases_of,
    load_version,
)
from airflow_provider_parity.tracking.history import (
    champion_since,
    plan_promotion,
    read_history,
    write_history,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

CheckKind = Literal["gate", "metric", "interval"]
Approval = Literal["none", "required"]
OnTimeout = Literal["block", "approve"]
_REASON_LIMIT = 4000


@dataclass(frozen=True)
class MetricThreshold:
    """Bounds on one metric, checked on each named slice.

    ``max_drop`` is relative to the champion on the same slice: with ``higher_is_better`` the
    challenger must reach ``champion - max_drop`` (e.g. AUC no worse than the champion - 0.005);
    otherwise it must stay under ``champion + max_drop`` (e.g. a loss).
    """

    metric: str
    slices: tuple[str, ...] = (keys.OVERALL,)
    min: float | None = None
    max: float | None = None
    max_drop: float | None = None
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        if not self.slices:
            raise ConfigurationError(f"metric {self.metric!r}: name at least one slice")
        if self.min is None and self.max is None and self.max_drop is None:
            raise ConfigurationError(f"metric {self.metric!r}: set min, max or max_drop")
        if self.max_drop is not None and self.max_drop < 0:
            raise ConfigurationError(f"metric {self.metric!r}: max_drop must be >= 0, got {self.max_drop}")


@dataclass(frozen=True)
class PromotionPolicy:
    """What a challenger must pass to become champion.

    Example:
        >>> PromotionPolicy.from_dict({"metrics": [{"metric": "auc", "slices": ["overall", "country=FR"],
        ...                                         "min": 0.7, "max_drop": 0.005}], "min_interval": "24h"})
        ... # doctest: +ELLIPSIS
        PromotionPolicy(metrics=(MetricThreshold(metric='auc', ...
    """

    metrics: tuple[MetricThreshold, ...] = ()
    require_passed_gates: bool = True
    """The challenger's data must carry gate results, and none of them failed."""
    required_gates: tuple[str, ...] = ()
    """Gates that must be among those recorded (e.g. ``validation``, ``drift``)."""
    min_interval: str | None = None
    """Minimum time since the current champion was promoted, e.g. ``"24h"``."""
    metric_key: str = keys.DEFAULT_METRIC_KEY
    approval: Approval = "none"
    """``required``: a challenger that passed waits for a person's approval before the alias moves."""
    on_timeout: OnTimeout = "block"
    """What an unanswered approval request becomes after ``approval_timeout``: ``block`` or ``approve``."""
    approval_timeout: str | None = None
    """How long an approval request waits, e.g. ``"24h"`` (None: until someone answers)."""

    def __post_init__(self) -> None:
        for what, interval in (("min_interval", self.min_interval), ("approval_timeout", self.approval_timeout)):
            if interval is not None:
                _interval_seconds(interval, what)
        if self.approval not in ("none", "required"):
            raise ConfigurationError(f"approval must be 'none' or 'required', got {self.approval!r}")
        if self.on_timeout not in ("block", "approve"):
            raise ConfigurationError(f"on_timeout must be 'block' or 'approve', got {self.on_timeout!r}")
        if "{metric}" not in self.metric_key:
            raise ConfigurationError(f"metric_key {self.metric_key!r} must contain {{metric}}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PromotionPolicy:
        """A policy from plain data (a DAG's parameters, YAML, XCom).

        Raises:
            ConfigurationError: unknown keys or invalid values.
        """
        _no_unknown(data, cls, "promotion policy")
        values = dict(data)
        metrics = []
        for item in values.pop("metrics", ()) or ():
            _no_unknown(item, MetricThreshold, "metric threshold")
            rule = dict(item)
            if "slices" in rule:
                rule["slices"] = tuple(rule["slices"])
            metrics.append(MetricThreshold(**rule))
        if "required_gates" in values:
            values["required_gates"] = tuple(values["required_gates"])
        return cls(metrics=tuple(metrics), **values)

    @classmethod
    def coerce(cls, policy: PromotionPolicy | Mapping[str, Any] | str) -> PromotionPolicy:
        """A policy from itself, its dict form, or that dict as JSON text (a templated DAG parameter).

        Raises:
            ConfigurationError: text that is not a JSON object, or an invalid policy.
        """
        if isinstance(policy, PromotionPolicy):
            return policy
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except ValueError as exc:
                raise ConfigurationError(f"promotion policy is not JSON: {exc}") from None
            if not isinstance(policy, Mapping):
                raise ConfigurationError("promotion policy must be a JSON object")
        return cls.from_dict(policy)


def _no_unknown(data: Mapping[str, Any], kind: type, what: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigurationError(f"{what} must be a mapping, got {type(data).__name__}")
    unknown = set(data) - {f.name for f in dataclasses.fields(kind)}
    if unknown:
        raise ConfigurationError(f"{what}: unknown keys {sorted(unknown)}")


def _interval_seconds(text: str, what: str = "min_interval") -> float:
    from airflow_provider_parity.contracts.model import parse_duration

    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise ConfigurationError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class Check:
    """One check of the policy, with what was observed and what was expected."""

    kind: CheckKind
    name: str
    passed: bool
    message: str
    slice: str | None = None
    observed: float | str | None = None
    expected: str = ""


@dataclass(frozen=True)
class PromotionDecision:
    model: str
    challenger: str
    champion: str | None
    passed: bool
    evaluated_at: str
    checks: list[Check] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """One line: the failed checks, or that all passed."""
        failed = [c.message for c in self.checks if not c.passed]
        return "; ".join(failed) if failed else "all checks passed"


@dataclass(frozen=True)
class PromotionResult:
    decision: PromotionDecision
    promoted: bool
    """True when this call switched the alias; False when the challenger was already champion."""
    previous_champion: str | None
    champion: str
    held: bool = False
    """True when the decision passed but the alias waits for approval (``champion`` is then the current one)."""


def gate_checks(policy: PromotionPolicy, tags: Mapping[str, str]) -> list[Check]:
    """Checks of the data gates recorded on the challenger (``parity.gate.<name>.status`` tags)."""
    prefix, suffix = keys.GATE_STATUS.split("{name}")
    recorded = {k[len(prefix):-len(suffix)]: v for k, v in tags.items() if k.startswith(prefix) and k.endswith(suffix)}
    checks = []
    if policy.require_passed_gates and not recorded:
        checks.append(Check("gate", "*", False, "no data gate results recorded on the challenger", expected="passed"))
    for name in policy.required_gates:
        if name not in recorded:
            checks.append(Check("gate", name, False, f"gate {name!r} not recorded on the challenger's data",
                                expected="passed"))
    if policy.require_passed_gates:
        for name, status in sorted(recorded.items()):
            ok = status != "failed"
            checks.append(Check("gate", name, ok, f"gate {name!r} on the challenger's data: {status} (expected passed)",
                                observed=status, expected="passed"))
    return checks


def metric_checks(policy: PromotionPolicy, challenger: Mapping[str, float],
                  champion: Mapping[str, float] | None) -> list[Check]:
    """Absolute and champion-relative threshold checks on every (metric, slice)."""
    checks = []
    for rule in policy.metrics:
        for slice_name in rule.slices:
            key = keys.metric_key(rule.metric, slice_name, policy.metric_key)
            checks.extend(_threshold_checks(rule, slice_name, key, challenger.get(key),
                                            None if champion is None else champion.get(key), champion is not None))
    return checks


def _threshold_checks(rule: MetricThreshold, slice_name: str, key: str, value: float | None,
                      reference: float | None, has_champion: bool) -> list[Check]:
    where = f"{rule.metric} on slice {slice_name!r}"
    if value is None:
        return [Check("metric", rule.metric, False, f"{where}: metric {key!r} not logged on the challenger's run",
                      slice=slice_name, expected="logged")]
    checks = []
    if rule.min is not None:
        checks.append(Check("metric", rule.metric, value >= rule.min, f"{where}: {value:.6g} vs minimum {rule.min:g}",
                            slice=slice_name, observed=value, expected=f">= {rule.min:g}"))
    if rule.max is not None:
        checks.append(Check("metric", rule.metric, value <= rule.max, f"{where}: {value:.6g} vs maximum {rule.max:g}",
                            slice=slice_name, observed=value, expected=f"<= {rule.max:g}"))
    if rule.max_drop is not None and has_champion:
        if reference is None:
            checks.append(Check("metric", rule.metric, False, f"{where}: champion has no {key!r} to compare against",
                                slice=slice_name, observed=value, expected="champion metric logged"))
        else:
            bound = reference - rule.max_drop if rule.higher_is_better else reference + rule.max_drop
            ok = value >= bound if rule.higher_is_better else value <= bound
            sign, op = ("-", ">=") if rule.higher_is_better else ("+", "<=")
            checks.append(Check("metric", rule.metric, ok,
                                f"{where}: {value:.6g} vs champion {reference:.6g} {sign} {rule.max_drop:g} = {bound:.6g}",
                                slice=slice_name, observed=value, expected=f"{op} {bound:.6g}"))
    return checks


def interval_check(policy: PromotionPolicy, since: datetime | None, now: datetime) -> list[Check]:
    if policy.min_interval is None or since is None:
        return []
    elapsed = (now - since).total_seconds()
    needed = _interval_seconds(policy.min_interval)
    ok = elapsed >= needed
    return [Check("interval", "min_interval", ok,
                  f"champion promoted {elapsed / 3600:.2f}h ago, policy minimum {policy.min_interval}",
                  observed=round(elapsed, 1), expected=f">= {needed:g}s")]


def evaluate(policy: PromotionPolicy, challenger: VersionInfo, champion: VersionInfo | None, *,
             champion_promoted_at: datetime | None = None, now: datetime | None = None) -> PromotionDecision:
    """Decide whether ``challenger`` may replace ``champion`` (pure: no MLflow calls).

    Args:
        policy: the promotion policy.
        challenger: the candidate version, its tags and run metrics.
        champion: the current champion, or None for a first promotion (relative checks are skipped).
        champion_promoted_at: when the current champion was promoted (for ``min_interval``).
        now: the evaluation time (default: now, UTC).

    Returns:
        The decision; ``passed`` only when every check passed.
    """
    now = now or datetime.now(UTC)
    checks = [*gate_checks(policy, challenger.tags),
              *metric_checks(policy, challenger.metrics, None if champion is None else champion.metrics),
              *interval_check(policy, champion_promoted_at, now)]
    return PromotionDecision(model=challenger.name, challenger=challenger.version,
                             champion=None if champion is None else champion.version,
                             passed=all(c.passed for c in checks), evaluated_at=now.isoformat(), checks=checks)


def promote(client: MlflowClient, name: str, policy: PromotionPolicy | Mapping[str, Any], *,
            challenger_version: str | int | None = None, now: datetime | None = None, request_id: str | None = None,
            report: bool = True, before_switch: Callable[[PromotionDecision], None] | None = None,
            hold: bool = False, note: str = "") -> PromotionResult:
    """Move the ``champion`` alias to the challenger if the policy passes.

    Order of writes: the decision (model-version tags and, with ``report``, the comparison report
    and decision artifacts on the challenger's run), then the champion history, then the alias.
    The alias switch is last: anything failing before it leaves the champion unchanged, and a
    retry re-evaluates and finishes the job without duplicating the history.

    Args:
        client: the MLflow client.
        name: the registered model.
        policy: the policy, or its ``from_dict`` form.
        challenger_version: default the version under the ``challenger`` alias.
        now: evaluation time (default now, UTC).
        request_id: who asks (``dag_id/run_id/task_id``), kept in the history.
        report: log the comparison report (JSON + HTML) on the challenger's run.
        before_switch: called with the passing decision just before the alias switch
            (e.g. a last external check); raising there aborts with the champion unchanged.
        hold: decide and record, but leave the alias and the history alone: a passing challenger
            then waits for approval (``tracking.approval``), its status tag ``awaiting_approval``.
        note: appended to the history entry's reason (who approved and why).

    Returns:
        The decision and what changed (with ``hold``, ``promoted`` is False and ``held`` True).

    Raises:
        PromotionBlocked: the policy failed; the reason is also on the model version's tags.
        ConfigurationError: no challenger, or the model or version does not exist.
    """
    policy = PromotionPolicy.coerce(policy)
    aliases = aliases_of(client, name)
    target = str(challenger_version) if challenger_version is not None else aliases.get(keys.CHALLENGER)
    if target is None:
        raise ConfigurationError(f"registered model {name!r} has no {keys.CHALLENGER!r} alias and no version was given")
    current = aliases.get(keys.CHAMPION)
    if current == target:
        # A retry after the switch succeeded: nothing left to do.
        done = PromotionDecision(name, target, current, True, (now or datetime.now(UTC)).isoformat())
        return PromotionResult(decision=done, promoted=False, previous_champion=current, champion=target)
    challenger = load_version(client, name, target)
    champion = load_version(client, name, current) if current else None
    history = read_history(client, name)
    decision = evaluate(policy, challenger, champion,
                        champion_promoted_at=champion_since(history, current), now=now)
    _record_decision(client, decision, challenger, champion, policy, report)
    if not decision.passed:
        raise PromotionBlocked(f"{name} v{target} not promoted over {_v(current)}: {decision.reason}", result=decision)
    if hold:
        client.set_model_version_tag(name, target, keys.PROMOTION_STATUS, "awaiting_approval")
        return PromotionResult(decision=decision, promoted=False, previous_champion=current, champion=current or "",
                               held=True)
    reason = f"{decision.reason}; {note}" if note else decision.reason
    write_history(client, name, plan_promotion(history, challenger=target, champion=current,
                                               at=datetime.fromisoformat(decision.evaluated_at),
                                               reason=reason, request_id=request_id))
    if before_switch is not None:
        before_switch(decision)
    client.set_registered_model_alias(name, keys.CHAMPION, target)
    return PromotionResult(decision=decision, promoted=True, previous_champion=current, champion=target)


def _v(version: str | None) -> str:
    return f"v{version}" if version else "no champion"


def _record_decision(client: MlflowClient, decision: PromotionDecision, challenger: VersionInfo,
                     champion: VersionInfo | None, policy: PromotionPolicy, report: bool) -> None:
    if report and challenger.run_id:
        from airflow_provider_parity.tracking.compare import (
            build_comparison,
            log_comparison,
        )

        log_comparison(client, challenger.run_id, build_comparison(challenger, champion, policy, decision))
        client.log_dict(challenger.run_id, dataclasses.asdict(decision), keys.DECISION_FILE)
    status = "passed" if decision.passed else "blocked"
    for key, value in ((keys.PROMOTION_STATUS, status), (keys.PROMOTION_REASON, decision.reason[:_REASON_LIMIT]),
                       (keys.PROMOTION_AT, decision.evaluated_at)):
        client.set_model_version_tag(decision.model, decision.challenger, key, value)
