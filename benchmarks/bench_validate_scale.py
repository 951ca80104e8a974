"""Benchmark: the default gate where the data is big or elsewhere, as whole processes.

Same 10-rule contract as ``bench_validate.py``:
  - a Delta table of ``--delta-rows`` (default 100M, about 2.5 GB) written as ten appends, so
    version 0 holds the first tenth: ``parity validate --version 0`` against the latest version
    shows whether memory grows with rows. Generated once under ``--delta-dir`` and reused.
    Goal: the latest version in at most 30 s, peak RSS flat from a tenth to all of it.
  - PostgreSQL (a throw-away server on loopback, ``pg_stat_statements`` preloaded) holding
    ``--pg-rows`` (default 10M) rows: ``parity validate --conn-id --sql`` pushes the rules down;
    the rows the server sent to the worker are counted from ``pg_stat_statements``.
  - Spark local mode (``--engine spark``: delta-spark's reader, the same compiled SQL) on the same
    two Delta versions; its peak RSS includes the JVM (the process tree, sampled).
Each run's time is wall clock of the whole process, peak RSS its own (``wait4``).

Usage: python benchmarks/bench_validate_scale.py [--delta-rows 100000000] [--pg-rows 10000000]
       [--skip-delta|--skip-pg|--skip-spark]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench_validate import CONTRACT, make_table
from bench_validate_engines import run

REPO = Path(__file__).resolve().parents[1]
CHUNKS = 10


def make_delta(path: Path, rows: int) -> None:
    """``rows`` clean orders as a Delta table of ten appends (version v holds (v + 1) tenths)."""
    from deltalake import write_deltalake

    chunk = rows // CHUNKS
    for i in range(CHUNKS):
        write_deltalake(str(path), make_table(chunk, seed=i, first_id=i * chunk), mode="append")
        print(f"  wrote chunk {i + 1}/{CHUNKS}", flush=True)


def bench_delta(parity: str, contract: Path, args: argparse.Namespace) -> list[tuple[str, dict[str, float]]]:
    path = Path(args.delta_dir)
    if not (path / "_delta_log" / f"{CHUNKS - 1:020d}.json").exists():
        print(f"generating {args.delta_rows:,} rows as Delta under {path} (once)", flush=True)
        import subprocess

        # In a child: the generator's memory stays out of this process (and of the measured ones).
        subprocess.run([sys.executable, __file__, "--make-delta", str(path), "--delta-rows", str(args.delta_rows)],
                       check=True)
    size = sum(f.stat().st_size for f in path.rglob("*.parquet")) / 2**30
    print(f"Delta table {path}: {size:.2f} GiB of parquet", flush=True)
    validate = [parity, "validate", "--contract", str(contract), "--data", str(path)]
    tenth = args.delta_rows // CHUNKS
    results = [(f"`parity validate`, Delta, version 0 ({tenth:,} rows)", run([*validate, "--version", "0"])),
               (f"`parity validate`, Delta, latest ({args.delta_rows:,} rows)", run(validate))]
    if not args.skip_spark:
        # Spark local mode beside it (local[*], delta-spark's versionAsOf reader): the JVM's memory counts.
        spark = [*validate, "--engine", "spark"]
        results += [(f"`parity validate --engine spark`, Delta, version 0 ({tenth:,} rows)",
                     run([*spark, "--version", "0"], tree=True)),
                    (f"`parity validate --engine spark`, Delta, latest ({args.delta_rows:,} rows)",
                     run(spark, tree=True))]
    for label, r in results:
        print(f"  {label}: {r['seconds']:.1f} s, {r['peak_mb']:.0f} MiB", flush=True)
    return results


def bench_postgres(parity: str, contract: Path, args: argparse.Namespace, tmp: Path) -> list[tuple[str, dict[str, float]]]:
    sys.path.insert(0, str(REPO / "tests" / "integration" / "validation"))
    from postgres_server import missing, running_postgres

    if reason := missing():
        print(f"PostgreSQL skipped: {reason}")
        return []
    with running_postgres(tmp / "pg") as server:
        print(f"loading {args.pg_rows:,} rows into PostgreSQL", flush=True)
        chunk = min(args.pg_rows, 2_000_000)
        for i in range(0, args.pg_rows, chunk):
            server.load("bench_orders", make_table(min(chunk, args.pg_rows - i), seed=i, first_id=i), append=i > 0)
        with server.cursor() as cur:
            cur.execute("VACUUM ANALYZE bench_orders")
        server.reset_statistics()
        env = {**os.environ, "AIRFLOW_CONN_BENCH_PG": server.airflow_conn()}
        label = f"`parity validate --conn-id --sql`, PostgreSQL pushdown ({args.pg_rows:,} rows)"
        result = run([parity, "validate", "--contract", str(contract), "--conn-id", "bench_pg",
                      "--sql", "bench_orders"], env=env)
        statements, rows = server.rows_returned("bench_orders")
        result["rows_returned"] = rows
        print(f"  {label}: {result['seconds']:.1f} s, {result['peak_mb']:.0f} MiB; {statements} statements "
              f"returned {rows} row(s) to the worker (the aggregate: no data rows moved)", flush=True)
        return [(label, result)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delta-rows", type=int, default=100_000_000)
    parser.add_argument("--delta-dir", default=os.path.join(tempfile.gettempdir(), "parity-bench", "orders-delta"))
    parser.add_argument("--pg-rows", type=int, default=10_000_000)
    parser.add_argument("--skip-delta", action="store_true")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-spark", action="store_true", help="leave Spark local mode out of the Delta runs")
    parser.add_argument("--make-delta", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make_delta:
        make_delta(Path(args.make_delta), args.delta_rows)
        return
    parity = str(Path(sys.executable).parent / "parity")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="parity-bench-") as tmp:
        contract = Path(tmp) / "contract.yaml"
        contract.write_text(CONTRACT)
        results = [] if args.skip_delta else bench_delta(parity, contract, args)
        results += [] if args.skip_pg else bench_postgres(parity, contract, args, Path(tmp))
    print("\n| | time (s) | peak RSS (MiB) |\n|---|---|---|")
    for label, r in results:
        print(f"| {label} | {r['seconds']:.2f} | {r['peak_mb']:.0f} |")


if __name__ == "__main__":
    main()
