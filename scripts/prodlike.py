"""Start the production-like stack by hand: PostgreSQL, mlflow server and Airflow's four services.

    uv run python scripts/prodlike.py                  # start, print the URLs, wait for Ctrl-C
    uv run python scripts/prodlike.py --clean-day --exit
        # what the test does: feature_pipeline for yesterday, the day's serving traffic,
        # daily_retraining; then stop
    uv run python scripts/prodlike.py --trigger serving_skew_monitor --keep
        # trigger DAGs in order (after --clean-day if given); keep the folder afterwards

Everything listens on 127.0.0.1 only and is stopped on exit (Ctrl-C, SIGTERM or the end of
``--exit``). The folder with the logs, the lake and the Airflow home is removed unless ``--keep``.
``tests/deploy/prodlike/test_production_like.py`` runs the same stack, with assertions.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "deploy" / "prodlike"))

import prodlike_stack as ps  # noqa: E402  (lives with the tests that use it)


def main(argv: list[str] | None = None) -> int:
    """Start the stack, run the requested DAGs in order, then wait or exit.

    Returns:
        0 when every triggered run succeeded (or none was asked for), 1 otherwise, 2 when the stack failed.
    """
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--dags", type=Path, default=REPO / "dags", help="DAG bundle folder (default: dags/)")
    parser.add_argument("--day", type=date.fromisoformat, default=yesterday,
                        help="the day the runs process (default: yesterday, UTC); runs are dated the midnight after")
    parser.add_argument("--clean-day", action="store_true",
                        help="run feature_pipeline for the day, log its serving traffic, run daily_retraining")
    parser.add_argument("--trigger", action="append", default=[], metavar="DAG_ID",
                        help="trigger this DAG and wait for it (repeatable; in the order given)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each run")
    parser.add_argument("--scheduled-runs", action="store_true",
                        help="let the scheduler create runs from timetables and asset events (off: only triggered runs)")
    parser.add_argument("--exit", action="store_true", help="stop after the triggered runs instead of waiting")
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder (logs, lake) afterwards")
    args = parser.parse_args(argv)
    # The bundle's own package (churn), for the online-service stand-in --clean-day runs here.
    sys.path.insert(0, str(args.dags.resolve()))

    root = Path(tempfile.mkdtemp(prefix="parity-prodlike-"))
    code = 0
    try:
        with ps.running_stack(root, dags_folder=args.dags.resolve(), scheduled_runs=args.scheduled_runs) as running:
            airflow = running.airflow
            print(f"Airflow  {airflow.url}  (user {airflow.username}, password in {airflow.home / 'passwords.json'})")
            print(f"MLflow   {running.mlflow_url}")
            print(f"logs     {root / 'logs'}  and  {airflow.log_folder}")
            plan: list[tuple[str, dict[str, str]]] = []
            if args.clean_day:
                plan = [("feature_pipeline", {"day": args.day.isoformat()}), ("serve", {}), ("daily_retraining", {})]
            plan += [(dag_id, {}) for dag_id in args.trigger]
            for step, conf in plan:
                if not _step(running, step, conf, args.day, args.timeout):
                    code = 1
                    break
            if not args.exit:
                print("running; Ctrl-C stops everything")
                while True:
                    running.stack.check_alive()
                    time.sleep(2)
    except KeyboardInterrupt:
        print("stopped")
    except ps.StackError as error:
        print(f"prodlike: error: {error}", file=sys.stderr)
        code = 2
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return code


def _step(running: ps.RunningStack, step: str, conf: dict[str, str], day: date, timeout: float) -> bool:
    """Serve the day's traffic (``serve``) or trigger a DAG and wait; print the outcome."""
    if step == "serve":
        print(f"serving traffic for {day}: {ps.serve_traffic(running.airflow, day.isoformat())}")
        return True
    api, alive = running.api, running.stack.check_alive
    ps.wait_dag_parsed(api, step, alive=alive)
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    run_id = ps.trigger_run(api, step, logical_date=midnight.isoformat(), conf=conf)
    state: str = ps.wait_run(api, step, run_id, timeout=timeout, alive=alive)
    print(f"{step} {run_id}: {state} {ps.task_states(api, step, run_id)}")
    if state != "success":
        print(ps.task_log_tails(running.airflow, step, run_id))
    return state == "success"


if __name__ == "__main__":
    sys.exit(main())
