"""Benchmark: validate a parquet file against a 10-rule contract.

Compares, each in its own process (so peak RSS is its own):
  - pandas:  one hand-written pandas pass over the same 10 checks (the baseline);
  - gx:      the gate's path (Arrow read, pre-flight, compiled Great Expectations suite);
  - arrow:   the same rules in Arrow compute (the serving check's engine).
Every timing includes reading the file. Goal: gx at most 2x the pandas pass.

Usage: python benchmarks/bench_validate.py [--rows 10000000] [--repeat 1]
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
from typing import Any

CONTRACT = """
dataset: {name: bench_orders, owner: bench, version: 1.0.0}
columns:
  - {name: id, type: integer, nullable: false, constraints: {unique: true}}
  - {name: amount, type: float, nullable: false, constraints: {min: 0, max: 1000}}
  - {name: qty, type: integer, constraints: {min: 0, max: 100}}
  - {name: status, type: string, constraints: {allowed_values: [new, paid, shipped, returned]}}
  - {name: code, type: string, constraints: {regex: "^[A-Z][0-9]{4}$"}}
  - {name: score, type: float}
  - {name: created, type: date, nullable: false}
completeness: {score: 0.95}
row_count: {min: 1}
"""


def make_data(rows: int, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(make_table(rows), path, row_group_size=1_000_000)


def make_table(rows: int, *, seed: int = 0, first_id: int = 0) -> Any:
    """``rows`` clean orders (a pyarrow Table); ``seed``/``first_id`` make the chunks of a larger table."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    letters = np.array(list("ABCDEFGHIJ"))
    codes = np.char.add(letters[rng.integers(0, 10, rows)], np.char.zfill(rng.integers(0, 10000, rows).astype(str), 4))
    score = rng.random(rows)
    return pa.table({
        "id": pa.array(np.arange(first_id, first_id + rows, dtype="int64")),
        "amount": pa.array(rng.uniform(0, 1000, rows)),
        "qty": pa.array(rng.integers(0, 101, rows)),
        "status": pa.array(rng.choice(["new", "paid", "shipped", "returned"], rows)),
        "code": pa.array(codes),
        "score": pa.array(score, mask=rng.random(rows) < 0.02),
        "created": pa.array(np.datetime64("2026-01-01") + rng.integers(0, 300, rows).astype("timedelta64[D]")),
    })


def pandas_pass(data: str) -> bool:
    import pandas as pd

    df = pd.read_parquet(data)
    checks = [
        df["id"].notna().all(),
        df["id"].is_unique,
        df["amount"].notna().all(),
        df["amount"].dropna().between(0, 1000).all(),
        df["qty"].dropna().between(0, 100).all(),
        df["status"].dropna().isin(["new", "paid", "shipped", "returned"]).all(),
        df["code"].dropna().str.match(r"^[A-Z][0-9]{4}$").all(),
        df["score"].notna().mean() >= 0.95,
        df["created"].notna().all(),
        len(df) >= 1,
    ]
    return bool(all(checks))


def parity_pass(data: str, contract_path: str, engine: str) -> bool:
    from airflow_provider_parity.contracts import load_contract
    from airflow_provider_parity.validation.sources import load_data
    from airflow_provider_parity.validation.validate import validate_table

    contract = load_contract(contract_path)
    loaded = load_data(data)
    result = validate_table(contract, loaded.table, source=loaded.source, engine=engine)  # type: ignore[arg-type]
    assert len(result.rules) == 10, [r.rule for r in result.rules]
    return result.success


def worker(kind: str, data: str, contract: str) -> None:
    # Libraries are imported before the clock starts: a worker pays that once, not per check.
    import pandas  # noqa: F401
    import pyarrow.compute  # noqa: F401

    import airflow_provider_parity.validation.validate  # noqa: F401

    if kind == "gx":
        import great_expectations  # noqa: F401
    started = time.perf_counter()
    ok = pandas_pass(data) if kind == "pandas" else parity_pass(data, contract, kind)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"kind": kind, "seconds": elapsed, "peak_mb": peak_mb, "passed": ok}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine; the best is reported")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "DATA", "CONTRACT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    with tempfile.TemporaryDirectory(prefix="parity-bench-") as tmp:
        data, contract = Path(tmp) / "orders.parquet", Path(tmp) / "contract.yaml"
        contract.write_text(CONTRACT)
        started = time.perf_counter()
        make_data(args.rows, data)
        print(f"generated {args.rows:,} rows ({data.stat().st_size / 2**20:.0f} MiB parquet) "
              f"in {time.perf_counter() - started:.1f} s", flush=True)
        results = {}
        for kind in ("pandas", "gx", "arrow"):
            runs = []
            for _ in range(args.repeat):
                out = subprocess.run([sys.executable, __file__, "--worker", kind, str(data), str(contract)],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            results[kind] = min(runs, key=lambda r: r["seconds"])
            assert results[kind]["passed"], results[kind]
    base = results["pandas"]["seconds"]
    print("\n| engine | rows | time (s) | vs pandas pass | peak RSS (MiB) |\n|---|---|---|---|---|")
    for kind, label in (("pandas", "hand-written pandas pass"), ("gx", "parity gate, Great Expectations"),
                        ("arrow", "parity gate, Arrow engine")):
        r = results[kind]
        print(f"| {label} | {args.rows:,} | {r['seconds']:.2f} | {r['seconds'] / base:.2f}x | {r['peak_mb']:.0f} |")
    ratio = results["gx"]["seconds"] / base
    print(f"\ngoal (gx <= 2.0x pandas): {'met' if ratio <= 2.0 else 'NOT met'} ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
