"""``parity labels``: judge annotations against the contract's label-quality thresholds.

Exit codes: 0 the labels can be trusted (or a warning only), 1 a threshold failed, 2 bad input.
The JSON and HTML reports are written together or not at all.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def _check_outputs(args: argparse.Namespace) -> None:
    """An output that would overwrite an input (or the other output) is bad input, before anything is read."""
    from airflow_provider_parity.exceptions import ConfigurationError

    inputs = {os.path.abspath(p): flag for p, flag in ((args.contract, "--contract"), (args.annotations, "--annotations"),
                                                       (args.reference, "--reference"), (args.features, "--features"))
              if p}
    outputs = [(p, flag) for p, flag in ((args.json, "--json"), (args.html, "--html")) if p]
    for path, flag in outputs:
        if os.path.abspath(path) in inputs:
            raise ConfigurationError(f"{flag} {path} would overwrite the {inputs[os.path.abspath(path)]} input")
    if len(outputs) == 2 and os.path.abspath(outputs[0][0]) == os.path.abspath(outputs[1][0]):
        raise ConfigurationError(f"--json and --html are the same file: {outputs[0][0]}")


def _equality(text: str) -> tuple[str, str]:
    """An argparse type: ``COLUMN=VALUE``."""
    column, sep, value = text.partition("=")
    if not sep or not column.strip():
        raise argparse.ArgumentTypeError(f"expected COLUMN=VALUE, got {text[:60]!r}")
    return column.strip(), value


def _run(args: argparse.Namespace) -> int:
    from airflow_provider_parity.artifacts import ArtifactStore
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.labels.gate import run_labels
    from airflow_provider_parity.labels.report import report_files

    _check_outputs(args)
    result = run_labels(load_contract(args.contract), args.annotations, version=args.version,
                        reference=args.reference, reference_version=args.reference_version,
                        features=args.features, features_version=args.features_version,
                        features_where=dict(args.features_where or []))
    files = report_files(result, json_uri=args.json, html_uri=args.html)
    if files:
        ArtifactStore().commit(files)
    outcome = result.outcome()
    print(f"{outcome.status}: {outcome.reason}", file=sys.stderr if outcome.blocking else sys.stdout)
    return outcome.exit_code


def register(subparsers: Any) -> None:
    """Add ``parity labels`` to the CLI."""
    cmd = subparsers.add_parser(
        "labels", help="check inter-annotator agreement and label drift (exit 1: labels not trusted, 2: bad input)",
        description="Judge annotations against the contract's labels section: Cohen's, Fleiss' and per-class kappa, "
                    "Krippendorff's alpha, per-annotator agreement, conflicts, label drift. "
                    "Exit 0: passed; 1: a threshold failed; 2: bad input.")
    cmd.add_argument("--contract", required=True, help="contract YAML with a labels section")
    cmd.add_argument("--annotations", required=True,
                     help="annotations (parquet file or folder, or Delta table): one row per item and annotator")
    cmd.add_argument("--version", type=int, help="Delta version of the annotations (default: latest)")
    cmd.add_argument("--reference", help="the last training set (its label column) for the label-drift check")
    cmd.add_argument("--reference-version", type=int, help="Delta version of the reference")
    cmd.add_argument("--features", help="the labelled items' features, for the identical-features check")
    cmd.add_argument("--features-version", type=int, help="Delta version of the features")
    cmd.add_argument("--features-where", metavar="COLUMN=VALUE", type=_equality, action="append",
                     help="keep the features' rows where COLUMN equals VALUE (repeatable), e.g. feature_date=2026-11-30")
    cmd.add_argument("--json", metavar="OUT", help="write the full result as JSON")
    cmd.add_argument("--html", metavar="OUT", help="write an HTML report (worst annotators and classes, audit sample)")
    cmd.set_defaults(func=_run)
