"""``parity step run``: a heavy step inside a pod (what KubernetesPodOperator starts)."""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import ConfigurationError, ParityError

if TYPE_CHECKING:
    from airflow_provider_parity.outcomes.model import GateOutcome, RunIdentity


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("step", help="run a pipeline step (in a pod)")
    actions = parser.add_subparsers(dest="step_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="call package.module:function with JSON keyword arguments")
    run.add_argument("step", help="package.module:function")
    run.add_argument("--kwargs", default="{}", help="the keyword arguments, a JSON object")
    run.add_argument("--xcom-file", help="also write the result here (KubernetesPodOperator reads "
                                         "/airflow/xcom/return.json)")
    run.add_argument("--gate", help="the step is a gate of this kind (e.g. dbt): its outcome goes to --ledger "
                                    "and into the result as parity_outcome")
    run.add_argument("--dataset", help="the dataset the gate judges (with --gate)")
    run.add_argument("--ledger", help="the results ledger (a Delta table URI) the outcome is appended to")
    run.add_argument("--run", help="the task try the outcome belongs to, a JSON object: dag_id, run_id, task_id, "
                                   "map_index, try_number")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from airflow_provider_parity.fileio import atomic_write_text, check_outputs

    check_outputs(args.xcom_file)  # before the step runs: its work would be lost

    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"--kwargs is not JSON: {exc.msg} (at character {exc.pos})") from None
    if not isinstance(kwargs, dict):
        raise ConfigurationError("--kwargs must be a JSON object")
    identity = _identity(args.run)
    if args.gate:
        result = _run_gate(args, kwargs, identity)
    else:
        result = _call(args.step, kwargs)
    text = json.dumps(result, sort_keys=True)
    if args.xcom_file:
        atomic_write_text(args.xcom_file, text)
    print(text)
    return 0


def _call(step: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    from airflow_provider_parity.steps import run_step

    try:
        return run_step(step, kwargs)
    except ParityError:
        raise
    except Exception as exc:
        # The step's own code failed: one line (PARITY_DEBUG=1 shows the traceback), and not
        # exit 3, which is kept for a bug in parity itself.
        if os.environ.get("PARITY_DEBUG"):
            raise
        raise ConfigurationError(f"step {step!r} failed: {exc.__class__.__name__}: {exc}") from None


def _identity(text: str | None) -> RunIdentity | None:
    from airflow_provider_parity.outcomes.model import RunIdentity

    if text is None:
        return None
    try:
        data = json.loads(text)
        return RunIdentity.from_dict(data)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise ConfigurationError("--run must be a JSON object with dag_id, run_id and task_id") from None


def _run_gate(args: argparse.Namespace, kwargs: dict[str, Any], identity: RunIdentity | None) -> dict[str, Any]:
    """Run the step as a gate: append its outcome to the ledger, then exit as the gate decided
    (1 blocked, 2 bad input), so a pod's gate leaves the same record as one in the worker."""
    from airflow_provider_parity.exceptions import GateFailure
    from airflow_provider_parity.outcomes.convert import decide
    from airflow_provider_parity.outcomes.ledger import append_outcome
    from airflow_provider_parity.outcomes.model import utc_now
    from airflow_provider_parity.steps import step_outcome

    started = utc_now()
    result: dict[str, Any] = {}

    def evaluate() -> GateOutcome:
        result.update(_call(args.step, kwargs))
        return step_outcome(args.step, result, gate=args.gate, dataset=args.dataset)

    outcome, error = decide(evaluate, gate=args.gate, dataset=args.dataset)
    outcome = outcome.with_(run=identity or outcome.run, name=outcome.name or (identity.task_id if identity else None),
                            started_at=outcome.started_at or started,
                            finished_at=outcome.finished_at or utc_now())
    if args.ledger:
        append_outcome(args.ledger, outcome)
    if error is not None:
        raise error
    if outcome.blocking:
        raise GateFailure(outcome.reason)
    return {**result, "parity_outcome": outcome.to_dict()}
