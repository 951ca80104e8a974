"""``parity materialize`` and ``parity serve``: the online path.

``parity materialize TABLE [--version N] --contract C --store URI`` writes the newest row per entity of a
pinned Delta version into the online store (a no-op when the store already holds that version).
``parity serve`` runs the reference online service (FastAPI under uvicorn) until SIGTERM/SIGINT, which
stops it gracefully and flushes the serving log. Exit 2: bad input (no champion, unreadable contract, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow_provider_parity.commands.args import int_at_least, positive_seconds, tracking_server

STORE_ENV = "PARITY_ONLINE_STORE"


def _materialize(args: argparse.Namespace) -> int:
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.serving.online_store import materialize, open_store

    contract = load_contract(args.contract)
    version = args.version
    if version is None:
        version = _latest_version(args.table, missing_ok=args.missing_ok)
        if version is None:
            print(json.dumps({"skipped": True, "reason": "no Delta table yet"}))
            return 0
    store = open_store(args.store)
    try:
        done = materialize(args.table, version, contract, store)
    finally:
        store.close()
    print(json.dumps(done.to_dict()))
    return 0


def _latest_version(table: str, *, missing_ok: bool) -> int | None:
    """The table's newest version (every version of a feature table passed its gate before it was written)."""
    from airflow_provider_parity.delta.snapshot import open_table
    from airflow_provider_parity.exceptions import SnapshotError

    try:
        return int(open_table(table).version())
    except SnapshotError:
        if missing_ok:  # a fresh deployment: the feature pipeline has not written the table yet
            return None
        raise


def _build_service(args: argparse.Namespace) -> Any:
    """The :class:`~airflow_provider_parity.serving.app.Service` the options describe.

    Everything that can be wrong with the input fails here, before the port opens: exit 2, one line.
    """
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.exceptions import DataError
    from airflow_provider_parity.serving.app import Champion, LogWriter, Service
    from airflow_provider_parity.serving.faults import parse_fault
    from airflow_provider_parity.serving.online_store import open_store

    contract = load_contract(args.contract)
    tracking_uri, _ = tracking_server(args.tracking_uri, must_exist=not args.wait_for_champion)
    from airflow_provider_parity.transform.request_time import REQUEST_FEATURE_NAMES

    # Request-time features are numbers too: a linear champion trained on them keeps the numpy scorer.
    numeric = [c.name for c in contract.columns_for("serving") if c.is_numeric] + list(REQUEST_FEATURE_NAMES)
    champion = Champion(args.model, tracking_uri, wait=args.wait_for_champion, numeric=numeric)
    served = [c.name for c in contract.columns_for("serving")]
    service = Service(contract=contract, store=open_store(args.store), champion=champion,
                      writer=LogWriter(args.log, flush_seconds=args.flush_seconds, max_rows=args.flush_rows),
                      on_failure=args.on_boundary_failure, poll_seconds=args.poll_seconds,
                      fault=parse_fault(args.fault, served) if args.fault else None,
                      features_ready=not args.wait_for_features)
    if args.replay_from:
        service.clock = replay_clock(args.replay_from)
    if not args.wait_for_features and service.store.materialised_version(service.view) is None:
        # Never materialised: bad input at start, not a failed request each (the same on every store).
        raise DataError(f"online store has no materialised feature view {service.view!r}: run the feature "
                        "pipeline (or parity materialize) first, or start with --wait-for-features")
    return service


WORKER_ARGS_ENV = "PARITY_SERVE_WORKER_ARGS"


def worker_app() -> Any:
    """One ``--workers`` process' application (uvicorn's factory): the parent's options, its own service and log writer."""
    from airflow_provider_parity.serving.app import create_app

    return create_app(_build_service(argparse.Namespace(**json.loads(os.environ[WORKER_ARGS_ENV]))))


