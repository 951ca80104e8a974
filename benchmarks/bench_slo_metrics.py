"""Benchmark: what one Prometheus scrape of ``/parity/metrics`` costs over a ledger of N outcomes.

Writes N synthetic outcomes (daily freshness and contract gates, one Delta commit) to a temporary
ledger, then times ``render(read_table(...))`` (an uncached scrape: every outcome read and counted)
and ``render_ledger`` on the unchanged ledger (a cached scrape: one Delta version lookup).

Usage: python benchmarks/bench_slo_metrics.py [--outcomes 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from deltalake import write_deltalake

from airflow_provider_parity.outcomes.ledger import read_table, to_rows
from airflow_provider_parity.outcomes.model import GateOutcome, RunIdentity
from airflow_provider_parity.slo.metrics import render, render_ledger


def _outcomes(count: int) -> list[GateOutcome]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found = []
    for i in range(count):
        at = start + timedelta(hours=i)
        gate = "freshness" if i % 2 else "contract"
        found.append(GateOutcome(
            gate=gate, status="passed" if i % 9 else "failed", blocking=not i % 9, reason="bench",
            dataset="s3://lake/features/customer_features", contract="customer_features@1.0.0#abc",
            finished_at=at.isoformat(), metrics={"lag_seconds": 3600.0, "max_age_seconds": 43_200, "rows": 500},
            run=RunIdentity("bench", f"run{i}", f"{gate}_gate")))
    return found


def _median_ms(step: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        step()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        uri = f"{folder}/ledger"
        write_deltalake(uri, to_rows(_outcomes(args.outcomes)), partition_by=["day"])
        uncached = _median_ms(lambda: render(read_table(uri)), args.repeat)
        render_ledger(uri)
        cached = _median_ms(lambda: render_ledger(uri), args.repeat)
    print(f"{args.outcomes} outcomes: uncached scrape {uncached:.0f} ms, cached scrape {cached:.1f} ms "
          f"(median of {args.repeat})")


if __name__ == "__main__":
    main()
