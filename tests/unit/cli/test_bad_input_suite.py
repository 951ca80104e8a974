"""Every bad input to ``parity``: one ``parity: error:`` line, exit 2 (1 for a gate verdict), nothing left behind.

Each case runs the CLI in-process (``airflow_provider_parity.cli.main``) on files built once
(``bad_input_world.build_world``) and asserts:

- the exit code is the expected one, 1 or 2: never 0, never 3 (an internal error, a bug);
- stderr ends with exactly one line starting ``parity: error:``, holds no traceback, and no
  line longer than ``MAX_LINE`` characters;
- the message names what is wrong (``needle``), usually the path the user gave;
- no file appeared or vanished in the input folder, the output folder or the working folder.

A handful of cases also run through a real ``python -m airflow_provider_parity.cli`` process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bad_input_world import BAD_CONTRACTS, BAD_PROFILES, ODCS_EDITS, build_world  # beside this file (rootdir import)

from airflow_provider_parity.cli import main

MAX_LINE = 2000
REPO = Path(__file__).resolve().parents[3]
# Running as root, chmod does not stop a write: /sys refuses new files even to root.
READ_ONLY = "/sys" if os.geteuid() == 0 else "{w}/read_only"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int = 2
    needle: str | None = None
    """A substring of stderr and stdout together: what is wrong, or the path at fault."""


def case(id: str, *argv: str, code: int = 2, needle: str | None = None) -> Case:
    return Case(id, argv, code, needle)


C = "{w}/contract.yaml"
D = "{w}/good.parquet"
BAD_OUTPUTS = {"is_dir": "{w}/adir", "under_file": "{w}/afile.txt/r.out", "read_only": READ_ONLY + "/r.out"}


def _contract_cases() -> Iterator[Case]:
    for name in BAD_CONTRACTS:
        yield case(f"lint-{name}", "contract", "lint", f"{{w}}/contracts/{name}.yaml", needle=f"{name}.yaml")
    yield case("lint-not-utf8", "contract", "lint", "{w}/contracts/not_utf8.yaml", needle="not_utf8.yaml")
    yield case("lint-missing-file", "contract", "lint", "{w}/nope.yaml", needle="nope.yaml: contract file does not exist")
    yield case("lint-a-directory", "contract", "lint", "{w}/adir", needle="adir")
    # The first file missing does not stop the second from being checked.
    yield case("lint-every-file", "contract", "lint", "{w}/nope.yaml", "{w}/contracts/nan_min.yaml",
               needle="nan_min.yaml:4: columns[1].constraints.min: a bound must be a finite number")
    yield case("lint-no-file", "contract", "lint", needle="the following arguments are required")
    for name in ("python_name_tag", "recursive_alias_list", "nan_min", "lookahead_regex", "duration_overflow"):
        path = f"{{w}}/contracts/{name}.yaml"
        yield case(f"validate-contract-{name}", "validate", "--contract", path, "--data", D, needle=f"{name}.yaml")
        yield case(f"drift-contract-{name}", "drift", "--reference", D, "--current", D, "--contract", path,
                   needle=f"{name}.yaml")
        yield case(f"gx-{name}", "contract", "gx", path, needle=f"{name}.yaml")
    for name in ("mixed_allowed_values", "billion_laughs", "huge_allowed_values"):
        path = f"{{w}}/contracts/{name}.yaml"
        yield case(f"dbt-{name}", "contract", "dbt", C, path, "--project-dir", "{out}/dbt", needle=f"{name}.yaml")
        yield case(f"odcs-export-{name}", "contract", "odcs-export", path, "--out", "{out}/o.yaml", needle=f"{name}.yaml")
        yield case(f"feast-{name}", "contract", "feast", path, "--repo", "{out}/feast", needle=f"{name}.yaml")
        yield case(f"diff-{name}", "contract", "diff", C, path, needle=f"{name}.yaml")
    yield case("odcs-import-missing", "contract", "odcs-import", "{w}/nope.yaml", needle="nope.yaml")
    yield case("odcs-import-tag", "contract", "odcs-import", "{w}/contracts/python_name_tag.yaml",
               needle="python_name_tag.yaml")
    yield case("odcs-import-not-odcs", "contract", "odcs-import", C, needle="contract.yaml")
    for name in ODCS_EDITS:
        yield case(f"odcs-import-{name}", "contract", "odcs-import", f"{{w}}/{name}.yaml", "--out", "{out}/c.yaml",
                   needle=f"{name}.yaml")
    yield case("gx-bad-environment", "contract", "gx", C, "--environment", "staging", needle="invalid choice")
    yield case("dbt-bad-adapter", "contract", "dbt", C, "--project-dir", "{out}", "--adapter", "oracle",
               needle="invalid choice")
    yield case("dbt-no-project-dir", "contract", "dbt", C, needle="--project-dir")
    yield case("dbt-not-a-project", "contract", "dbt", C, "--project-dir", "{w}", needle="dbt_project.yml")
    yield case("import-dbt-no-manifest", "contract", "import", "dbt", "orders", "--manifest", "{w}/none.json",
               needle="none.json")
    yield case("import-dbt-not-json", "contract", "import", "dbt", "orders", "--manifest", C, needle="contract.yaml")
    yield case("import-dbt-no-kind", "contract", "import", needle="KIND")
    yield case("dbt-build-not-a-project", "dbt", "build", "--project-dir", "{w}", needle="dbt_project.yml")
    yield case("dbt-build-bad-vars", "dbt", "build", "--project-dir", "{w}", "--vars", "{", needle="--vars")
    yield case("validate-bad-reference", "validate", "--contract", C, "--data", D, "--reference", "customers",
               needle="NAME=PATH")
    yield case("diff-one-file", "contract", "diff", C, needle="the following arguments are required")
    yield case("feast-no-repo", "contract", "feast", C, needle="--repo")
    yield case("feast-bad-online-store", "contract", "feast", C, "--repo", "{out}/f", "--online-store", "dynamo",
               needle="invalid choice")
    yield case("feast-bad-redis-env", "contract", "feast", C, "--repo", "{out}/f", "--online-store", "redis",
               "--redis-env", "A-B", needle="not an environment variable name")
    yield case("contract-no-action", "contract", needle="ACTION")


def _output_cases() -> Iterator[Case]:
    for kind, bad in BAD_OUTPUTS.items():
        commands = {
            "validate-json": ("validate", "--contract", C, "--data", D, "--json", bad),
            "validate-html": ("validate", "--contract", C, "--data", D, "--html", bad),
            "validate-second-output": ("validate", "--contract", C, "--data", D, "--json", "{out}/r.json", "--html", bad),
            "drift-json": ("drift", "--reference", D, "--current", "{w}/good2.parquet", "--json", bad),
            "drift-html": ("drift", "--reference", D, "--current", "{w}/good2.parquet", "--html", bad),
            "drift-save-profile": ("drift", "--reference", D, "--current", "{w}/good2.parquet", "--save-profile", bad),
            "drift-third-output": ("drift", "--reference", D, "--current", "{w}/good2.parquet", "--json",
                                   "{out}/r.json", "--save-profile", "{out}/p.json", "--html", bad),
            "gx-out": ("contract", "gx", C, "--out", bad),
            "odcs-export-out": ("contract", "odcs-export", C, "--out", bad),
            "odcs-import-out": ("contract", "odcs-import", "{w}/contract.yaml", "--out", bad),
            # A project folder is a folder: the bad one holds a folder where the schema file goes.
            "dbt-project-dir": ("contract", "dbt", C, "--project-dir",
                                {"is_dir": "{w}/dbt_clash", "under_file": "{w}/afile.txt"}.get(kind, bad)),
            # The repository's config path is a folder (is_dir), or the repository is a file.
            "feast-repo": ("contract", "feast", C, "--repo",
                           {"is_dir": "{w}/feast_clash", "under_file": "{w}/afile.txt"}.get(kind, bad)),
            "step-xcom-file": ("step", "run", "suite_steps:build", "--kwargs", '{"day": "d"}', "--xcom-file", bad),
            "reproduce-json": ("reproduce", "m", "1", "--tracking-uri", "sqlite:///{w}/mlflow.db", "--json", bad),
        }
        for name, argv in commands.items():
            if name == "odcs-import-out":
                continue  # a parity contract is no ODCS document: covered by odcs-import-not-odcs
            needle = argv[-1].split("/r.out")[0]
            if name == "reproduce-json" and kind == "read_only" and os.geteuid() == 0:
                needle = None  # root passes the early check of /sys; the audit fails first, writing nothing
            yield case(f"{name}-{kind}", *argv, needle=needle)


def _clash_cases() -> Iterator[Case]:
    drift = ("drift", "--reference", D, "--current", "{w}/good2.parquet")
    yield case("validate-json-is-the-data", "validate", "--contract", C, "--data", D, "--json", D,
               needle="would overwrite the input")
    yield case("validate-html-is-the-contract", "validate", "--contract", C, "--data", D, "--html", C,
               needle="would overwrite the input")
    yield case("validate-json-into-delta-table", "validate", "--contract", C, "--data", "{w}/delta", "--json",
               "{w}/delta/r.json", needle="would overwrite the input")
    yield case("validate-json-and-html-one-file", "validate", "--contract", C, "--data", D, "--json",
               "{out}/r.out", "--html", "{out}/./r.out", needle="the same file as the output")
    yield case("drift-profile-over-reference", *drift, "--save-profile", D, needle="would overwrite the input")
    yield case("drift-json-and-html-one-file", *drift, "--json", "{out}/r.out", "--html", "{out}/r.out",
               needle="the same file as the output")


def _data_cases() -> Iterator[Case]:
    validate = ("validate", "--contract", C, "--data")
    yield case("validate-no-such-path", *validate, "{w}/nope.parquet", needle="nope.parquet: path does not exist")
    yield case("validate-not-parquet", *validate, "{w}/not_parquet.parquet", needle="cannot read as parquet")
    yield case("validate-truncated", *validate, "{w}/truncated.parquet", needle="cannot read as parquet")
    yield case("validate-empty-folder", *validate, "{w}/empty_a", needle="empty_a")
    yield case("validate-zero-rows", *validate, "{w}/zero_rows.parquet", needle="empty")
    yield case("validate-corrupt-part", *validate, "{w}/corrupt_dir", needle="corrupt_dir")
    yield case("validate-mixed-parts", *validate, "{w}/mixed_dir", needle="mixed_dir")
    yield case("validate-version-on-parquet", *validate, D, "--version", "1", needle="not a Delta table")
    yield case("validate-missing-version", *validate, "{w}/delta", "--version", "99", needle="version 99 does not exist")
    yield case("validate-negative-version", *validate, "{w}/delta", "--version", "-1", needle="at least 0")
    yield case("validate-version-text", *validate, "{w}/delta", "--version", "one", needle="expected an integer")
    yield case("validate-vacuumed", *validate, "{w}/vacuumed", "--version", "0", needle="was vacuumed")
    yield case("validate-bad-engine", *validate, D, "--engine", "pandas", needle="invalid choice")
    yield case("validate-bad-environment", *validate, D, "--environment", "prod", needle="invalid choice")
    yield case("validate-no-data", "validate", "--contract", C, needle="--data")
    yield case("validate-a-file-as-folder", *validate, "{w}/afile.txt/x", needle="afile.txt/x")
    for engine in ("duckdb", "gx", "arrow"):
        yield case(f"validate-zero-rows-{engine}", *validate, "{w}/zero_rows.parquet", "--engine", engine,
                   needle="empty")
        # A gate verdict, not bad input: exit 1, and the offending value is cut short.
        yield case(f"validate-huge-value-{engine}", *validate, "{w}/huge_value.parquet", "--engine", engine,
                   "--json", "{out}/r.json", code=1, needle="regex(customer_id)")


def _drift_cases() -> Iterator[Case]:
    ref, cur = ("drift", "--reference", D, "--current", "{w}/good2.parquet"), "{w}/good2.parquet"
    yield case("drift-no-reference", "drift", "--reference", "{w}/nope.parquet", "--current", cur, needle="nope.parquet")
    yield case("drift-no-current", "drift", "--reference", D, "--current", "{w}/nope.parquet", needle="nope.parquet")
    yield case("drift-two-empty-folders", "drift", "--reference", "{w}/empty_a", "--current", "{w}/empty_b",
               needle="no parquet files")
    yield case("drift-empty-current", "drift", "--reference", D, "--current", "{w}/empty_b", needle="empty_b")
    yield case("drift-not-parquet", "drift", "--reference", "{w}/not_parquet.parquet", "--current", cur,
               needle="cannot read as parquet")
    yield case("drift-truncated", "drift", "--reference", D, "--current", "{w}/truncated.parquet",
               needle="truncated.parquet")
    yield case("drift-corrupt-part", "drift", "--reference", D, "--current", "{w}/corrupt_dir", needle="corrupt_dir")
    yield case("drift-mixed-parts", "drift", "--reference", "{w}/mixed_dir", "--current", cur, needle="mixed_dir")
    yield case("drift-time-column-not-timestamp", *ref, "--time-column", "plan", "--time-window", "1d",
               needle="column 'plan' is string")
    yield case("drift-time-column-missing", *ref, "--time-column", "nope", "--time-window", "1d", needle="'nope'")
    yield case("drift-time-window-no-column", *ref, "--time-window", "1d", needle="time column")
    yield case("drift-time-window-zero", *ref, "--time-column", "updated_at", "--time-window", "0s",
               needle="longer than zero")
    yield case("drift-time-window-overflow", *ref, "--time-column", "updated_at", "--time-window",
               "99999999999999999999d", needle="out of range")
    yield case("drift-time-window-words", *ref, "--time-window", "daily", needle="invalid duration")
    yield case("drift-time-window-huge-text", *ref, "--time-window", "9" * 100_000 + "x", needle="invalid duration")
    yield case("drift-min-rows-negative", *ref, "--min-rows", "-5", needle="at least 1")
    yield case("drift-min-rows-zero", *ref, "--min-rows", "0", needle="at least 1")
    yield case("drift-min-rows-text", *ref, "--min-rows", "many", needle="expected an integer")
    yield case("drift-version-on-parquet", *ref, "--reference-version", "1", needle="Delta tables only")
    yield case("drift-negative-version", "drift", "--reference", "{w}/delta", "--current", cur, "--reference-version",
               "-2", needle="at least 0")
    yield case("drift-missing-delta-version", "drift", "--reference", "{w}/delta", "--current", cur,
               "--reference-version", "42", needle="version 42")
    yield case("drift-vacuumed", "drift", "--reference", "{w}/vacuumed", "--current", cur, "--reference-version", "0",
               needle="was vacuumed")
    yield case("drift-segment-unknown", *ref, "--segment-by", "nope", needle="'nope'")
    yield case("drift-bad-format", *ref, "--reference-format", "csv", needle="invalid choice")
    yield case("drift-profile-as-current", "drift", "--reference", D, "--current", "{w}/good.profile.json",
               "--time-column", "updated_at", "--time-window", "1d", needle=None)
    yield case("drift-profile-missing", "drift", "--reference", "{w}/nope.json", "--current", cur, needle="nope.json")
    yield case("drift-delta-format-on-parquet", *ref, "--reference-format", "delta", needle="good.parquet")
    for name in [*BAD_PROFILES]:
        yield case(f"drift-{name}", "drift", "--reference", f"{{w}}/{name}.json", "--current", cur,
                   needle=f"{name}.json")
    yield case("drift-unknown-option", *ref, "--treshold", "0.1", needle="unrecognized arguments")


def _delta_cases() -> Iterator[Case]:
    yield case("snapshot-no-table", "snapshot", "{w}/nope", needle="nope")
    yield case("snapshot-parquet-file", "snapshot", D, needle="good.parquet")
    yield case("snapshot-empty-folder", "snapshot", "{w}/empty_a", needle="empty_a")
    yield case("snapshot-version-missing", "snapshot", "{w}/delta", "--version", "7", needle="version 7 does not exist")
    yield case("snapshot-version-negative", "snapshot", "{w}/delta", "--version", "-1", needle="at least 0")
    yield case("snapshot-version-text", "snapshot", "{w}/delta", "--version", "latest", needle="expected an integer")
    yield case("snapshot-vacuumed", "snapshot", "{w}/vacuumed", "--version", "0", needle="was vacuumed")
    yield case("snapshot-as-of-naive", "snapshot", "{w}/delta", "--as-of", "2024-01-01T00:00:00", needle="no time zone")
    yield case("snapshot-as-of-garbage", "snapshot", "{w}/delta", "--as-of", "yesterday", needle="not ISO 8601")
    yield case("snapshot-as-of-overflow", "snapshot", "{w}/delta", "--as-of", "9999-12-31T23:59:59-23:59",
               needle="out of range")
    yield case("snapshot-as-of-before", "snapshot", "{w}/delta", "--as-of", "1970-01-01T00:00:00Z", needle="1970")
    yield case("snapshot-as-of-and-version", "snapshot", "{w}/delta", "--as-of", "2024-01-01T00:00:00Z", "--version",
               "0", needle="not allowed with")
    yield case("history-no-table", "history", "{w}/nope", needle="nope")
    yield case("history-limit-negative", "history", "{w}/delta", "--limit", "-1", needle="at least 1")
    yield case("history-limit-zero", "history", "{w}/delta", "--limit", "0", needle="at least 1")
    yield case("history-limit-text", "history", "{w}/delta", "--limit", "ten", needle="expected an integer")


def _reproduce_cases() -> Iterator[Case]:
    store = ("--tracking-uri", "sqlite:///{w}/mlflow.db")
    yield case("reproduce-version-text", "reproduce", "m", "abc", *store, needle="expected an integer")
    yield case("reproduce-version-zero", "reproduce", "m", "0", *store, needle="at least 1")
    yield case("reproduce-version-negative", "reproduce", "m", "-3", *store, needle="at least 1")
    yield case("reproduce-no-tracking-uri", "reproduce", "m", "1", needle="no MLflow tracking server")
    yield case("reproduce-unsupported-uri", "reproduce", "m", "1", "--tracking-uri", "foo://bar", needle="foo://bar")
    yield case("reproduce-unknown-model", "reproduce", "nope", "1", *store, needle="'nope' v1 does not exist")


def _step_cases() -> Iterator[Case]:
    run = ("step", "run")
    yield case("step-bad-name", *run, "no_colon", needle="must be 'package.module:function'")
    yield case("step-bad-function-name", *run, "suite_steps:1x", needle="must be 'package.module:function'")
    yield case("step-no-module", *run, "parity_no_such_module:build", needle="not found")
    yield case("step-no-function", *run, "suite_steps:nope", needle="has no function 'nope'")
    yield case("step-not-callable", *run, "suite_steps:NOT_CALLABLE", needle="has no function")
    yield case("step-wrong-kwargs", *run, "suite_steps:build", "--kwargs", '{"dya": 1}', needle="does not take")
    yield case("step-missing-kwargs", *run, "suite_steps:build", needle="does not take")
    yield case("step-kwargs-not-json", *run, "suite_steps:build", "--kwargs", "{day: 1}", needle="not JSON")
    yield case("step-kwargs-list", *run, "suite_steps:build", "--kwargs", "[1]", needle="JSON object")
    yield case("step-kwargs-huge", *run, "suite_steps:build", "--kwargs", '{"' + "x" * 100_000 + '": 1}',
               needle="does not take")
    yield case("step-syntax-error", *run, "suite_syntax_error:build", needle="syntax error")
    yield case("step-import-fails", *run, "suite_import_fails:build", needle="configuration missing at import")
    yield case("step-missing-dependency", *run, "suite_missing_dep:build", needle="parity_no_such_dependency")
    yield case("step-returns-list", *run, "suite_steps:returns_list", needle="returned list")
    yield case("step-returns-int", *run, "suite_steps:returns_int", needle="returned int")
    yield case("step-returns-object", *run, "suite_steps:returns_object", needle="not JSON")
    yield case("step-raises", *run, "suite_steps:raises", needle="the step's own bug")
    yield case("step-gate-fails", *run, "suite_steps:blocked", code=1, needle="12 nulls")
    yield case("step-no-action", "step", needle="ACTION")


def _later_command_cases() -> Iterator[Case]:
    """The commands added after the suite was first written: the ledger, explain, skew, labels, SLOs."""
    store = ("--tracking-uri", "sqlite:///{w}/mlflow.db")
    yield case("outcomes-since-text", "outcomes", "--ledger", "{w}/ledger", "--since", "yesterday", needle="--since")
    yield case("outcomes-ledger-a-file", "outcomes", "--ledger", D, needle="good.parquet")
    yield case("explain-version-text", "explain", "m", "abc", "2", *store, needle="abc")
    yield case("explain-unknown-model", "explain", "nope", "1", "2", *store, needle="'nope'")
    yield case("explain-three-versions", "explain", "m", "1", "2", "3", *store, needle="VERSION")
    # Without a tracking server MLflow falls back to a new store in the working folder: refused, no mlflow.db left.
    yield case("explain-no-tracking-uri", "explain", "m", "1", "2", needle="no MLflow tracking server")
    yield case("rollback-no-tracking-uri", "rollback", "m", "--reason", "bad canary", needle="no MLflow tracking server")
    yield case("explain-store-not-there", "explain", "m", "1", "2", "--tracking-uri", "sqlite:///{w}/nope/mlflow.db",
               needle="nope/mlflow.db: the SQLite file does not exist")
    yield case("skew-missing-log", "skew", "--log", "{w}/nope", "--offline", "{w}/delta", "--contract", C,
               needle="nope")
    yield case("skew-log-not-a-table", "skew", "--log", "{w}/contracts/nan_min.yaml", "--offline", "{w}/delta",
               "--contract", C, needle="nan_min.yaml")
    yield case("skew-version-on-parquet", "skew", "--log", D, "--offline", D, "--version", "3", "--contract", C,
               needle="good.parquet")
    yield case("labels-contract-without-labels", "labels", "--contract", C, "--annotations", D, needle="labels")
    yield case("labels-missing-annotations", "labels", "--contract", str(REPO / "contracts" / "churn_labels.yaml"),
               "--annotations", "{w}/nope.parquet", needle="nope")
    yield case("slo-rules-missing-contract", "slo", "rules", "{w}/nope.yaml", needle="nope.yaml")
    yield case("slo-report-bad-window", "slo", "report", "--contract", C, "--ledger", "{w}/ledger", "--window", "0s",
               needle="window")
    yield case("slo-no-action", "slo", needle="SUBCOMMAND")


def _usage_cases() -> Iterator[Case]:
    yield case("no-command", needle="COMMAND")
    yield case("unknown-command", "frobnicate", needle="invalid choice")
    yield case("unknown-option", "validate", "--contract", C, "--data", D, "--fast", needle="unrecognized")


CASES = [*_contract_cases(), *_output_cases(), *_clash_cases(), *_data_cases(), *_drift_cases(), *_delta_cases(),
         *_reproduce_cases(), *_step_cases(), *_later_command_cases(), *_usage_cases()]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("world")
    build_world(root)
    (root / "read_only").mkdir()
    (root / "dbt_clash" / "models" / "contracts.yml").mkdir(parents=True)
    (root / "feast_clash" / "feature_store.yaml").mkdir(parents=True)
    from airflow_provider_parity.tracking.client import make_client

    make_client(f"sqlite:///{root}/mlflow.db").search_registered_models()  # the store exists before any case
    os.chmod(root / "read_only", 0o555)
    sys.path.insert(0, str(root / "steps"))
    yield root
    sys.path.remove(str(root / "steps"))
    os.chmod(root / "read_only", 0o755)


def listing(*folders: Path) -> set[str]:
    return {str(p) for folder in folders if folder.exists() for p in folder.rglob("*")}


def _argv(c: Case, world: Path, out: Path) -> list[str]:
    return [a.replace("{w}", str(world)).replace("{out}", str(out)) for a in c.argv]


def check_streams(c: Case, code: int, out: str, err: str, world: Path, outdir: Path) -> None:
    lines = err.splitlines()
    assert code == c.code, f"exit {code}, expected {c.code}: {err[-2000:]}"
    assert "Traceback" not in err
    assert all(len(line) <= MAX_LINE for line in lines + out.splitlines()), max(map(len, lines))
    errors = [line for line in lines if line.startswith("parity: error:")]
    if c.code == 2:
        assert len(errors) == 1 and lines[-1] == errors[0], err[-2000:]
    else:  # a verdict: the gate's own summary, and at most one error line
        assert len(errors) <= 1 and lines, err[-2000:]
    assert "internal error" not in err
    if c.needle:
        needle = c.needle.replace("{w}", str(world)).replace("{out}", str(outdir))
        assert needle in out + err, f"{needle!r} not in {err!r}"


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)
    commands = {c.argv[0] if c.argv[:1] != ("contract",) else " ".join(c.argv[:2]) for c in CASES if c.argv}
    assert commands >= {"contract lint", "contract diff", "contract gx", "contract dbt", "contract odcs-export",
                        "contract odcs-import", "contract feast", "validate", "snapshot", "history", "drift", "reproduce", "step"}


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_bad_input(c: Case, world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch) -> None:
    outdir, cwd = tmp_path / "out", tmp_path / "cwd"
    outdir.mkdir()
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("PARITY_DEBUG", raising=False)
    before = listing(world, outdir, cwd)
    code = main(_argv(c, world, outdir))
    captured = capsys.readouterr()
    check_streams(c, code, captured.out, captured.err, world, outdir)
    after = listing(world, outdir, cwd)
    if c.code == 1 and "{out}/r.json" in c.argv:  # a verdict writes its report, and only that
        assert (outdir / "r.json").is_file()
        after -= {str(outdir / "r.json")}
    assert after == before, "files left behind or removed"


PROCESS_CASES = ["lint-python_name_tag", "drift-time-window-overflow", "validate-second-output-under_file",
                 "drift-two-empty-folders", "reproduce-no-tracking-uri", "step-syntax-error", "no-command"]


@pytest.mark.parametrize("name", PROCESS_CASES)
def test_bad_input_in_a_real_process(name: str, world: Path, tmp_path: Path) -> None:
    c = next(c for c in CASES if c.id == name)
    outdir, cwd = tmp_path / "out", tmp_path / "cwd"
    outdir.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PARITY_DEBUG")}
    env["PYTHONPATH"] = os.pathsep.join([str(world / "steps"), env.get("PYTHONPATH", "")])
    before = listing(world, outdir, cwd)
    proc = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", *_argv(c, world, outdir)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    check_streams(c, proc.returncode, proc.stdout, proc.stderr, world, outdir)
    assert listing(world, outdir, cwd) == before
