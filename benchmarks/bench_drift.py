"""Benchmark: the drift engine on 10M rows x 20 features (16 numeric, 4 categorical) in parquet.

Steps, each in its own process (so its peak RSS is its own), every timing including reading parquet:
  - profile: profile the reference file and store the profile (done once per training snapshot);
  - compare: profile the current file on the stored profile's grids and compare (the gate's run);
  - end-to-end: both, as ``parity drift --reference ref.parquet --current cur.parquet`` does.
Each step is timed inside its process (after imports) and as the whole process (what a user waits for).
Goal: end to end (both sides from parquet) at most 5 s as a whole process and 1 GB peak RSS.

Usage: python benchmarks/bench_drift.py [--rows 10000000] [--small]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NUMERIC = 16
CATEGORICAL = 4


def make_data(rows: int, path: Path, seed: int, drift: bool) -> None:
    """Write ``rows`` rows in row groups of 1M; with ``drift`` four features move."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    categories = pa.array([f"cat_{i:03d}" for i in range(50)])
    writer = None
    try:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            cols = {}
            for i in range(NUMERIC):
                values = rng.normal(0.0, 1.0, n) if i % 3 else rng.lognormal(0, 1, n)
                if drift and i == 0:
                    values = values + 0.5
                if drift and i == 1:
                    values = values * 2.0
                cols[f"num_{i:02d}"] = pa.array(values)
            for j in range(CATEGORICAL):
                weights = np.linspace(1, 10, 50) if drift and j == 0 else np.ones(50)
                idx = rng.choice(50, n, p=weights / weights.sum()).astype("int32")
                cols[f"cat_{j}"] = pa.DictionaryArray.from_arrays(pa.array(idx), categories)
            table = pa.table(cols)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=chunk)
    finally:
        if writer is not None:
            writer.close()


def _step(step: str, ref: str, cur: str, profile: str) -> dict[str, object]:
    from airflow_provider_parity.drift.compare import compare_profiles
    from airflow_provider_parity.drift.gate import run_drift
    from airflow_provider_parity.drift.profile import DatasetProfile, profile_batches
    from airflow_provider_parity.drift.sources import open_source

    started = time.perf_counter()
    verdict = None
    if step == "profile":
        source = open_source(ref)
        prof = profile_batches(source.batches(), source=source.description)  # type: ignore[union-attr]
        prof.save(profile)
    elif step == "compare":
        stored = DatasetProfile.load(profile)
        source = open_source(cur)
        current = profile_batches(source.batches(list(stored.kinds)), like=stored)  # type: ignore[union-attr]
        verdict = compare_profiles(stored, current).verdict
    else:
        verdict = run_drift(ref, cur)[0].verdict
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"step": step, "seconds": round(seconds, 2), "peak_rss_mb": round(rss), "verdict": verdict}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--small", action="store_true", help="200k rows, to check the script runs")
    parser.add_argument("--dir", help="keep the generated data here (default: a temporary folder)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--paths", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, *args.paths)))
        return
    rows = 200_000 if args.small else args.rows
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        folder = Path(args.dir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        ref, cur, profile = folder / f"ref-{rows}.parquet", folder / f"cur-{rows}.parquet", folder / "ref.profile.json"
        if not ref.exists():
            make_data(rows, ref, seed=1, drift=False)
        if not cur.exists():
            make_data(rows, cur, seed=2, drift=True)
        print(f"{rows:,} rows x {NUMERIC + CATEGORICAL} features ({CATEGORICAL} categorical), "
              f"parquet {ref.stat().st_size / 1e6:.0f} MB per side")
        print(f"{'step':<12}{'seconds':>10}{'process s':>11}{'peak RSS MB':>14}  verdict")
        for step in ("profile", "compare", "end-to-end"):
            started = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--step", step, "--paths", str(ref), str(cur),
                                  str(profile)], check=True, capture_output=True, text=True).stdout
            whole = time.perf_counter() - started
            res = json.loads(out.strip().splitlines()[-1])
            print(f"{step:<12}{res['seconds']:>10}{whole:>11.2f}{res['peak_rss_mb']:>14}  {res['verdict'] or ''}")


if __name__ == "__main__":
    main()
