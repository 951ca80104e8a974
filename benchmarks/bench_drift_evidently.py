"""Benchmark: the drift engine side by side with Evidently 0.7's DataDriftPreset on 1M rows x 20 features.

Evidently is NOT a dependency of the project: this script creates a throwaway
virtual environment in a temporary folder (``uv venv`` + ``uv pip install
evidently==0.7.23``) and runs Evidently there, so the project's lock never sees
it. Needs ``uv`` on PATH and access to PyPI.

Timings, each engine a whole process as a user runs it (interpreter start, imports, reading
parquet, computing), and the computation alone:
  - parity: ``parity drift --reference ref.parquet --current cur.parquet`` (reads both files,
    profiles the reference, profiles the current side, compares);
  - evidently: read both files with pandas, then ``Report([DataDriftPreset()]).run(current, reference)``
    (its computation alone is the ``Report.run`` call).
Goal: parity at least 150x faster, whole process against whole process.

Usage: python benchmarks/bench_drift_evidently.py [--rows 1000000] [--small] [--venv DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_drift import make_data

EVIDENTLY = "evidently==0.7.23"
# Evidently 0.7 imports pandas internals that pandas 3 removed.

EVIDENTLY_RUN = """
import json, resource, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

ref = pd.read_parquet(sys.argv[1])
cur = pd.read_parquet(sys.argv[2])
for frame in (ref, cur):
    for column in frame.columns:
        if str(frame[column].dtype) == "category":
            frame[column] = frame[column].astype(str)
started = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(cur, ref)
result = snapshot.dict()
seconds = time.perf_counter() - started
drifted = [m for m in result["metrics"] if "ValueDrift" in str(m.get("metric_id", m.get("metric_name", "")))]
print(json.dumps({"seconds": round(seconds, 2), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "columns": len(drifted)}))
"""


def _evidently_python(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run(["uv", "venv", "--quiet", "--python", f"{sys.version_info.major}.{sys.version_info.minor}",
                        str(venv)], check=True)
    subprocess.run(["uv", "pip", "install", "--quiet", "--python", str(python), EVIDENTLY, "pandas<3", "pyarrow"], check=True)
    return python


def _whole_process(argv: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if out.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed: {out.stderr.strip()}")
    return seconds, out.stdout


_TIMED_CHILD = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
out = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"seconds": round(time.perf_counter() - started, 2), "code": out.returncode, "stdout": out.stdout,
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}))
"""


def _parity(ref: Path, cur: Path) -> dict[str, object]:
    """``parity drift`` as a whole process: its wall time and peak RSS, measured by a parent process."""
    out = subprocess.run([sys.executable, "-c", _TIMED_CHILD, sys.executable, "-m", "airflow_provider_parity.cli",
                          "drift", "--reference", str(ref), "--current", str(cur)],
                         check=True, capture_output=True, text=True).stdout
    res = json.loads(out)
    if res["code"] not in (0, 1):
        raise SystemExit(f"parity drift failed: {res['stdout']}")
    return {"seconds": res["seconds"], "peak_rss_mb": res["peak_rss_mb"], "verdict": res["stdout"].splitlines()[0][:100]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", action="store_true", help="50k rows, to check the script runs")
    parser.add_argument("--venv", help="reuse (or create) Evidently's virtual environment here")
    args = parser.parse_args()
    rows = 50_000 if args.small else args.rows
    with tempfile.TemporaryDirectory(prefix="bench-drift-evidently-") as tmp:
        folder = Path(tmp)
        ref, cur = folder / "ref.parquet", folder / "cur.parquet"
        make_data(rows, ref, seed=1, drift=False)
        make_data(rows, cur, seed=2, drift=True)
        started = time.perf_counter()
        python = _evidently_python(Path(args.venv) if args.venv else folder / "venv")
        print(f"Evidently environment ready in {time.perf_counter() - started:.0f} s ({EVIDENTLY})")
        parity = _parity(ref, cur)
        script = folder / "run_evidently.py"
        script.write_text(EVIDENTLY_RUN)
        whole, out = _whole_process([str(python), str(script), str(ref), str(cur)])
        evidently = json.loads(out.strip().splitlines()[-1])
        print(f"{rows:,} rows x 20 features (4 categorical); whole processes")
        print(f"{'engine':<12}{'process s':>10}{'compute s':>10}{'peak RSS MB':>14}")
        print(f"{'parity':<12}{parity['seconds']:>10}{'':>10}{parity['peak_rss_mb']:>14}  {parity['verdict']}")
        print(f"{'evidently':<12}{whole:>10.1f}{evidently['seconds']:>10}{evidently['peak_rss_mb']:>14}")
        ratio = whole / max(float(parity["seconds"]), 1e-9)  # type: ignore[arg-type]
        print(f"speed-up, whole process against whole process: {ratio:.0f}x "
              f"(Evidently's computation alone against parity's whole process: "
              f"{float(evidently['seconds']) / float(parity['seconds']):.0f}x)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
