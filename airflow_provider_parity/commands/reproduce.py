"""``parity reproduce MODEL VERSION``: recreate a model version's training set and compare fingerprints.

Exit 0: every recorded input reproduced; 1: a fingerprint or row count differs, or the data can
no longer be read (vacuumed); 2: bad input (unknown model or version, no training record) or an
unreachable tracking server.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from airflow_provider_parity.commands.args import int_at_least, tracking_server


def _reproduce(args: argparse.Namespace) -> int:
    from airflow_provider_parity.fileio import atomic_write_json, check_outputs
    from airflow_provider_parity.tracking.client import bounded_requests, make_client, outage_as_error
    from airflow_provider_parity.tracking.reproduce import (
        audit_version,
        refusals_as_bad_input,
        require_reproducible,
    )

    check_outputs(args.json)
    tracking_uri, secrets = tracking_server(args.tracking_uri)
    with bounded_requests(), refusals_as_bad_input(tracking_uri, secrets=secrets), \
            outage_as_error(tracking_uri, secrets=secrets):
        report = audit_version(make_client(tracking_uri, args.registry_uri), args.model, args.version,
                               read_data=not args.log_only)
    if args.json:
        atomic_write_json(args.json, dataclasses.asdict(report))
    for item in report.inputs:
        print(f"{item.status:<11} {item.uri}@v{item.version}: {item.detail}",
              file=sys.stdout if item.status == "match" else sys.stderr)
    require_reproducible(report)
    print(f"{report.model} v{report.version}: {report.reason}")
    return 0


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser(
        "reproduce", help="recreate a model version's training data from its recorded Delta versions "
        "and compare fingerprints (exit 1: differs or vacuumed, 2: bad input)")
    cmd.add_argument("model", help="registered model name")
    cmd.add_argument("version", type=int_at_least(1), help="model version (a number)")
    cmd.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI); credentials "
                     "come from MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN")
    cmd.add_argument("--registry-uri", help="MLflow registry URI when not the tracking store")
    cmd.add_argument("--log-only", action="store_true", help="compare from the Delta log only, without reading "
                     "the data files")
    cmd.add_argument("--json", metavar="OUT", help="write the audit report as JSON")
    cmd.set_defaults(func=_reproduce)
