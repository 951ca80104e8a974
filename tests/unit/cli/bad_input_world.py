"""The files the bad-input suite feeds the ``parity`` CLI: good inputs to break one thing at a time, and bad ones.

Built once per module in a temporary folder (``world``); cases name them through ``{w}``.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_parity.cli import main
from airflow_provider_parity.examples import customer_features, write_parquet

REPO = Path(__file__).resolve().parents[3]
CONTRACT = REPO / "contracts" / "customer_features.yaml"

HEAD = textwrap.dedent("""\
    dataset: {name: x, owner: team, version: 1.0.0}
    columns:
      - {name: id, type: integer, nullable: false}
""")

# name -> contract text; each is refused by the loader (``contract lint`` exit 2).
BAD_CONTRACTS: dict[str, str] = {
    "empty": "",
    "comment_only": "# nothing\n",
    "malformed": "dataset: {name: x\n",
    "python_name_tag": HEAD + "description: !!python/name:os.system x\n",
    "python_object_tag": HEAD.replace("dataset:", "dataset: !!python/object:os.Foo") ,
    "python_apply_tag": "dataset: !!python/object/apply:os.system [echo hi]\n",
    "recursive_alias_list": HEAD + "primary_key: &k [*k]\n",
    "recursive_alias_map": "dataset: &d {name: x, owner: t, version: 1.0.0, more: *d}\ncolumns: []\n",
    "billion_laughs": "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                      "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
    "top_level_list": "- a\n- b\n",
    "top_level_scalar": "42\n",
    "non_string_key": HEAD + "1: x\n",
    "complex_key": HEAD + "? [a, b]\n: x\n",
    "duplicate_key": HEAD + "dataset: {name: y, owner: t, version: 1.0.0}\n",
    "unknown_key": HEAD + "nulable: true\n",
    "no_columns": "dataset: {name: x, owner: t, version: 1.0.0}\ncolumns: []\n",
    "missing_dataset": "columns:\n  - {name: id, type: integer}\n",
    "bad_version": HEAD.replace("1.0.0", "one"),
    "bad_type": HEAD.replace("integer", "int128"),
    "nan_min": HEAD + "  - {name: v, type: float, constraints: {min: .nan}}\n",
    "nan_max": HEAD + "  - {name: v, type: float, constraints: {max: .NaN}}\n",
    "inf_max": HEAD + "  - {name: v, type: float, constraints: {max: .inf}}\n",
    "neg_inf_min": HEAD + "  - {name: v, type: integer, constraints: {min: -.inf}}\n",
    "min_over_max": HEAD + "  - {name: v, type: integer, constraints: {min: 10, max: 1}}\n",
    "string_bound_on_number": HEAD + "  - {name: v, type: integer, constraints: {min: ten}}\n",
    "bound_on_string": HEAD + "  - {name: v, type: string, constraints: {min: 1}}\n",
    "huge_bound_value": HEAD + "  - {name: v, type: integer, constraints: {min: '" + "9" * 200_000 + "x'}}\n",
    "mixed_allowed_values": HEAD + "  - {name: v, type: string, constraints: {allowed_values: [a, 1, true]}}\n",
    "null_in_allowed_values": HEAD + "  - {name: v, type: string, constraints: {allowed_values: [a, null]}}\n",
    "nested_allowed_values": HEAD + "  - {name: v, type: string, constraints: {allowed_values: [[a], {b: 1}]}}\n",
    "allowed_values_wrong_type": HEAD + "  - {name: v, type: integer, constraints: {allowed_values: [a, b]}}\n",
    "empty_allowed_values": HEAD + "  - {name: v, type: string, constraints: {allowed_values: []}}\n",
    "huge_allowed_values": HEAD + "  - {name: v, type: integer, constraints: {allowed_values: ["
                           + ", ".join(f"v{i}" for i in range(50_000)) + "]}}\n",
    "lookahead_regex": HEAD + "  - {name: v, type: string, constraints: {regex: '^(?=a)a+$'}}\n",
    "lookbehind_regex": HEAD + "  - {name: v, type: string, constraints: {regex: '(?<!x)y'}}\n",
    "backreference_regex": HEAD + "  - {name: v, type: string, constraints: {regex: '(a)\\1'}}\n",
    "invalid_regex": HEAD + "  - {name: v, type: string, constraints: {regex: '('}}\n",
    "regex_on_integer": HEAD + "  - {name: v, type: integer, constraints: {regex: '^1$'}}\n",
    "duration_overflow": HEAD + "freshness: {max_age: 99999999999999999999d}\n",
    "duration_no_unit": HEAD + "freshness: {max_age: '12'}\n",
    "duration_words": HEAD + "freshness: {max_age: soon}\n",
    "duration_negative": HEAD + "freshness: {max_age: -1h}\n",
    "freshness_not_time": HEAD + "freshness: {max_age: 1h, column: id}\n",
    "completeness_over_one": HEAD + "completeness: {id: 1.5}\n",
    "completeness_nan": HEAD + "completeness: {id: .nan}\n",
    "undeclared_primary_key": HEAD + "primary_key: [nope]\n",
    "nullable_primary_key": HEAD.replace("nullable: false", "nullable: true") + "primary_key: [id]\n",
    "row_count_negative": HEAD + "row_count: {min: -5}\n",
    "drift_threshold_zero": HEAD + "drift: {numeric: {metric: psi, threshold: 0}}\n",
    "drift_min_rows_negative": HEAD + "drift: {min_rows: -5}\n",
    "tolerance_over_one": HEAD + "tolerances: {max_null_fraction: 2}\n",
    "duplicate_column": HEAD + "  - {name: id, type: string}\n",
    "deeply_nested": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "tab_indent": "dataset:\n\tname: x\n",
    "nul_byte": HEAD + "description: \"a\x00b\"\n",
}

BAD_PROFILES: dict[str, str] = {
    "profile_not_json": "{not json",
    "profile_list": "[1, 2]",
    "profile_wrong_format": json.dumps({"format": "other", "rows": 1, "features": {}}),
    "profile_features_list": None,  # filled from a good profile below
    "profile_nan_rows": None,
    "profile_infinite_rows": None,
    "profile_huge_exponent": None,
    "profile_negative_counts": None,
    "profile_feature_not_object": None,
    "profile_missing_rows": None,
}

# name -> (text of the exported ODCS document, its replacement): valid YAML, no importable contract.
ODCS_EDITS: dict[str, tuple[str, str]] = {
    "odcs_bad_freshness": ("  value: 12\n", "  value: soon\n"),
    "odcs_freshness_overflow": ("  value: 12\n", "  value: 99999999999999999999\n"),
    "odcs_no_schema": ("schema:\n", "schemas:\n"),
    "odcs_bad_row_count": ("mustBeGreaterOrEqualTo: 100", "mustBeGreaterOrEqualTo: many"),
    "odcs_bad_pattern": ("pattern: ^C[0-9]{6}$", "pattern: (?=C)C"),
    "odcs_python_tag": ("kind: DataContract", "kind: !!python/name:os.system DataContract"),
}

STEPS = textwrap.dedent("""
    from airflow_provider_parity.exceptions import ContractViolation

    def build(day, rows=3):
        return {"day": day, "rows": rows}

    def returns_list():
        return [1, 2]

    def returns_int():
        return 7

    def returns_object():
        return {"when": object()}

    def raises():
        raise RuntimeError("the step's own bug")

    def blocked():
        raise ContractViolation("rule not_null on plan: 12 nulls (expected 0)")

    NOT_CALLABLE = 3
