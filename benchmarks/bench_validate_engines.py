"""Benchmark: the gate's engines against one hand-written DuckDB query, as whole processes.

Same parquet file and 10-rule contract as ``bench_validate.py``. Each run is a whole
process (interpreter start, imports, reading, checking), timed by wall clock, with its own
peak RSS (``wait4``):
  - ``parity validate`` (default engine, DuckDB);
  - ``parity validate --engine arrow``;
  - ``parity validate --engine gx``;
  - datacontract-cli ``test`` on the contract exported to ODCS (``parity contract odcs-export
    --data``), installed in a throw-away virtualenv (skip with ``--no-datacontract``);
  - one hand-written DuckDB query doing the same 10 checks (the floor).
Goal: the default gate within 1.5x of the hand-written query and at most 1 GB peak.

Usage: python benchmarks/bench_validate_engines.py [--rows 10000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_validate import CONTRACT, make_data

HAND_WRITTEN = """
SELECT count(*) FILTER (WHERE id IS NULL) = 0
   AND count(DISTINCT id) = count(id)
   AND count(*) FILTER (WHERE amount IS NULL) = 0
   AND count(*) FILTER (WHERE amount < 0 OR amount > 1000) = 0
   AND count(*) FILTER (WHERE qty < 0 OR qty > 100) = 0
   AND count(*) FILTER (WHERE status NOT IN ('new', 'paid', 'shipped', 'returned')) = 0
   AND count(*) FILTER (WHERE NOT regexp_matches(code, '^[A-Z][0-9]{4}$')) = 0
   AND count(score) >= 0.95 * count(*)
   AND count(*) FILTER (WHERE created IS NULL) = 0
   AND count(*) >= 1
FROM read_parquet(?)
"""


def hand_written(data: str) -> int:
    import duckdb

    row = duckdb.connect().execute(HAND_WRITTEN, [data]).fetchone()
    return 0 if row and row[0] else 1


def datacontract_test(parity: str, contract: Path, data: Path, tmp: Path) -> tuple[str, list[str]]:
    """A label and the ``datacontract test`` command line for the contract's ODCS export with ``data`` as its server."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "contracts"))
    from peer_tools import DATACONTRACT_CLI, install_datacontract

    odcs = tmp / "contract.odcs.yaml"
    subprocess.run([parity, "contract", "odcs-export", str(contract), "--data", str(data), "--out", str(odcs)],
                   check=True)
    label = f"datacontract-cli {DATACONTRACT_CLI.split('==')[1]} `test` (the ODCS export, DuckDB)"
    return label, [str(install_datacontract(tmp / "datacontract-venv")), "test", str(odcs)]


def run(argv: list[str], env: dict[str, str] | None = None, *, tree: bool = False) -> dict[str, float]:
    """Wall time and peak RSS of one whole process (its exit code must be 0: the data is clean).

    ``tree``: the peak of the summed RSS of the process and its descendants, sampled every 0.1 s
    (Spark's JVM is a child the driver never waits for, so ``wait4`` would leave it out).
    """
    import threading

    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, env=env)
    peak = [0]
    if tree:
        threading.Thread(target=_sample_tree, args=(proc.pid, peak), daemon=True).start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} exited {os.waitstatus_to_exitcode(status)}")
    return {"seconds": elapsed, "peak_mb": max(usage.ru_maxrss / 1024, peak[0] / 2**20)}


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (Linux ``/proc``); 0 once it is gone."""
    try:
        total = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, IndexError, ValueError):
        return 0
    return total + sum(_tree_rss(int(c)) for c in children)


def _sample_tree(pid: int, peak: list[int]) -> None:
    while Path(f"/proc/{pid}").exists():
        peak[0] = max(peak[0], _tree_rss(pid))
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per command; the best is reported")
    parser.add_argument("--hand-written", metavar="DATA", help=argparse.SUPPRESS)
    parser.add_argument("--make", metavar="DATA", help=argparse.SUPPRESS)
    parser.add_argument("--no-datacontract", action="store_true", help="leave datacontract-cli out")
    args = parser.parse_args()
    if args.hand_written:
        raise SystemExit(hand_written(args.hand_written))
    if args.make:
        make_data(args.rows, Path(args.make))
        return
    parity = str(Path(sys.executable).parent / "parity")
    with tempfile.TemporaryDirectory(prefix="parity-bench-") as tmp:
        data, contract = Path(tmp) / "orders.parquet", Path(tmp) / "contract.yaml"
        contract.write_text(CONTRACT)
        # In a child: a forked child's peak RSS starts at its parent's, which must not hold the generated table.
        subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--make", str(data)], check=True)
        print(f"{args.rows:,} rows, {data.stat().st_size / 2**20:.0f} MiB parquet; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        validate = [parity, "validate", "--contract", str(contract), "--data", str(data)]
        commands = {
            "`parity validate` (default engine, DuckDB)": validate,
            "`parity validate --engine arrow`": [*validate, "--engine", "arrow"],
            "`parity validate --engine gx`": [*validate, "--engine", "gx"],
        }
        if not args.no_datacontract:
            label, argv = datacontract_test(parity, contract, data, Path(tmp))
            commands[label] = argv
        commands["one hand-written DuckDB query, same 10 checks"] = [sys.executable, __file__, "--hand-written", str(data)]
        results = {}
        for label, argv in commands.items():
            results[label] = min((run(argv) for _ in range(args.repeat)), key=lambda r: r["seconds"])
            print(f"  {label}: {results[label]['seconds']:.1f} s", flush=True)
    floor = results["one hand-written DuckDB query, same 10 checks"]["seconds"]
    print("\n| | time (s) | vs hand-written query | peak RSS (MiB) |\n|---|---|---|---|")
    for label, r in results.items():
        print(f"| {label} | {r['seconds']:.2f} | {r['seconds'] / floor:.2f}x | {r['peak_mb']:.0f} |")
    default = results["`parity validate` (default engine, DuckDB)"]
    ratio = default["seconds"] / floor
    met = ratio <= 1.5 and default["peak_mb"] <= 1024
    print(f"\ngoal (default gate <= 1.5x the hand-written query, <= 1 GB): {'met' if met else 'NOT met'} "
          f"({ratio:.2f}x, {default['peak_mb']:.0f} MiB)")


if __name__ == "__main__":
    main()
