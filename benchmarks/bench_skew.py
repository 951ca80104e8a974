"""Benchmark: ``parity skew`` as a whole process, 1M logged requests against a 1M-row offline feature table.

The offline table is a Delta table of 200k customers x 5 daily updates (one commit per day,
``updated_at`` at 20:00 plus up to an hour per customer); the serving log is a Delta table of 1M
requests over the following days, each serving the customer's offline values as of its time, with
``avg_ticket_30d`` rounded to one decimal for 2% of the customers (the skew the gate must find).
The timed run is the CLI in a fresh process (imports, reading both tables, the as-of join, four
features compared, JSON and HTML reports), as a DAG task or CI job runs it; its peak RSS comes
from ``wait4``. Goal: at most 10 s and 2 GB.

Usage: python benchmarks/bench_skew.py [--entities 200000] [--days 5] [--requests 1000000] [--small] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONTRACT = Path(__file__).resolve().parent.parent / "contracts" / "customer_features.yaml"
BASE = "2026-11-01T00:00:00"
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


def make_data(folder: Path, entities: int, days: int, requests: int, seed: int = 7) -> tuple[str, str, int, int]:
    """Write the offline table and the serving log; returns their URIs, how many customers were rounded and
    how many of them were served a value the rounding changed (what the gate must find)."""
    import numpy as np
    import pyarrow as pa
    from deltalake import write_deltalake

    rng = np.random.default_rng(seed)
    ids = pa.array(np.char.add("C", np.char.zfill(np.arange(entities).astype(str), 6)), pa.string())
    base = np.datetime64(BASE, "us").astype("int64")
    jitter = rng.integers(0, HOUR_US, entities)
    stamp = pa.timestamp("us", tz="UTC")
    offline_uri, days_tables = str(folder / "customer_features"), []
    for day in range(days):
        updated = base + day * DAY_US + 20 * HOUR_US + jitter
        orders = rng.poisson(3, entities)
        table = pa.table({
            "customer_id": ids,
            "feature_date": pa.array(np.full(entities, base // DAY_US + day, "int32"), pa.int32()).cast(pa.date32()),
            "tenure_days": pa.array(rng.integers(0, 3000, entities) + day, pa.int64()),
            "orders_30d": pa.array(orders, pa.int64()),
            "avg_ticket_30d": pa.array(np.round(rng.gamma(2.0, 25.0, entities), 2), pa.float64(), mask=orders == 0),
            "plan": pa.array(rng.choice(["basic", "plus", "premium"], entities), pa.string()),
            "region": pa.array(rng.choice(["north", "south", "east", "west"], entities), pa.string()),
            "updated_at": pa.array(updated, pa.int64()).cast(pa.timestamp("us")).cast(stamp),
            "churned": pa.array(rng.random(entities) < 0.2),
        })
        write_deltalake(offline_uri, table, mode="append")
        days_tables.append(table)
    offline = pa.concat_tables(days_tables)
    # Requests from just after the first update to a couple of hours after the last one.
    entity = rng.integers(0, entities, requests)
    first, last = base + 21 * HOUR_US, base + (days - 1) * DAY_US + 22 * HOUR_US
    served = np.sort(rng.integers(first, last, requests))
    day_of = np.clip((served - (base + 20 * HOUR_US + jitter[entity])) // DAY_US, 0, days - 1)
    log = offline.take(pa.array(day_of * entities + entity)).drop_columns(["churned"])
    rounded_customers = rng.choice(entities, entities // 50, replace=False)
    ticket = log["avg_ticket_30d"].to_numpy(zero_copy_only=False).copy()
    hit = np.isin(entity, rounded_customers) & ~np.isnan(ticket)
    before = ticket.copy()
    ticket[hit] = np.round(ticket[hit], 1)
    changed = int(np.unique(entity[~np.isnan(before) & (ticket != before)]).size)
    log = log.set_column(log.schema.get_field_index("avg_ticket_30d"), "avg_ticket_30d",
                         pa.array(ticket, pa.float64(), mask=np.isnan(ticket)))
    log = log.append_column("request_id", pa.array(np.char.add("R", np.arange(requests).astype(str)), pa.string()))
    log = log.append_column("served_at", pa.array(served, pa.int64()).cast(pa.timestamp("us")).cast(stamp))
    log = log.append_column("model_version", pa.array(["3"] * requests, pa.string()))
    log_uri = str(folder / "serving_log")
    write_deltalake(log_uri, log, mode="overwrite")
    return offline_uri, log_uri, len(rounded_customers), changed


def run_cli(log: str, offline: str, out: Path) -> tuple[float, float, int, float]:
    """``parity skew`` in a fresh process: (wall seconds, peak RSS MiB, exit code, CPU seconds)."""
    command = [sys.executable, "-m", "airflow_provider_parity.cli", "skew", "--log", log, "--offline", offline,
               "--contract", str(CONTRACT), "--json", str(out / "skew.json"), "--html", str(out / "skew.html")]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"parity skew failed ({process.returncode}): {process.stderr.read().decode()}")
    # ru_maxrss is KiB on Linux; CPU time says what the run costs when other jobs share the cores.
    return seconds, usage.ru_maxrss / 1024, process.returncode, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs; the median is reported")
    parser.add_argument("--small", action="store_true", help="20k customers, 100k requests: check the script runs")
    parser.add_argument("--dir", help="keep the generated tables here (default: a temporary folder)")
    args = parser.parse_args()
    if args.small:
        args.entities, args.requests = 20_000, 100_000
    with tempfile.TemporaryDirectory(prefix="bench-skew-") as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        offline, log, rounded, changed = make_data(folder, args.entities, args.days, args.requests)
        print(f"offline: {args.entities:,} customers x {args.days} days = {args.entities * args.days:,} rows (Delta, "
              f"{args.days} commits); log: {args.requests:,} requests (Delta); {rounded:,} customers rounded, "
              f"{changed:,} of them served a changed value")
        runs = [run_cli(log, offline, folder) for _ in range(args.runs)]
        seconds = sorted(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        codes = {r[2] for r in runs}
        cpu = sorted(r[3] for r in runs)
        print(f"parity skew: median {seconds[len(seconds) // 2]:.2f} s (min {seconds[0]:.2f}, max {seconds[-1]:.2f}) "
              f"over {args.runs} runs, CPU median {cpu[len(cpu) // 2]:.2f} s, peak RSS {peak:.0f} MiB, "
              f"exit code(s) {sorted(codes)}; "
              f"load average {os.getloadavg()[0]:.1f}")
        import json

        data = json.loads((folder / "skew.json").read_text())
        ticket = next(f for f in data["features"] if f["name"] == "avg_ticket_30d")
        print(f"found: avg_ticket_30d {ticket['mismatched_entities']:,} of {ticket['entities']:,} entities "
              f"({ticket['mismatch_rate']:.2%}); missing offline {data['missing']:,}; verdict {data['verdict']}")


if __name__ == "__main__":
    main()
