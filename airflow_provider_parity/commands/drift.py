"""``parity drift``: compare current data with a reference, feature by feature.

Exit codes: 0 no drift, 1 drift (or, with ``--strict``, too little data to
judge), 2 bad input. Works on parquet files or folders, Delta tables (pin a
version with ``--reference-version``) and stored profiles (``.json``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from airflow_provider_parity.commands.args import int_at_least, positive_duration


def _settings(args: argparse.Namespace, contract: Any) -> Any:
    from airflow_provider_parity.drift.compare import DriftSettings

    overrides: dict[str, Any] = {}
    if args.min_rows is not None:
        overrides["min_rows"] = args.min_rows
    if args.sample_size_aware:
        overrides["sample_size_aware"] = True
    if args.fdr:
        overrides["fdr"] = True
    if args.multivariate is not None:
        overrides["multivariate"] = args.multivariate
    if contract is not None:
        return DriftSettings.from_contract(contract, **overrides)
    return DriftSettings(**overrides)


def _run(args: argparse.Namespace) -> int:
    from airflow_provider_parity.drift.gate import run_drift
    from airflow_provider_parity.drift.report import render_html, result_json
    from airflow_provider_parity.fileio import Output, check_outputs, commit_outputs, json_text

    # Before the data is read: an output that cannot be written, or would overwrite an input.
    check_outputs(args.save_profile, args.json, args.html, inputs=(args.reference, args.current, args.contract))
    contract = None
    if args.contract:
        from airflow_provider_parity.contracts.loader import load_contract

        contract = load_contract(args.contract)
    result, ref_profile = run_drift(
        args.reference,
        args.current,
        contract=contract,
        settings=_settings(args, contract),
        reference_version=args.reference_version,
        current_version=args.current_version,
        reference_kind=args.reference_format,
        current_kind=args.current_format,
        segment_by=args.segment_by,
        time_column=args.time_column,
        time_window=args.time_window,
    )
    files: dict[str, Output] = {}
    if args.save_profile and ref_profile is not None:
        files[args.save_profile] = json_text(ref_profile.to_dict())
    if args.json:
        files[args.json] = json_text(result_json(result))
    if args.html:
        files[args.html] = render_html(result)
    commit_outputs(files)
    print(f"{result.verdict}: {result.message}")
    for feat in result.features:
        if feat.drifted:
            for reason in feat.reasons:
                print(f"  {reason}")
    if result.verdict == "failed":
        return 1
    if result.verdict == "insufficient_data":
        print(f"parity: warning: {result.message}", file=sys.stderr)
        return 1 if args.strict else 0
    return 0


def register(subparsers: Any) -> None:
    """Add ``parity drift`` to the CLI."""
    parser = subparsers.add_parser(
        "drift",
        help="compare current data with a reference (training) dataset, feature by feature",
        description="Compare current data with a reference. Exit 0: no drift; 1: drift; 2: bad input.",
    )
    parser.add_argument("--reference", required=True, help="parquet file or folder, Delta table, or profile .json")
    parser.add_argument("--current", required=True, help="parquet file or folder, or Delta table")
    parser.add_argument("--contract", help="the data contract (features, kinds, thresholds); inferred without it")
    parser.add_argument("--json", metavar="OUT", help="write the result as JSON")
    parser.add_argument("--html", metavar="OUT", help="write an HTML report with a plot per drifted feature")
    parser.add_argument("--reference-version", type=int_at_least(0), help="Delta version of the reference")
    parser.add_argument("--current-version", type=int_at_least(0), help="Delta version of the current data")
    formats = ["auto", "parquet", "delta", "profile"]
    parser.add_argument("--reference-format", choices=formats, default="auto",
                        help="what --reference is (auto: .json is a profile, a folder with _delta_log is Delta)")
    parser.add_argument("--current-format", choices=formats, default="auto", help="what --current is")
    parser.add_argument("--save-profile", metavar="OUT", help="store the reference profile (JSON) for later runs")
    parser.add_argument("--segment-by", help="also compare per value of this column")
    parser.add_argument("--time-column", help="timestamp column for --time-window")
    parser.add_argument("--time-window", type=positive_duration, help="also compare per window of the current data, e.g. 1d")
    parser.add_argument("--min-rows", type=int_at_least(1), help="fewer rows than this on a side: insufficient data")
    parser.add_argument("--sample-size-aware", action="store_true",
                        help="raise PSI thresholds to the chi-square critical value for the sample sizes")
    parser.add_argument("--fdr", action="store_true",
                        help="Benjamini-Hochberg across every check's noise test (many features, fewer chance flags)")
    parser.add_argument("--multivariate", type=float, metavar="AUC",
                        help="also train a domain classifier (needs scikit-learn); fail when its AUC exceeds this")
    parser.add_argument("--strict", action="store_true", help="exit 1 when there is too little data to judge")
    parser.set_defaults(func=_run)
