"""``parity rollback MODEL [--to V] --reason "..."``: move ``champion`` back, the reason recorded.

The same rollback as ``MlflowRollbackOperator`` and the view's form (``tracking/rollback.py``):
the reason goes on the demoted version's tags and into the champion history, which the view's
alias history shows. Exit 0; 2 bad input (no reason, unknown model or version, nothing to roll
back to) or an unreachable tracking server.
"""

from __future__ import annotations

import argparse
from typing import Any


def request_id(origin: str, user: str) -> str:
    """``<origin>/<user>/<nonce>``: names who asked, and differs per request, so that a second rollback by
    the same person is a new one, not mistaken for a retry of the first."""
    import uuid

    return f"{origin}/{user}/{uuid.uuid4().hex[:8]}"


def _rollback(args: argparse.Namespace) -> int:
    import getpass

    from airflow_provider_parity.commands.args import tracking_server
    from airflow_provider_parity.tracking.client import bounded_requests, make_client, outage_as_error
    from airflow_provider_parity.tracking.rollback import rollback

    tracking_uri, secrets = tracking_server(args.tracking_uri)
    with bounded_requests(), outage_as_error(tracking_uri, secrets=secrets):
        result = rollback(make_client(tracking_uri, args.registry_uri), args.model, reason=args.reason,
                          to_version=None if args.to is None else str(args.to),
                          request_id=request_id("cli", getpass.getuser()))
    print(f"{result.model}: champion v{result.from_version} -> v{result.to_version} ({result.reason})")
    return 0


def register(subparsers: Any) -> None:
    from airflow_provider_parity.commands.args import int_at_least

    cmd = subparsers.add_parser("rollback", help="move the champion alias back (to the previous champion or --to), "
                                "with the reason recorded")
    cmd.add_argument("model", help="registered model name")
    cmd.add_argument("--to", type=int_at_least(1), metavar="V", help="the version to roll back to (default: the "
                     "champion before the current one)")
    cmd.add_argument("--reason", required=True, help="why (recorded on the demoted version and in the history)")
    cmd.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    cmd.add_argument("--registry-uri", help="MLflow registry URI when not the tracking store")
    cmd.set_defaults(func=_rollback)
