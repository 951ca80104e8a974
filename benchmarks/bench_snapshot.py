"""Benchmark: pin and fingerprint a Delta table with many versions and active files.

Builds a table of ``--versions`` commits holding ``--files`` active files in total
(with checkpoints every 100 commits, delta-rs' default), then times
``resolve_snapshot`` (latest, an old version, and as-of a timestamp) in a fresh
process each, and prints a table of wall time and peak RSS.

The table's log is written directly (commit JSON files plus checkpoints through
delta-rs), with tiny placeholder data files: pinning reads only the log, and
writing 10,000 real Parquet files through 1,000 commits would take minutes.

    .venv/bin/python benchmarks/bench_snapshot.py            # 1,000 versions, 10,000 files
    .venv/bin/python benchmarks/bench_snapshot.py --small    # 100 versions, 1,000 files
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

SCHEMA = {"type": "struct", "fields": [
    {"name": "id", "type": "long", "nullable": True, "metadata": {}},
    {"name": "value", "type": "double", "nullable": True, "metadata": {}},
]}
START_MS = 1_700_000_000_000


def _commit_lines(version: int, files: list[str], now_ms: int) -> list[str]:
    lines = [json.dumps({"commitInfo": {"timestamp": now_ms, "operation": "WRITE",
                                        "operationParameters": {"mode": "Append"}}})]
    if version == 0:
        lines.append(json.dumps({"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}))
        lines.append(json.dumps({"metaData": {
            "id": str(uuid.uuid4()), "format": {"provider": "parquet", "options": {}},
            "schemaString": json.dumps(SCHEMA), "partitionColumns": [], "configuration": {},
            "createdTime": now_ms}}))
    for i, path in enumerate(files):
        stats = {"numRecords": 100, "minValues": {"id": i, "value": 0.0}, "maxValues": {"id": i + 99, "value": 1.0},
                 "nullCount": {"id": 0, "value": 0}}
        lines.append(json.dumps({"add": {"path": path, "partitionValues": {}, "size": 1000 + i,
                                         "modificationTime": now_ms, "dataChange": True,
                                         "stats": json.dumps(stats)}}))
    return lines


def build_table(root: Path, versions: int, files: int, checkpoint_every: int = 100) -> str:
    """Write a table log of ``versions`` commits adding ``files`` files in total; checkpoint as Delta does."""
    from deltalake import DeltaTable

    log = root / "_delta_log"
    log.mkdir(parents=True)
    per_commit = [files // versions + (1 if v < files % versions else 0) for v in range(versions)]
    for version, count in enumerate(per_commit):
        paths = [f"part-{version:05d}-{i:04d}-{uuid.uuid4()}.parquet" for i in range(count)]
        (log / f"{version:020d}.json").write_text("\n".join(_commit_lines(version, paths, START_MS + version * 1000))
                                                  + "\n")
        if version and version % checkpoint_every == 0:
            DeltaTable(str(root), version=version).create_checkpoint()
    return str(root)


MEASURE = """
import json, resource, sys, time
t0 = time.perf_counter()
import deltalake, pyarrow, pyarrow.compute  # library import, reported apart
from airflow_provider_parity.delta.snapshot import resolve_snapshot
t_import = time.perf_counter()
kind, uri, arg = sys.argv[1], sys.argv[2], sys.argv[3]
kwargs = {"version": int(arg)} if kind == "version" else {"as_of": arg} if kind == "as_of" else {}
snap = resolve_snapshot(uri, **kwargs)
t1 = time.perf_counter()
print(json.dumps({"seconds": t1 - t_import, "import_seconds": t_import - t0,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "version": snap.version, "files": snap.num_files, "fingerprint": snap.fingerprint[:12]}))
"""


STREAM = """
import resource, sys, time
import deltalake, pyarrow
from airflow_provider_parity.delta import iter_batches, read_arrow
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t0 = time.perf_counter()
if sys.argv[1] == "stream":
    rows = sum(batch.num_rows for batch in iter_batches(sys.argv[2]))
else:
    rows = read_arrow(sys.argv[2]).num_rows
print(rows, time.perf_counter() - t0, base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def build_data_table(root: Path, files: int, rows_per_file: int) -> str:
    """A real table of ``files`` Parquet files of (id int64, value float64)."""
    import numpy as np
    import pyarrow as pa
    from deltalake import write_deltalake

    uri = str(root)
    for i in range(files):
        ids = np.arange(i * rows_per_file, (i + 1) * rows_per_file, dtype=np.int64)
        write_deltalake(uri, pa.table({"id": ids, "value": ids * 0.5}), mode="append")
    return uri


def stream_vs_load(uri: str) -> None:
    """Peak RSS of streaming every batch versus loading the whole version, each in a fresh process."""
    print(f"{'read':<32} {'seconds':>8} {'rows':>10} {'RSS before MB':>14} {'peak RSS MB':>12}")
    for kind in ("stream", "load"):
        out = subprocess.run([sys.executable, "-c", STREAM, kind, uri], capture_output=True, text=True,
                             check=True).stdout.split()
        rows, seconds, base, peak = int(out[0]), float(out[1]), float(out[2]), float(out[3])
        label = "iter_batches (streamed)" if kind == "stream" else "read_arrow (whole table)"
        print(f"{label:<32} {seconds:>8.2f} {rows:>10} {base:>14.0f} {peak:>12.0f}")


def measure(kind: str, uri: str, arg: str, repeats: int) -> dict:
    """Best of ``repeats`` fresh processes (no warm caches shared between runs)."""
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", MEASURE, kind, uri, arg], capture_output=True, text=True,
                             check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return min(runs, key=lambda r: r["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="100 versions, 1,000 files")
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    versions, files = (100, 1000) if args.small else (args.versions, args.files)
    with tempfile.TemporaryDirectory(prefix="bench-snapshot-") as tmp:
        started = time.perf_counter()
        uri = build_table(Path(tmp) / "table", versions, files)
        print(f"built a table of {versions} versions, {files} active files in {time.perf_counter() - started:.1f}s")
        old = versions // 2 + 7  # between checkpoints: checkpoint plus commits replayed
        as_of = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((START_MS + (versions - 3) * 1000) / 1000))
        cases = [("latest", "latest", ""), (f"version {old}", "version", str(old)), (f"as of {as_of}", "as_of", as_of)]
        print(f"{'pin':<32} {'seconds':>8} {'import s':>9} {'peak RSS MB':>12} {'version':>8} {'files':>7}  fingerprint")
        worst = 0.0
        for label, kind, arg in cases:
            result = measure(kind, uri, arg, args.repeats)
            worst = max(worst, result["seconds"])
            print(f"{label:<32} {result['seconds']:>8.3f} {result['import_seconds']:>9.3f} {result['rss_mb']:>12.0f} "
                  f"{result['version']:>8} "
                  f"{result['files']:>7}  {result['fingerprint']}")
        print(f"worst case {worst:.3f}s (goal: at most 1 s), in a fresh process; importing deltalake and "
              "pyarrow (once per process) is the 'import s' column")
        data_files, rows_per_file = (4, 250_000) if args.small else (20, 1_000_000)
        data = build_data_table(Path(tmp) / "data", data_files, rows_per_file)
        print(f"\nreading a table of {data_files * rows_per_file:,} rows (16 bytes each) in {data_files} files")
        stream_vs_load(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