def _exit_cleanly(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from airflow_provider_parity.serving.app import create_app

    service = _build_service(args)
    options: dict[str, Any] = {"host": args.host, "port": args.port, "log_level": args.log_level,
                               "access_log": False, "timeout_graceful_shutdown": 30}
    if args.workers == 1:
        # uvicorn stops gracefully on SIGTERM (the serving log flushed), restores the handler it found and
        # raises the signal again: with the default handler the process then dies by it (exit -15, which
        # Kubernetes reports as an error). This handler turns that re-raise, or a SIGTERM before the
        # server started, into a clean exit 0, as the multi-process supervisor already gives.
        previous = signal.signal(signal.SIGTERM, _exit_cleanly)
        try:
            uvicorn.run(create_app(service), **options)
        finally:
            signal.signal(signal.SIGTERM, previous)
        return 0
    # Several processes: each builds its own service (model, store connection, log writer; all append to
    # the same Delta table, whose commits retry on a concurrent append). Checked once here first.
    service.store.close()
    os.environ[WORKER_ARGS_ENV] = json.dumps({k: v for k, v in vars(args).items() if k != "func"})
    uvicorn.run("airflow_provider_parity.commands.serve:worker_app", factory=True, workers=args.workers, **options)
    return 0


def replay_clock(start: str) -> Callable[[], datetime]:
    """A clock that starts at ``start`` (ISO 8601, UTC when naive) and runs at the wall clock's pace.

    Raises:
        ConfigurationError: ``start`` is not a timestamp.
    """
    from airflow_provider_parity.exceptions import ConfigurationError

    try:
        origin = datetime.fromisoformat(start)
    except ValueError:
        raise ConfigurationError(f"--replay-from {start!r}: expected an ISO 8601 timestamp") from None
    origin = origin if origin.tzinfo else origin.replace(tzinfo=UTC)
    started = time.monotonic()
    return lambda: origin + timedelta(seconds=time.monotonic() - started)


def _store_argument(parser: argparse.ArgumentParser) -> None:
    # From the environment too: a Redis URL carries its password, which must not show in a process list.
    parser.add_argument("--store", default=os.environ.get(STORE_ENV), required=not os.environ.get(STORE_ENV),
                        help=f"the online store: sqlite:///PATH or redis://HOST:PORT/DB (default: ${STORE_ENV})")


def register(subparsers: Any) -> None:
    """Add ``parity materialize`` and ``parity serve`` to the CLI."""
    mat = subparsers.add_parser("materialize", help="write a pinned Delta version's newest rows into the online store",
                                description="Newest row per entity of TABLE at --version into the online store. "
                                            "Idempotent. Exit 2: bad input.")
    mat.add_argument("table", help="the Delta feature table")
    mat.add_argument("--version", type=int_at_least(0),
                     help="the pinned, contract-clean version (default: the newest; the feature pipeline commits "
                          "only versions that passed the contract gate)")
    mat.add_argument("--missing-ok", action="store_true",
                     help="without --version: no table yet is not an error (nothing to materialise, exit 0)")
    mat.add_argument("--contract", required=True, help="the data contract (entity key, columns, event time)")
    _store_argument(mat)
    mat.set_defaults(func=_materialize)

    serve = subparsers.add_parser("serve", help="the reference online service: online features, boundary check, "
                                                "the champion model, the serving log",
                                  description="Serve POST /predict until SIGTERM; /healthz, /metrics, /docs.")
    serve.add_argument("--contract", required=True, help="the data contract of the served features")
    _store_argument(serve)
    serve.add_argument("--model", required=True, help="the registered model name (served: its @champion alias)")
    serve.add_argument("--log", required=True, help="the serving log's Delta table (created on first append)")
    serve.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
    serve.add_argument("--on-boundary-failure", choices=("reject", "degrade"), default="reject",
                       help="features failing the contract: answer 422 (default), or serve and flag it degraded")
    serve.add_argument("--poll-seconds", type=positive_seconds, default=30.0, help="how often to check the champion alias")
    serve.add_argument("--flush-seconds", type=positive_seconds, default=1.0, help="serving log: append at least this often")
    serve.add_argument("--flush-rows", type=int_at_least(1), default=1000, help="serving log: or after this many rows")
    serve.add_argument("--wait-for-champion", action="store_true",
                       help="start without a champion (predictions null, model_version null in the log) and load "
                            "it when the alias appears, instead of exit 2")
    serve.add_argument("--wait-for-features", action="store_true",
                       help="start before the feature view's first materialisation: requests get 503 and /readyz "
                            "says not ready until it lands, instead of exit 2 (deployments that start before "
                            "the first feature pipeline run)")
    serve.add_argument("--replay-from", metavar="TIMESTAMP",
                       help="replay a past day's traffic: served_at and the boundary's freshness reference start at "
                            "TIMESTAMP and run at the wall clock's pace (demos, backfills; default: the wall clock)")
    serve.add_argument("--fault", metavar="round:FEATURE:SHARE",
                       help="inject a known incident on purpose (demos, game days): serve FEATURE rounded to whole "
                            "units for a stable SHARE of entities")
    serve.add_argument("--workers", type=int_at_least(1), default=1,
                       help="uvicorn worker processes (each with its own model, store connection and log writer)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int_at_least(0), default=8000)
    serve.add_argument("--log-level", default="warning", choices=("debug", "info", "warning", "error"))
    serve.set_defaults(func=_serve)
