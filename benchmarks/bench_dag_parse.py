"""Benchmark: how long the dag-processor takes to parse the whole reference bundle (goal: 1 s).

Each run is a fresh interpreter with Airflow already imported (the dag-processor's state):
it times a DagBag fill of dags/ (every DAG file, with the provider's modules they import),
then a second fill in the same process (what each later parse loop costs once modules are
cached). Also reports whether any heavy library got imported.

Usage: python benchmarks/bench_dag_parse.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

DAGS = Path(__file__).resolve().parent.parent / "dags"
HEAVY = ("great_expectations", "pyspark", "mlflow", "deltalake", "dbt", "sklearn", "pandas", "kubernetes")
CODE = f"""
import sys, time
from airflow.dag_processing.dagbag import DagBag
t0 = time.perf_counter()
bag = DagBag(dag_folder={str(DAGS)!r})
t1 = time.perf_counter()
DagBag(dag_folder={str(DAGS)!r})
t2 = time.perf_counter()
assert not bag.import_errors, bag.import_errors
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print(len(bag.dags), t1 - t0, t2 - t1, ",".join(heavy) or "-")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="parity-bench-parse-")
    env = {**os.environ, "AIRFLOW_HOME": home, "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS), "PYTHONPATH": str(DAGS),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING"}
    cold, warm = [], []
    for _ in range(args.repeat):
        out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, env=env)
        dags, first, second, heavy = out.stdout.split()[-4:]
        cold.append(float(first))
        warm.append(float(second))
    print(f"| DAGs | first parse (median of {args.repeat}) | re-parse | heavy libraries imported |")
    print("|---|---|---|---|")
    print(f"| {dags} | {statistics.median(cold) * 1000:.0f} ms | {statistics.median(warm) * 1000:.0f} ms | {heavy} |")


if __name__ == "__main__":
    main()
