"""The post-promotion watch: the new champion's live signals against the previous champion's.

After a promotion, the same length of live traffic before and after it is compared on four
signals: the prediction distribution (PSI of the served scores), the per-entity skew rate (the
``feature_skew`` gate's outcomes), the share of requests failing the serving boundary check, and
business KPIs the deployer writes as PromQL (read from Prometheus's ``/api/v1/query_range``). A
breached guardrail means roll back (or, for a canary, abort); otherwise keep (ramp).

:func:`analyse` is pure (signals in, verdict out); :func:`query_kpi` and :func:`log_signals` read
Prometheus and the serving log. The operator (``PostPromotionWatchOperator``) glues them to MLflow.

Example:
    >>> policy = WatchPolicy.from_dict({"kpis": [{"name": "conversion", "query": "avg(rate(orders[5m]))",
    ...                                           "max_drop": 0.1}]})
    >>> analyse(policy, LiveSignals(kpis={"conversion": 0.10}), LiveSignals(kpis={"conversion": 0.07})).action
    'rollback'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.exceptions import ConfigurationError, ServiceUnavailable
from airflow_provider_parity.outcomes.model import Check, GateOutcome

if TYPE_CHECKING:
    import pyarrow as pa

GATE = "watch"
PASSED_BOUNDARY = ("passed", "pass", "ok")
_KEYS = ("evaluation_window", "max_prediction_psi", "max_skew_increase", "max_boundary_failure_increase",
         "min_requests", "kpis", "step")


@dataclass(frozen=True)
class KpiGuardrail:
    """A business KPI: its PromQL and how much worse it may get after the promotion.

    ``max_drop`` is relative to the previous champion's mean over the same window length (0.1: at
    most 10% worse); ``higher_is_better`` False for costs and latencies.
    """

    name: str
    query: str
    max_drop: float = 0.1
    higher_is_better: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KpiGuardrail:
        if not isinstance(data, Mapping) or not data.get("name") or not data.get("query"):
            raise ConfigurationError(f"watch policy: a KPI needs a name and a query, got {data!r}")
        max_drop = data.get("max_drop", 0.1)
        if isinstance(max_drop, bool) or not isinstance(max_drop, (int, float)) or max_drop < 0:
            raise ConfigurationError(f"watch policy: KPI {data['name']!r}: max_drop must be a number >= 0")
        return cls(str(data["name"]), str(data["query"]), float(max_drop), bool(data.get("higher_is_better", True)))


@dataclass(frozen=True)
class WatchPolicy:
    """The guardrails after a promotion. A guardrail left None is not checked."""

    evaluation_window: timedelta = timedelta(days=1)
    max_prediction_psi: float | None = 0.2
    max_skew_increase: float | None = 0.01
    """The per-entity mismatch rate may rise by at most this much (absolute)."""
    max_boundary_failure_increase: float | None = 0.01
    min_requests: int = 50
    """Fewer logged requests on either side: the serving-log signals are not judged (too thin)."""
    kpis: tuple[KpiGuardrail, ...] = ()
    step: timedelta = timedelta(minutes=5)
    """The resolution of the KPI range queries."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> WatchPolicy:
        """Build from plain data; ``evaluation_window`` and ``step`` as ``"1d"``, ``"5m"``.

        Raises:
            ConfigurationError: an unknown key, a malformed duration or guardrail.
        """
        from airflow_provider_parity.contracts.model import parse_duration

        data = dict(data or {})
        unknown = sorted(set(data) - set(_KEYS))
        if unknown:
            raise ConfigurationError(f"watch policy: unknown key(s) {', '.join(unknown)}; expected any of "
                                     f"{', '.join(_KEYS)}")
        kwargs: dict[str, Any] = {}
        for key in ("evaluation_window", "step"):
            if data.get(key) is not None:
                try:
                    kwargs[key] = parse_duration(str(data[key]))
                except ValueError as exc:
                    raise ConfigurationError(f"watch policy: {key}: {exc}") from None
        for key in ("max_prediction_psi", "max_skew_increase", "max_boundary_failure_increase"):
            if key in data:
                value = data[key]
                if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                    raise ConfigurationError(f"watch policy: {key} must be a number or null, got {value!r}")
                kwargs[key] = None if value is None else float(value)
        if data.get("min_requests") is not None:
            kwargs["min_requests"] = int(data["min_requests"])
        kwargs["kpis"] = tuple(KpiGuardrail.from_dict(k) for k in data.get("kpis") or ())
        return cls(**kwargs)


