"""Each gate's detailed result, turned into its :class:`GateOutcome`.

The detailed results (a validation result, a drift result, ...) stay what the reports show;
the outcome is what every consumer acts on. One function per kind of result, so the wording
of a reason and the meaning of a status are decided here once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.outcomes.model import Check, GateOutcome, OutcomeStatus, clip

if TYPE_CHECKING:
    from airflow_provider_parity.drift.result import DriftResult
    from airflow_provider_parity.skew.result import SkewResult
    from airflow_provider_parity.validation.result import ValidationResult

Policy = Literal["pass", "fail"]


def from_validation(result: ValidationResult, *, gate: str = "contract", name: str | None = None,
                    as_of: str | None = None, fingerprint: str | None = None) -> GateOutcome:
    """A contract validation: every rule a check; a violation blocks unless warn-only."""
    checks = tuple(Check(name=r.rule, success=r.success, column=r.column, observed=clip(r.observed),
                         expected=clip(r.expected), severity="warn" if result.warn_only else "error",
                         value=r.unexpected_fraction)
                   for r in result.rules)
    status: OutcomeStatus = result.status
    return GateOutcome(
        gate=gate, name=name, status=status, blocking=status == "failed", reason=result.summary(),
        dataset=result.source, version=result.version, fingerprint=fingerprint, contract=result.contract,
        metrics={"rows": result.row_count, "rules": len(result.rules), "failed_rules": len(result.failures),
                 "duration_seconds": round(result.duration_seconds, 3), "engine": result.engine},
        checks=checks, as_of=as_of,
        reports={k: v for k, v in (("json", result.report_json), ("html", result.report_html)) if v},
    )


def _drift_checks(result: DriftResult) -> tuple[Check, ...]:
    """Every check of every feature, observed versus threshold (which check fired is the point of a flag)."""
    checks = []
    for feat in result.features:
        severity: Literal["error", "warn"] = "warn" if feat.status == "insufficient_data" else "error"
        for check in getattr(feat, "checks", None) or ():
            relation = ">=" if check.lower_is_drift else "<="
            observed = "n/a" if check.value is None else f"{check.value:.4g}"
            if check.p_value is not None:
                observed += f" (p={check.p_value:.2g})"
            if check.detail:
                observed += f", {check.detail}"
            checks.append(Check(name=f"{check.check}({feat.name})", success=not check.fired, column=feat.name,
                                observed=clip(observed), expected=f"{check.check} {relation} {check.threshold:.4g}",
                                severity=severity, value=check.value))
        if not getattr(feat, "checks", None):  # results written before the checks existed
            value = "n/a" if feat.value is None else f"{feat.value:.4g}"
            checks.append(Check(name=f"drift({feat.name})", success=feat.status != "failed", column=feat.name,
                                observed=f"{feat.metric}={value}", expected=f"{feat.metric} within {feat.threshold:.4g}",
                                severity=severity, value=feat.value))
    if result.row_count is not None:
        rc = result.row_count
        checks.append(Check(name="row_count_change", success=rc.passed, observed=f"ratio {rc.ratio}",
                            expected=f"within [{rc.min_ratio}, {rc.max_ratio}]", value=rc.ratio))
    return tuple(checks)


def from_drift(result: DriftResult, *, gate: str = "drift", name: str | None = None,
               on_no_baseline: Policy = "pass", on_insufficient_data: Policy = "pass",
               dataset: str | None = None, version: int | None = None) -> GateOutcome:
    """A drift comparison: drift blocks; a cold start or thin data blocks only when its policy says ``fail``."""
    blocking = {"failed": True, "passed": False, "no_baseline": on_no_baseline == "fail",
                "insufficient_data": on_insufficient_data == "fail"}[result.verdict]
    scores = [f.score for f in result.features if f.score is not None]
    return GateOutcome(
        gate=gate, name=name, status=result.verdict, blocking=blocking, reason=result.message,
        dataset=dataset or result.current, version=version, contract=result.contract,
        metrics={"rows_reference": result.rows_reference, "rows_current": result.rows_current,
                 "features": len(result.features), "drifted_features": len(result.drifted_features),
                 "max_score": max(scores) if scores else None},
        checks=_drift_checks(result),
    )


def _skew_checks(result: SkewResult) -> tuple[Check, ...]:
    checks = []
    for feat in result.features:
        largest = "n/a" if feat.max_difference is None else f"{feat.max_difference:.6g}"
        observed = (f"{feat.mismatch_rate:.4%} of entities mismatched ({feat.mismatched_entities} of {feat.entities}), "
                    f"largest difference {largest}")
        if feat.examples:
            observed += f", e.g. {feat.examples[0].describe()}"
        checks.append(Check(name=f"feature_skew({feat.name})", success=feat.passed, column=feat.name,
                            observed=clip(observed),
                            expected=f"<= {feat.max_mismatch_rate:.4%} of entities beyond {feat.tolerance}",
                            value=feat.mismatch_rate))
    checks.append(Check(name="missing_offline", success=result.missing_passed,
                        observed=f"{result.missing_rate:.4%} of requests ({result.missing} of {result.requests})",
                        expected=f"<= {result.max_missing_rate:.4%} without an offline row as of served_at",
                        value=result.missing_rate))
    return tuple(checks)


def from_skew(result: SkewResult, *, gate: str = "feature_skew", name: str | None = None,
              on_insufficient_data: Policy = "pass") -> GateOutcome:
    """A per-entity skew comparison: a feature beyond its tolerance, or too many requests without an
    offline row, blocks; an empty serving log blocks only when its policy says ``fail``."""
    verdict = result.verdict
    blocking = verdict == "failed" or (verdict == "insufficient_data" and on_insufficient_data == "fail")
    differences = [f.max_difference for f in result.features if f.max_difference is not None]
    return GateOutcome(
        gate=gate, name=name, status=verdict, blocking=blocking, reason=result.message,
        dataset=result.log_uri or result.log,
        version=result.log_version, contract=result.contract,
        metrics={"requests": result.requests, "matched": result.matched, "missing_offline": result.missing,
                 "features": len(result.features), "skewed_features": len(result.skewed_features),
                 "max_mismatch_rate": max((f.mismatch_rate for f in result.features), default=0.0),
                 "max_difference": max(differences) if differences else None,
                 "offline": result.offline, "offline_version": result.offline_version,
                 "offline_fingerprint": result.offline_fingerprint,
                 "duration_seconds": result.duration_seconds},
        checks=_skew_checks(result),
    )


def from_error(exc: BaseException, *, gate: str, name: str | None = None, dataset: str | None = None,
               contract: str | None = None, as_of: str | None = None) -> GateOutcome:
    """Bad input: nothing could be checked, and that blocks (a gate that cannot look must not pass)."""
    return GateOutcome(gate=gate, name=name, status="error", blocking=True, reason=str(exc), dataset=dataset,
                       contract=contract, as_of=as_of, metrics={"error": type(exc).__name__})


def from_gate_failure(exc: BaseException, *, gate: str, name: str | None = None, dataset: str | None = None,
                      version: int | None = None, contract: str | None = None, as_of: str | None = None,
                      checks: tuple[Check, ...] = (), metrics: dict[str, Any] | None = None) -> GateOutcome:
    """A gate that reports its verdict by raising (freshness breach, a blocked promotion, a dbt test)."""
    return GateOutcome(gate=gate, name=name, status="failed", blocking=True, reason=str(exc), dataset=dataset,
                       version=version, contract=contract, as_of=as_of, checks=checks, metrics=dict(metrics or {}))


def decide(evaluate: Callable[[], GateOutcome], *, gate: str, dataset: str | None = None,
           as_of: str | None = None) -> tuple[GateOutcome, BaseException | None]:
    """Run a gate and return its outcome with the error that decided it, if one did.

    The one mapping from exceptions to outcomes, for the operators and for ``parity step run
    --gate`` in a pod: bad input is an ``error`` outcome, a raised verdict a ``failed`` one (with
    the checks it carries, e.g. dbt's tests). Anything else is an infrastructure failure and
    propagates, so the task retries.
    """
    from airflow_provider_parity.exceptions import BadInputError, GateFailure

    try:
        return evaluate(), None
    except BadInputError as exc:
        return from_error(exc, gate=gate, dataset=dataset, as_of=as_of), exc
    except GateFailure as exc:
        outcome = getattr(exc, "outcome", None) or from_gate_failure(
            exc, gate=gate, dataset=dataset, as_of=as_of, checks=tuple(getattr(exc, "checks", ())))
        return outcome, exc


def from_freshness(result: Any, *, contract: str | None = None, name: str | None = None) -> GateOutcome:
    """A freshness observation (``delta.freshness.FreshnessResult``): stale blocks."""
    from airflow_provider_parity.delta.storage import redact_uri

    check = Check(name=f"freshness({result.measure})", success=bool(result.fresh),
                  column=result.measure.removeprefix("column:") if result.measure.startswith("column:") else None,
                  observed=f"newest {result.newest}", expected=f">= {result.required}")
    reason = (result.breach_message(contract) if not result.fresh else
              f"fresh: {redact_uri(result.uri)} v{result.version} {result.measure} newest={result.newest} "
              f">= {result.required}")
    return GateOutcome(gate="freshness", name=name, status="passed" if result.fresh else "failed",
                       blocking=not result.fresh, reason=reason, dataset=redact_uri(result.uri), version=result.version,
                       contract=contract, as_of=result.reference, checks=(check,),
                       metrics={"lag_seconds": result.lag_seconds, "max_age_seconds": result.max_age_seconds})


def from_completeness(result: Any, *, contract: str | None = None, name: str | None = None) -> GateOutcome:
    """A completeness check (``delta.freshness.CompletenessResult``): a column under its minimum blocks."""
    from airflow_provider_parity.delta.storage import redact_uri

    checks = tuple(Check(name=f"completeness({c.column})", success=c.passed, column=c.column,
                         observed="no rows" if c.non_null_ratio is None else f"non-null ratio {c.non_null_ratio:.4f}",
                         expected=f">= {c.min_ratio:.4f}", value=c.non_null_ratio) for c in result.columns)
    failed = [c for c in checks if not c.success]
    where = f"{redact_uri(result.uri)} v{result.version}"
    owner = f"contract {contract}: " if contract else ""
    reason = (f"{owner}completeness on {where}: " + "; ".join(c.message() for c in failed) if failed
              else f"{owner}completeness on {where}: {len(checks)} columns complete")
    return GateOutcome(gate="completeness", name=name, status="failed" if failed else "passed",
                       blocking=bool(failed), reason=reason, dataset=redact_uri(result.uri), version=result.version,
                       contract=contract, checks=checks, metrics={"rows": result.row_count})
