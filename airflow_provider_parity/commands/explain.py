"""``parity explain MODEL [V1] V2``: what changed between two model versions, in seconds.

The training data versions and fingerprints, every Delta commit between the two pins with who
wrote it, the contract diff, code and package changes, each gate's status on both sides, metric
deltas per slice and the drift between the two training sets. With one version, it is compared
with the version registered before it. Exit 0; 2 bad input (unknown model or version) or an
unreachable tracking server.
"""

from __future__ import annotations

import argparse
from typing import Any


def _explain(args: argparse.Namespace) -> int:
    from airflow_provider_parity.commands.args import tracking_server
    from airflow_provider_parity.exceptions import ConfigurationError
    from airflow_provider_parity.fileio import check_outputs, commit_outputs, json_text
    from airflow_provider_parity.tracking.client import bounded_requests, make_client, outage_as_error
    from airflow_provider_parity.tracking.explain import explain

    if len(args.versions) > 2:
        raise ConfigurationError(f"explain takes one VERSION or two, got {len(args.versions)}")
    old, new = (None, str(args.versions[0])) if len(args.versions) == 1 else (str(v) for v in args.versions)
    check_outputs(args.json, args.html)  # before any work: a path that cannot be written is bad input
    tracking_uri, secrets = tracking_server(args.tracking_uri)
    with bounded_requests(), outage_as_error(tracking_uri, secrets=secrets):
        report = explain(make_client(tracking_uri, args.registry_uri), args.model, old, new, drift=not args.no_drift)
    outputs: dict[str, str] = {}
    if args.json:
        outputs[args.json] = json_text(report.to_dict())
    if args.html:
        from airflow_provider_parity.reports.view import render_explain

        outputs[args.html] = render_explain(report)
    commit_outputs(outputs)  # both files or neither
    if not args.json or args.print:
        print("\n".join(report.summary()))
    return 0


def register(subparsers: Any) -> None:
    from airflow_provider_parity.commands.args import int_at_least

    cmd = subparsers.add_parser("explain", help="what changed between two model versions: data, commits, contract, "
                                "code, gates, metrics, drift")
    cmd.add_argument("model", help="registered model name")
    cmd.add_argument("versions", nargs="+", metavar="VERSION", type=int_at_least(1),
                     help="V1 V2, or one version to compare with the one registered before it")
    cmd.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    cmd.add_argument("--registry-uri", help="MLflow registry URI when not the tracking store")
    cmd.add_argument("--no-drift", action="store_true", help="skip the drift between the two training sets")
    cmd.add_argument("--json", metavar="OUT", help="write the report as JSON")
    cmd.add_argument("--html", metavar="OUT", help="write the report as a self-contained HTML page")
    cmd.add_argument("--print", action="store_true", help="print the summary even with --json")
    cmd.set_defaults(func=_explain)
