"""``parity dbt build``: the dbt gate (``transform/dbt_build.py``) from the command line.

Exit 0: every model built and every test passed; 1: the gate blocks (a test failed, one line
each on stderr, or a model could not build, e.g. an enforced contract mismatch); 2: bad input
(no dbt project, a profile dbt cannot use).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def failure_lines(error: Any) -> list[str]:
    """One line per failed dbt test of a ``DbtTestFailed``: test, model.column, observed vs expected."""
    result = error.result
    tests = [n for n in result.nodes if n.resource_type == "test"]
    lines = []
    for node, check in zip(tests, getattr(error, "checks", ()) or (), strict=False):
        if not check.success:
            where = f"{node.model}.{node.column}" if node.column else str(node.model)
            lines.append(f"FAIL {node.test or node.name} on {where}: {check.observed} (expected {check.expected})")
    return lines


def _build(args: argparse.Namespace) -> int:
    from airflow_provider_parity.exceptions import ConfigurationError, DbtBuildFailed, DbtTestFailed
    from airflow_provider_parity.transform.dbt_build import run_dbt_build

    try:
        variables = json.loads(args.vars) if args.vars else None
    except ValueError as exc:
        raise ConfigurationError(f"--vars is not JSON: {exc}") from None
    if variables is not None and not isinstance(variables, dict):
        raise ConfigurationError("--vars must be a JSON object, e.g. '{\"day\": \"2026-01-02\"}'")
    try:
        result = run_dbt_build(args.project_dir, profiles_dir=args.profiles_dir, target=args.target,
                               vars=variables, select=args.select)
    except DbtTestFailed as exc:
        for line in failure_lines(exc):
            print(line, file=sys.stderr)
        print(exc.result.summary(), file=sys.stderr)
        return 1
    except DbtBuildFailed as exc:
        print(f"ERROR {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def register(subparsers: Any) -> None:
    dbt = subparsers.add_parser("dbt", help="run a dbt project as a gate")
    sub = dbt.add_subparsers(dest="dbt_command", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="dbt build; one line per failed test (exit 1: blocked, 2: bad input)")
    build.add_argument("--project-dir", required=True, help="the dbt project's folder")
    build.add_argument("--select", nargs="+", metavar="SELECTOR", help="dbt selectors (default: everything)")
    build.add_argument("--target", help="the profile's target (default: the profile's own)")
    build.add_argument("--profiles-dir", help="the folder of profiles.yml (default: the project's, else dbt's)")
    build.add_argument("--vars", help="dbt vars as a JSON object")
    build.set_defaults(func=_build)