""")


def _profile_variants(good: dict) -> dict[str, str]:  # type: ignore[type-arg]
    def edited(change) -> str:  # type: ignore[no-untyped-def]
        data = json.loads(json.dumps(good))
        change(data)
        return json.dumps(data)

    first = next(iter(good["features"]))
    return {
        "profile_features_list": edited(lambda d: d.update(features=[1, 2])),
        "profile_nan_rows": json.dumps(good).replace(f'"rows": {good["rows"]}', '"rows": NaN', 1),
        "profile_infinite_rows": json.dumps(good).replace(f'"rows": {good["rows"]}', '"rows": Infinity', 1),
        "profile_huge_exponent": json.dumps(good).replace(f'"rows": {good["rows"]}', '"rows": 1e999', 1),
        "profile_negative_counts": edited(lambda d: d["features"][first].update(rows=-5)),
        "profile_feature_not_object": edited(lambda d: d["features"].update({first: 5})),
        "profile_missing_rows": edited(lambda d: d.pop("rows")),
    }


def build_world(root: Path) -> None:
    """Write every input of the suite under ``root``."""
    from deltalake import DeltaTable, write_deltalake

    from airflow_provider_parity.drift.gate import run_drift

    table = customer_features(200)
    shutil.copy(CONTRACT, root / "contract.yaml")
    write_parquet(table, str(root / "good.parquet"))
    write_parquet(customer_features(200, seed=8), str(root / "good2.parquet"))
    (root / "not_parquet.parquet").write_bytes(b"PAR1 not really")
    (root / "truncated.parquet").write_bytes((root / "good.parquet").read_bytes()[:-100])
    (root / "empty_a").mkdir()
    (root / "empty_b").mkdir()
    (root / "corrupt_dir").mkdir()
    write_parquet(table, str(root / "corrupt_dir" / "part-0.parquet"))
    (root / "corrupt_dir" / "part-1.parquet").write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    (root / "mixed_dir").mkdir()
    write_parquet(table, str(root / "mixed_dir" / "part-0.parquet"))
    strings = table.set_column(table.column_names.index("tenure_days"), "tenure_days",
                               pa.array([f"t{i}" for i in range(200)]))
    write_parquet(strings, str(root / "mixed_dir" / "part-1.parquet"))
    pq.write_table(table.slice(0, 0), str(root / "zero_rows.parquet"))
    # A 1,000,000-character key breaking the contract's regex: the message must not echo it whole.
    huge = table.set_column(0, "customer_id", pa.array(["X" * 1_000_000, *table["customer_id"].to_pylist()[1:]]))
    write_parquet(huge, str(root / "huge_value.parquet"))
    (root / "adir").mkdir()
    (root / "afile.txt").write_text("a file\n")
    write_deltalake(str(root / "delta"), table)
    write_deltalake(str(root / "delta"), customer_features(200, seed=9), mode="append")
    write_deltalake(str(root / "vacuumed"), table)
    write_deltalake(str(root / "vacuumed"), customer_features(200, seed=9), mode="overwrite")
    DeltaTable(str(root / "vacuumed")).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    contracts = root / "contracts"
    contracts.mkdir()
    for name, text in BAD_CONTRACTS.items():
        (contracts / f"{name}.yaml").write_text(text, encoding="utf-8")
    (contracts / "not_utf8.yaml").write_bytes(b"dataset: \xff\xfe\n")
    _, profile = run_drift(str(root / "good.parquet"), str(root / "good2.parquet"))
    assert profile is not None
    good = profile.to_dict()
    (root / "good.profile.json").write_text(json.dumps(good))
    for name, text in {**{k: v for k, v in BAD_PROFILES.items() if v}, **_profile_variants(good)}.items():
        (root / f"{name}.json").write_text(text)
    odcs = root / "good.odcs.yaml"
    assert main(["contract", "odcs-export", str(root / "contract.yaml"), "--out", str(odcs)]) == 0
    text = odcs.read_text()
    for name, (old, new) in ODCS_EDITS.items():
        assert old in text, old
        (root / f"{name}.yaml").write_text(text.replace(old, new, 1))
    steps = root / "steps"
    steps.mkdir()
    (steps / "suite_steps.py").write_text(STEPS)
    (steps / "suite_syntax_error.py").write_text("def build(:\n    pass\n")
    (steps / "suite_import_fails.py").write_text("raise RuntimeError('configuration missing at import')\n")
    (steps / "suite_missing_dep.py").write_text("import parity_no_such_dependency\n")
    os.chmod(root / "afile.txt", 0o644)
