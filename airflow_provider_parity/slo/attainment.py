"""SLO attainment, error budget and burn rates, from gate outcomes (pure: no I/O, no clock).

For each SLO a contract declares: the share of good events over its window (attainment), the
share of the error budget left, and the burn rate over each burn-rate alert's long and short
window (the error ratio divided by the budget: 1x spends the budget exactly over the window,
14.4x spends a 30-day budget in about two days), as in Google's SRE workbook, chapter 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_parity.contracts.model import BurnRateAlert, Contract, Objective, SloKind, parse_duration
from airflow_provider_parity.outcomes.model import GateOutcome
from airflow_provider_parity.slo.events import SloEvent, slo_events


def _ratio(events: Sequence[SloEvent], since: datetime, now: datetime) -> tuple[int, int]:
    """(bad, total) among ``events`` finished in (since, now]."""
    inside = [e for e in events if since < e.at <= now]
    return sum(not e.good for e in inside), len(inside)


@dataclass(frozen=True)
class BurnRate:
    """One burn-rate alert's two windows, measured: None where a window holds no event."""

    alert: BurnRateAlert
    long_rate: float | None
    short_rate: float | None

    @property
    def firing(self) -> bool:
        """Both windows burn faster than the alert's factor (the condition the Prometheus rule pages on)."""
        rates = (self.long_rate, self.short_rate)
        return all(r is not None and r > self.alert.factor for r in rates)

    def to_dict(self) -> dict[str, Any]:
        a = self.alert
        return {"severity": a.severity, "factor": a.factor, "long": a.long, "short": a.short,
                "long_rate": self.long_rate, "short_rate": self.short_rate, "firing": self.firing}


@dataclass(frozen=True)
class SloStatus:
    """One SLO of one dataset over its window, ending at ``end``."""

    dataset: str
    contract: str
    slo: SloKind
    objective: float
    window: str
    end: datetime
    good: int
    total: int
    burn_rates: tuple[BurnRate, ...] = ()

    @property
    def bad(self) -> int:
        return self.total - self.good

    @property
    def attainment(self) -> float | None:
        """The share of good events; None when the window holds no event (nothing was measured)."""
        return self.good / self.total if self.total else None

    @property
    def budget_remaining(self) -> float | None:
        """The share of the error budget left: 1 untouched, 0 spent, below 0 overspent."""
        if not self.total:
            return None
        return 1.0 - self.bad / ((1.0 - self.objective) * self.total)

    @property
    def exhausted(self) -> bool:
        remaining = self.budget_remaining
        return remaining is not None and self.bad > 0 and remaining <= 0

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "contract": self.contract, "slo": self.slo, "objective": self.objective,
                "window": self.window, "end": self.end.isoformat(), "good": self.good, "bad": self.bad,
                "total": self.total, "attainment": self.attainment, "budget_remaining": self.budget_remaining,
                "exhausted": self.exhausted, "burn_rates": [b.to_dict() for b in self.burn_rates]}


def _burn(events: Sequence[SloEvent], objective: Objective, alert: BurnRateAlert, now: datetime) -> BurnRate:
    def rate(window: timedelta) -> float | None:
        bad, total = _ratio(events, now - window, now)
        return bad / total / objective.budget if total else None

    return BurnRate(alert, rate(alert.long_delta), rate(alert.short_delta))


def _status(contract: Contract, kind: SloKind, objective: Objective, alerts: Sequence[BurnRateAlert],
            events: Sequence[SloEvent], now: datetime, window: str | None) -> SloStatus:
    span = window or objective.window
    mine = [e for e in events if e.slo == kind]
    bad, total = _ratio(mine, now - parse_duration(span), now)
    return SloStatus(dataset=contract.name, contract=contract.ref, slo=kind, objective=objective.objective,
                     window=span, end=now, good=total - bad, total=total,
                     burn_rates=tuple(_burn(mine, objective, a, now) for a in alerts))


def measure(contract: Contract, outcomes: Iterable[GateOutcome], *, now: datetime,
            window: str | None = None) -> list[SloStatus]:
    """Each SLO ``contract`` declares, measured on the outcomes about its dataset.

    Args:
        contract: a contract with an ``slos`` section (none gives an empty list).
        outcomes: gate outcomes (any dataset; those about other datasets are ignored).
        now: the end of every window (timezone-aware).
        window: measure attainment over this duration instead of each SLO's own window.

    Returns:
        One status per declared SLO, in the order freshness, completeness, gate pass rate.
    """
    if contract.slos is None:
        return []
    events = [e for o in outcomes for e in slo_events(o) if e.dataset == contract.name]
    alerts = contract.slos.alerts()
    return [_status(contract, kind, objective, alerts, events, now, window)
            for kind, objective in contract.slos.objectives().items()]


def lookback(contracts: Iterable[Contract], window: str | None = None) -> timedelta:
    """How far back the ledger must be read to measure every SLO and burn rate of ``contracts``."""
    spans = [parse_duration(window)] if window else []
    for contract in contracts:
        if contract.slos is not None:
            spans += [o.window_delta for o in contract.slos.objectives().values()]
            spans += [a.long_delta for a in contract.slos.alerts()]
    return max(spans, default=timedelta(days=28))
