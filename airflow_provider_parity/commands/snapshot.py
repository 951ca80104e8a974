"""``parity snapshot`` and ``parity history``: pin a Delta version, list who wrote what.

Remote tables take their credentials from the environment (``AWS_*``,
``AZURE_STORAGE_*``, ``GOOGLE_*``), as delta-rs reads them; nothing secret goes on
the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from airflow_provider_parity.commands.args import int_at_least


def _snapshot(args: argparse.Namespace) -> int:
    from airflow_provider_parity.delta.snapshot import resolve_snapshot

    snap = resolve_snapshot(args.table, args.version, as_of=args.as_of)
    if args.json:
        print(json.dumps(snap.to_dict(), indent=2, sort_keys=True))
        return 0
    rows = [
        ("table", snap.uri),
        ("version", str(snap.version)),
        ("committed", snap.commit_timestamp),
        ("operation", snap.operation or "-"),
        ("rows", "unknown (no file statistics)" if snap.row_count is None else str(snap.row_count)),
        ("files", f"{snap.num_files} ({snap.total_bytes} bytes)"),
        ("fingerprint", snap.fingerprint),
        ("schema", ", ".join(f"{name}: {kind}" for name, kind in snap.schema)),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def _history(args: argparse.Namespace) -> int:
    from airflow_provider_parity.delta.writer import history_with_metadata

    entries = history_with_metadata(args.table, limit=args.limit)
    if args.json:
        print(json.dumps(entries, indent=2, sort_keys=True))
        return 0
    for entry in entries:
        meta = entry["metadata"]
        who = " ".join(f"{k.removeprefix('parity.')}={v}" for k, v in sorted(meta.items()) if k != "parity.write_id")
        mode = entry["parameters"].get("mode")
        operation = f"{entry['operation']}({mode})" if mode else str(entry["operation"])
        print(f"{entry['version']:>6}  {entry['timestamp']}  {operation:<20}  {who}".rstrip(), file=sys.stdout)
    return 0


def register(subparsers: Any) -> None:
    snap = subparsers.add_parser(
        "snapshot", help="pin a Delta version and print its fingerprint (exit 2: no such table or version)"
    )
    snap.add_argument("table", help="Delta table root: a path, s3://, gs:// or abfss:// URI")
    when = snap.add_mutually_exclusive_group()
    when.add_argument("--as-of", metavar="TS",
                      help="ISO timestamp with a time zone, e.g. 2024-05-01T00:00:00Z (naive times are refused)")
    when.add_argument("--version", type=int_at_least(0), metavar="N", help="a version number (default: latest)")
    snap.add_argument("--json", action="store_true", help="print the snapshot as JSON")
    snap.set_defaults(func=_snapshot)

    hist = subparsers.add_parser("history", help="list a Delta table's versions with who wrote them")
    hist.add_argument("table", help="Delta table root")
    hist.add_argument("--limit", type=int_at_least(1), help="only the newest N versions")
    hist.add_argument("--json", action="store_true", help="print JSON")
    hist.set_defaults(func=_history)
