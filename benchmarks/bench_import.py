"""Benchmark: what importing the provider costs the dag-processor.

Each run is a fresh interpreter: it times importing Airflow's base classes (which any DAG
file pays), then, in the same process, every hook, operator, sensor and trigger module of
the provider: the second figure is the provider's own cost per cold parse.
The difference is the provider's own cost per parse of a DAG file that uses it.

Usage: python benchmarks/bench_import.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import pkgutil
import statistics
import subprocess
import sys

import airflow_provider_parity

FACES = ("hooks", "operators", "sensors", "triggers")
# What any DAG file with an operator, a sensor or a deferrable task pays anyway.
BASELINE = ("from airflow.sdk import DAG, BaseHook, BaseOperator, BaseOperatorLink, BaseSensorOperator\n"
            "from airflow.triggers.base import BaseTrigger\n")


def face_modules() -> list[str]:
    modules = []
    root = airflow_provider_parity.__path__[0]
    for face in FACES:
        modules += [f"airflow_provider_parity.{face}.{m.name}" for m in pkgutil.iter_modules([f"{root}/{face}"])]
    return modules


def timed_import(modules: list[str]) -> tuple[float, float]:
    """(seconds for Airflow's base classes, seconds for the provider's modules after them)."""
    code = ("import time, importlib\nt0 = time.perf_counter()\n" + BASELINE + "t1 = time.perf_counter()\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(t1 - t0, time.perf_counter() - t1)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    base, provider = out.stdout.strip().splitlines()[-1].split()
    return float(base), float(provider)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    modules = face_modules()
    runs = [timed_import(modules) for _ in range(args.repeat)]
    print(f"| import, fresh interpreter | median of {args.repeat} (ms) |\n|---|---|")
    base_ms = statistics.median(r[0] for r in runs) * 1000
    print(f"| Airflow's DAG, operator, sensor, hook and trigger base classes | {base_ms:.0f} |")
    print(f"| then the provider's {len(modules)} hook/operator/sensor/trigger modules | "
          f"{statistics.median(r[1] for r in runs) * 1000:.0f} |")


if __name__ == "__main__":
    main()
