"""``parity step run``: a heavy step inside a pod (what KubernetesPodOperator starts)."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from airflow_provider_parity.exceptions import ConfigurationError, ParityError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("step", help="run a pipeline step (in a pod)")
    actions = parser.add_subparsers(dest="step_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="call package.module:function with JSON keyword arguments")
    run.add_argument("step", help="package.module:function")
    run.add_argument("--kwargs", default="{}", help="the keyword arguments, a JSON object")
    run.add_argument("--xcom-file", help="also write the result here (KubernetesPodOperator reads "
                                         "/airflow/xcom/return.json)")
    run.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from airflow_provider_parity.fileio import atomic_write_text, check_outputs
    from airflow_provider_parity.steps import run_step

    check_outputs(args.xcom_file)  # before the step runs: its work would be lost

    try:
        kwargs = json.loads(args.kwargs)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"--kwargs is not JSON: {exc.msg} (at character {exc.pos})") from None
    if not isinstance(kwargs, dict):
        raise ConfigurationError("--kwargs must be a JSON object")
    try:
        result = run_step(args.step, kwargs)
    except ParityError:
        raise
    except Exception as exc:
        # The step's own code failed: one line (PARITY_DEBUG=1 shows the traceback), and not
        # exit 3, which is kept for a bug in parity itself.
        if os.environ.get("PARITY_DEBUG"):
            raise
        raise ConfigurationError(f"step {args.step!r} failed: {exc.__class__.__name__}: {exc}") from None
    text = json.dumps(result, sort_keys=True)
    if args.xcom_file:
        atomic_write_text(args.xcom_file, text)
    print(text)
    return 0
