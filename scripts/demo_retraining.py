"""The demo's retraining story: a business KPI in a real Prometheus for the post-promotion watch, and
the summary lines of the retraining policy's decisions and the watch's verdicts.

The demo has no shop, so the KPI is written, not measured: every 15 minutes over the simulated days,
about 10%, falling to 7% from the moment a promotion happens (the demo knows when its day 4 promotes).
The series is backfilled with ``promtool tsdb create-blocks-from openmetrics`` and served by a
Prometheus on loopback; the watch reads it through ``/api/v1/query_range`` as it would in production.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

STEP = timedelta(minutes=15)


def conversion_series(start: datetime, drop_at: datetime, end: datetime) -> str:
    """OpenMetrics text of ``shop_conversion_rate``: ~0.10 before ``drop_at``, ~0.07 from it on."""
    lines = ["# TYPE shop_conversion_rate gauge"]
    at, i = start, 0
    while at <= end:
        base = 0.07 if at >= drop_at else 0.10
        lines.append(f"shop_conversion_rate {base + 0.002 * math.sin(i / 4):.4f} {at.timestamp():.0f}")
        at, i = at + STEP, i + 1
    return "\n".join(lines) + "\n# EOF\n"


@contextmanager
def kpi_prometheus(folder: Path, *, start: datetime, drop_at: datetime, end: datetime) -> Iterator[str | None]:
    """A Prometheus on loopback holding the conversion series; yields its URL (None without prometheus)."""
    from airflow_provider_parity.slo.prometheus_process import backfilled_prometheus

    if shutil.which("prometheus") is None or shutil.which("promtool") is None:
        yield None
        return
    with backfilled_prometheus(folder, conversion_series(start, drop_at, end), timeout=30) as url:
        yield url


def start_kpis(folder: Path, first_day: date, *, promoted_after_day: int) -> str | None:
    """Start the KPI Prometheus (stopped when the demo exits) and point the bundle at it
    (``[parity] prometheus_url``); the conversion falls at the end of day ``promoted_after_day``."""
    first = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    stack = ExitStack()
    atexit.register(stack.close)
    url = stack.enter_context(kpi_prometheus(folder, start=first - timedelta(days=1),
                                             drop_at=first + timedelta(days=promoted_after_day),
                                             end=datetime.now(UTC)))
    if url:
        os.environ["AIRFLOW__PARITY__PROMETHEUS_URL"] = url
    return url


def decision_lines(day: Any) -> list[str]:
    """What the retraining policy decided and what the watch did on a day (only what is worth a line)."""
    lines = []
    for run in (day.retraining, day.monitor):
        policy = ((run.verdict or {}).get("gates") or {}).get("retraining_policy") or {}
        if policy.get("state") == "skipped" and policy.get("reason"):
            lines.append(f"retraining policy ({run.dag_id}): {policy['reason']}")
    watch = ((day.monitor.verdict or {}).get("gates") or {}).get("watch_champion") or {}
    if watch.get("state") == "failed":
        lines.append(f"post-promotion watch: {watch.get('reason')}")
    return lines


def rolled_back(day: Any) -> bool:
    watch = ((day.monitor.verdict or {}).get("gates") or {}).get("watch_champion") or {}
    return watch.get("state") == "failed" and str(watch.get("reason") or "").startswith("rolled back to v")