@dataclass(frozen=True)
class LiveSignals:
    """One champion's live signals over its window (any may be missing: not measured)."""

    predictions: Sequence[float] = ()
    requests: int = 0
    boundary_failure_rate: float | None = None
    skew_rate: float | None = None
    kpis: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchVerdict:
    breached: bool
    reason: str
    checks: tuple[Check, ...]

    @property
    def action(self) -> Literal["rollback", "keep"]:
        return "rollback" if self.breached else "keep"

    @property
    def canary_action(self) -> Literal["abort", "ramp"]:
        """The same analysis for a canary: abort (traffic back to the stable model) or ramp up."""
        return "abort" if self.breached else "ramp"

    def outcome(self, *, dataset: str | None = None, version: int | None = None,
                as_of: str | None = None) -> GateOutcome:
        return GateOutcome(gate=GATE, status="failed" if self.breached else "passed", blocking=self.breached,
                           reason=self.reason, dataset=dataset, version=version, as_of=as_of,
                           metrics={"action": self.action, "breached": sum(not c.success for c in self.checks)},
                           checks=self.checks)


def psi(expected: Sequence[float], actual: Sequence[float], bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` on ``expected``'s deciles."""
    import numpy as np

    ref, cur = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    edges[0], edges[-1] = -np.inf, np.inf
    eps = 1e-4
    p = np.histogram(ref, edges)[0] / len(ref) + eps
    q = np.histogram(cur, edges)[0] / len(cur) + eps
    return float(np.sum((q - p) * np.log(q / p)))


def _fmt(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.4g}"


def _increase(name: str, before: float | None, after: float | None, limit: float | None) -> Check | None:
    if limit is None or before is None or after is None:
        return None
    return Check(name=name, success=after - before <= limit, observed=f"{_fmt(before)} -> {_fmt(after)}",
                 expected=f"an increase of at most {limit:g}")


def _kpi(guard: KpiGuardrail, before: float | None, after: float | None) -> Check:
    if before is None or after is None:
        return Check(name=f"kpi({guard.name})", success=True, severity="warn",
                     observed=f"{_fmt(before)} -> {_fmt(after)}", expected="both windows measured")
    worse = (before - after) if guard.higher_is_better else (after - before)
    relative = worse / abs(before) if before else (math.inf if worse > 0 else 0.0)
    return Check(name=f"kpi({guard.name})", success=relative <= guard.max_drop,
                 observed=f"{_fmt(before)} -> {_fmt(after)}" + (f" ({(after - before) / abs(before):+.1%})" if before else ""),
                 expected=f"at most {guard.max_drop:.0%} worse")


def analyse(policy: WatchPolicy, previous: LiveSignals, current: LiveSignals) -> WatchVerdict:
    """Compare the new champion's signals with the previous champion's, one check per guardrail.

    Serving-log signals with fewer than ``min_requests`` on either side are not judged (a warning
    check says so); a KPI missing on either side likewise. Any failed check is a breach.
    """
    checks: list[Check] = []
    thin = min(previous.requests, current.requests) < policy.min_requests
    if thin:
        checks.append(Check(name="requests", success=True, severity="warn",
                            observed=f"{previous.requests} -> {current.requests}",
                            expected=f">= {policy.min_requests} on both sides to judge the serving log"))
    else:
        if policy.max_prediction_psi is not None and previous.predictions and current.predictions:
            value = psi(previous.predictions, current.predictions)
            checks.append(Check(name="prediction_psi", success=value <= policy.max_prediction_psi,
                                observed=f"{value:.4f}", expected=f"<= {policy.max_prediction_psi:g}"))
        found = _increase("boundary_failure_rate", previous.boundary_failure_rate, current.boundary_failure_rate,
                          policy.max_boundary_failure_increase)
        checks += [found] if found else []
    found = _increase("skew_rate", previous.skew_rate, current.skew_rate, policy.max_skew_increase)
    checks += [found] if found else []
    checks += [_kpi(g, previous.kpis.get(g.name), current.kpis.get(g.name)) for g in policy.kpis]
    failed = [c for c in checks if not c.success]
    if failed:
        return WatchVerdict(True, "guardrail breached after the promotion: " + "; ".join(c.message() for c in failed),
                            tuple(checks))
    judged = [c.name for c in checks if c.severity == "error"]
    return WatchVerdict(False, f"{len(judged)} guardrail(s) held ({', '.join(judged) or 'none measured'})",
                        tuple(checks))


def query_kpi(base_url: str, query: str, start: datetime, end: datetime, step: timedelta,
              timeout: float = 10.0) -> float | None:
    """The mean of ``query`` over ``[start, end]`` from Prometheus's range API (None: no samples).

    Raises:
        ServiceUnavailable: Prometheus did not answer or answered an error (the query named).
    """
    import urllib.error
    import urllib.parse
    import urllib.request

    params = urllib.parse.urlencode({"query": query, "start": f"{start.timestamp():.3f}",
                                     "end": f"{end.timestamp():.3f}", "step": f"{max(step.total_seconds(), 1):g}"})
    url = f"{base_url.rstrip('/')}/api/v1/query_range?{params}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")[:200]
        raise ServiceUnavailable(f"Prometheus rejected KPI query {query!r}: HTTP {exc.code} {detail}") from None
    except (OSError, ValueError) as exc:
        raise ServiceUnavailable(f"Prometheus at {base_url} did not answer KPI query {query!r}: {exc}") from None
    values = [float(v) for series in body.get("data", {}).get("result", []) for _, v in series.get("values", [])]
    values = [v for v in values if math.isfinite(v)]
    return sum(values) / len(values) if values else None


def log_signals(log: pa.Table, start: datetime, end: datetime, *, time_column: str = "served_at") -> LiveSignals:
    """The serving log's signals in ``[start, end)``: requests, predictions (a ``prediction`` column)
    and the boundary failure rate (a ``boundary`` column), when the log has them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    moments = log[time_column]
    kind = moments.type
    window = log.filter(pc.and_(pc.greater_equal(moments, pa.scalar(start, kind)),
                                pc.less(moments, pa.scalar(end, kind))))
    predictions: list[float] = []
    if "prediction" in window.column_names:
        predictions = [float(p) for p in window["prediction"].to_pylist() if p is not None]
    failure_rate = None
    if "boundary" in window.column_names and window.num_rows:
        verdicts = [str(b).lower() for b in window["boundary"].to_pylist()]
        failure_rate = sum(v not in PASSED_BOUNDARY for v in verdicts) / len(verdicts)
    return LiveSignals(predictions=predictions, requests=window.num_rows, boundary_failure_rate=failure_rate)


def skew_rate(outcomes: Sequence[GateOutcome], start: datetime, end: datetime) -> float | None:
    """The mean per-entity mismatch rate of the ``feature_skew`` outcomes judged in ``[start, end)``."""
    from airflow_provider_parity.tracking.retraining import signal

    rates = []
    for outcome in outcomes:
        if outcome.gate != "feature_skew" or not outcome.as_of:
            continue
        moment = datetime.fromisoformat(outcome.as_of)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=start.tzinfo)
        rate = signal(outcome, "max_mismatch_rate")
        if start <= moment < end and rate is not None:
            rates.append(rate)
    return sum(rates) / len(rates) if rates else None
