"""The SLO report as text: what ``parity slo report`` prints and ``make demo`` ends with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.slo.attainment import SloStatus


def _pct(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}%}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def status_line(status: SloStatus) -> str:
    """One SLO: target, window, attainment (good/total), budget left, each pair's long/short burn rates."""
    burns = "  ".join(f"{b.alert.severity} {b.alert.factor:g}x {b.alert.long}/{b.alert.short} "
                      f"{_rate(b.long_rate)}/{_rate(b.short_rate)}{' FIRING' if b.firing else ''}"
                      for b in status.burn_rates)
    flag = "  EXHAUSTED" if status.exhausted else ""
    measured = f"{_pct(status.attainment)} ({status.good}/{status.total})"
    return (f"  {status.slo:<15} {_pct(status.objective):>8} {status.window:>6}  {measured:<20} "
            f"{_pct(status.budget_remaining, 1):>8}{flag}  {burns}")


def report_lines(contracts: Sequence[Contract], statuses: Sequence[SloStatus], now: datetime) -> list[str]:
    """Per contract a heading and one line per SLO."""
    lines = []
    for contract in contracts:
        lines.append(f"{contract.ref} (windows ending {now.isoformat(timespec='seconds')})")
        lines.append(f"  {'SLO':<15} {'target':>8} {'window':>6}  {'attainment':<20} {'budget':>8}  burn rate long/short")
        lines += [status_line(s) for s in statuses if s.contract == contract.ref]
    return lines


def exhausted_message(status: SloStatus) -> str:
    return (f"error budget exhausted: {status.dataset} {status.slo} attained {_pct(status.attainment)} "
            f"against {_pct(status.objective)} over {status.window}")
