"""Run ``dbt build`` in-process and turn its outcome into a gate.

dbt runs through its programmatic entry point, ``dbtRunner``, in the task's own process:
one task builds and tests the whole project, so the dbt tests act as one gate whose
failure names the test, the model, the column and observed versus expected. Nothing
about dbt happens when a DAG file is parsed.

Example:
    >>> result = run_dbt_build("dbt_project", vars={"feature_date": "2026-01-02"})
    >>> result.summary()
    'dbt build churn: 3 models built, 18 tests passed in 4.2 s'
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_parity.exceptions import ConfigurationError, DbtBuildFailed, DbtTestFailed

# Statuses dbt reports per node (models, seeds, snapshots: success/error/skipped; tests: pass/fail/warn/error/skipped).
_ERROR, _FAIL, _SKIPPED = "error", "fail", "skipped"
_ERROR_HEADER = re.compile(r"^\s*(Runtime|Compilation|Database|Parsing|Dependency) Error in \w+ \S+( \(.*\))?\s*$")
_EXAMPLES = 3
_PAST = {"success": "built", "pass": "passed", "fail": "failed", "error": "errored", "warn": "warned"}


@dataclass
class DbtNodeResult:
    """One node of the build: a model, a test, a seed or a snapshot.

    Attributes:
        unique_id: dbt's id, e.g. ``model.churn.customer_features``.
        name: the node's name.
        resource_type: ``model``, ``test``, ``seed``, ``snapshot``.
        status: as dbt reports it: ``success``/``error``/``skipped`` or ``pass``/``fail``/``warn``.
        execution_seconds: time dbt spent on the node.
        message: dbt's message on one line (the cause, for an error).
        failures: rows a test returned.
        model: for a test, the model it tests; for a model, its own name.
        column: the column a test checks, if any.
        test: the generic test's name (``not_null``, ``parity_between``...).
        relation: for a model, the relation it built (``"db"."schema"."name"``).
        arguments: for a generic test, its arguments (e.g. ``{"min": 0, "max": 5000}``).
    """

    unique_id: str
    name: str
    resource_type: str
    status: str
    execution_seconds: float
    message: str | None = None
    failures: int | None = None
    model: str | None = None
    column: str | None = None
    test: str | None = None
    relation: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class DbtBuildResult:
    """What one ``dbt build`` did; ``dataclasses.asdict`` gives its JSON form.

    Attributes:
        project: the dbt project's name.
        target: the profile target used (None: the profile's default).
        vars: the vars passed to dbt.
        success: every node built and every test passed (warnings allowed).
        nodes: per node results, in dbt's order.
        failures: tests that failed.
        errors: nodes that raised an error (a model that could not build, a test that could not run).
        skipped: nodes skipped because something upstream failed.
        elapsed_seconds: wall time of the build.
        dbt_version: the dbt-core version that ran.
    """

    project: str
    target: str | None
    vars: dict[str, Any]
    success: bool
    nodes: list[DbtNodeResult] = field(default_factory=list)
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    elapsed_seconds: float = 0.0
    dbt_version: str = ""

    def node(self, name: str) -> DbtNodeResult:
        """The node called ``name`` (its name or unique id)."""
        for node in self.nodes:
            if name in (node.name, node.unique_id):
                return node
        raise KeyError(name)

    def summary(self) -> str:
        """One line: what was built and tested, and how long it took."""
        counts: dict[tuple[str, str], int] = {}
        for node in self.nodes:
            key = (node.resource_type, _PAST.get(node.status, node.status))
            counts[key] = counts.get(key, 0) + 1
        parts = ", ".join(f"{n} {kind}{'' if n == 1 else 's'} {status}" for (kind, status), n in counts.items())
        return f"dbt build {self.project}: {parts or 'nothing selected'} in {self.elapsed_seconds:.1f} s"


def run_dbt_build(project_dir: str | Path, *, profiles_dir: str | Path | None = None, target: str | None = None,
                  vars: Mapping[str, Any] | None = None, select: Sequence[str] | str | None = None,
                  work_dir: str | Path | None = None) -> DbtBuildResult:
    """Run ``dbt build`` (models, then their tests) in this process and gate on the outcome.

    Args:
        project_dir: the dbt project's folder.
        profiles_dir: the folder holding ``profiles.yml`` (default: ``project_dir`` when it
            has one, else dbt's own default).
        target: the profile's target (default: the profile's default).
        vars: dbt vars (``--vars``), JSON-serialisable.
        select: dbt selectors (``--select``); default everything.
        work_dir: where dbt writes ``target/`` and ``logs/``; default a temporary folder,
            removed afterwards, so a read-only project folder works and runs never collide.

    Returns:
        The build's result when every model built and every test passed.

    Raises:
        DbtTestFailed: a data test failed; one line naming each failed test, its model and
            column, observed versus expected. ``result`` holds the ``DbtBuildResult``.
        DbtBuildFailed: a node could not be built or run; one line with dbt's cause.
        ConfigurationError: dbt could not start (no project, a bad profile, a parse error).
    """
    project = Path(project_dir)
    if not (project / "dbt_project.yml").is_file():
        raise ConfigurationError(f"{project}: no dbt_project.yml: not a dbt project")
    if profiles_dir is None and (project / "profiles.yml").is_file():
        profiles_dir = project
    with tempfile.TemporaryDirectory(prefix="parity-dbt-") as scratch:
        work = Path(work_dir) if work_dir is not None else Path(scratch)
        common = _common_args(project, profiles_dir, target, vars, work)
        selectors = [select] if isinstance(select, str) else list(select or [])
        args = ["build", *common, *(["--select", *selectors] if selectors else [])]
        try:
            result = _collect(project, target, vars, _invoke(args, project))
            failed = [n for n in result.nodes if n.status == _FAIL]
            samples = _failing_rows([n.name for n in failed], common) if failed and not result.errors else {}
        finally:
            _release_duckdb()
    if result.errors:
        raise DbtBuildFailed(_error_message(result), result=result)
    if failed:
        error = DbtTestFailed(_failure_message(failed, samples, result), result=result)
        error.checks = test_checks(result, samples)
        raise error
    return result


def test_checks(result: DbtBuildResult, samples: Mapping[str, tuple[list[str], list[tuple[Any, ...]]]]) -> tuple[Any, ...]:
    """Every data test of the build as a gate check (observed versus expected), for the gate's outcome
    and its lineage assertions."""
    from airflow_provider_parity.outcomes.model import Check

    as_of = result.vars.get("parity_as_of")
    checks = []
    for node in (n for n in result.nodes if n.resource_type == "test"):
        failed = node.status == _FAIL
        observed, expected = (_observed_expected(node, samples.get(node.name), as_of) if failed
                              else ("0 failing rows", "0 failing rows"))
        name = f"{node.test or node.name}({node.column})" if node.column else str(node.test or node.name)
        checks.append(Check(name=name, success=not failed, column=node.column, observed=observed, expected=expected,
                            severity="warn" if node.status == "warn" else "error"))
    return tuple(checks)


def _release_duckdb() -> None:
    """Close the database dbt-duckdb keeps open for the life of the process.

    Its adapter holds one duckdb instance per process; left open, it locks the file
    against any other reader or writer (even a read-only one in this same process)
    until the interpreter exits.
    """
    import sys

    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is None:
        return
    manager = connections.DuckDBConnectionManager
    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
        manager.close_all_connections()


def _common_args(project: Path, profiles_dir: str | Path | None, target: str | None,
                 vars: Mapping[str, Any] | None, work: Path) -> list[str]:
    args = ["--project-dir", str(project), "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
            # No usage stats: workers may have no network, and nothing here should phone home.
            "--no-send-anonymous-usage-stats", "--no-use-colors", "--no-partial-parse"]
    if profiles_dir is not None:
        args += ["--profiles-dir", str(profiles_dir)]
    if target:
        args += ["--target", target]
    if vars:
        args += ["--vars", json.dumps(dict(vars), sort_keys=True, default=str)]
    return args


def _invoke(args: list[str], project: Path) -> Any:
    from dbt.cli.main import dbtRunner

    outcome = dbtRunner().invoke(args)
    if outcome.result is None or not hasattr(outcome.result, "results"):
        cause = _one_line(str(outcome.exception)) if outcome.exception else "no result"
        raise ConfigurationError(f"dbt could not run the project in {project}: {cause}")
    return outcome.result


def _collect(project: Path, target: str | None, vars: Mapping[str, Any] | None, run: Any) -> DbtBuildResult:
    import dbt.version

    nodes = [_node(r) for r in run.results]
    name = next((n.unique_id.split(".")[1] for n in nodes if n.unique_id.count(".") >= 2), project.name)
    return DbtBuildResult(
        project=name, target=target, vars=dict(vars or {}),
        success=not any(n.status in (_ERROR, _FAIL, _SKIPPED) for n in nodes),
        nodes=nodes,
        failures=sum(n.status == _FAIL for n in nodes),
        errors=sum(n.status == _ERROR for n in nodes),
        skipped=sum(n.status == _SKIPPED for n in nodes),
        elapsed_seconds=round(float(run.elapsed_time or 0.0), 3),
        dbt_version=str(dbt.version.__version__),
    )


def _node(r: Any) -> DbtNodeResult:
    node = r.node
    kind = str(getattr(node.resource_type, "value", node.resource_type))
    metadata = getattr(node, "test_metadata", None)
    attached = getattr(node, "attached_node", None)
    return DbtNodeResult(
        unique_id=node.unique_id, name=node.name, resource_type=kind,
        status=str(getattr(r.status, "value", r.status)),
        execution_seconds=round(float(r.execution_time or 0.0), 3),
        message=_one_line(r.message) if r.message else None,
        failures=r.failures,
        model=attached.split(".")[-1] if attached else (node.name if kind == "model" else None),
        column=getattr(node, "column_name", None),
        test=metadata.name if metadata else None,
        relation=getattr(node, "relation_name", None) if kind != "test" else None,
        arguments=_arguments(metadata.kwargs) if metadata else {},
    )


def _arguments(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """A test's own arguments, JSON-able (``model`` and ``column_name`` are on the node already)."""
    return {k: json.loads(json.dumps(v, default=str)) for k, v in kwargs.items() if k not in ("model", "column_name")}


def _one_line(message: str) -> str:
    """dbt's cause on one line: the header ("Runtime Error in model x") and the SQL excerpt dropped."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    contract = _contract_mismatch(lines)
    if contract:
        return contract
    causes = [line for line in lines if not _ERROR_HEADER.match(line)]
    # DuckDB appends "LINE n: <sql>" and a caret line; the first line is the cause.
    return causes[0] if causes else (lines[0] if lines else "")


def _contract_mismatch(lines: list[str]) -> str | None:
    """The rows of dbt's enforced-contract table, e.g. "contract mismatch: ts TIMESTAMP vs contract DATE"."""
    if not any("enforced contract that failed" in line for line in lines):
        return None
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines if line.startswith("|")]
    body = [row for row in rows[2:] if len(row) == 4]  # skip the header and its separator
    found = "; ".join(f"{name}: model {model or 'none'} vs contract {declared or 'none'} ({why})"
                      for name, model, declared, why in body)
    return f"model contract mismatch: {found or 'columns differ'}"


def _error_message(result: DbtBuildResult) -> str:
    broken = [n for n in result.nodes if n.status == _ERROR]
    causes = "; ".join(f"{n.resource_type} {n.name}: {n.message}" for n in broken)
    skipped = f" ({result.skipped} downstream nodes skipped)" if result.skipped else ""
    return f"dbt build {result.project} failed: {causes}{skipped}"


def _failing_rows(tests: list[str], common: list[str]) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """A few rows each failed test returns (``dbt show``), to name the offending values.

    Returns an empty mapping when dbt cannot show them: the counts alone still gate.
    """
    from dbt.cli.main import dbtRunner

    outcome = dbtRunner().invoke(["show", *common, "--quiet", "--limit", str(_EXAMPLES), "--select", *tests])
    samples: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for r in getattr(outcome.result, "results", None) or []:
        table = getattr(r, "agate_table", None)
        if table is not None:
            samples[r.node.name] = (list(table.column_names), [tuple(row) for row in table.rows])
    return samples


def _failure_message(failed: list[DbtNodeResult], samples: dict[str, tuple[list[str], list[tuple[Any, ...]]]],
                     result: DbtBuildResult) -> str:
    tests = [n for n in result.nodes if n.resource_type == "test"]
    as_of = result.vars.get("parity_as_of")
    described = "; ".join(describe_failure(n, samples.get(n.name), as_of=as_of) for n in failed)
    if len(failed) == 1:
        return described
    return f"{len(failed)} of {len(tests)} dbt tests failed: {described}"


def describe_failure(node: DbtNodeResult, sample: tuple[list[str], list[tuple[Any, ...]]] | None = None, *,
                     as_of: str | None = None) -> str:
    """One failed test as "dbt test <test> on <model>.<column> failed: <observed> (expected <expected>)".

    Args:
        node: the failed test.
        sample: the first rows the test returned (column names, rows), when known.
        as_of: the reference time freshness was measured at (the ``parity_as_of`` var), if not now.

    Returns:
        The sentence; the parity tests' summary rows become counts, ratios or values.
    """
    where = f"{node.model}.{node.column}" if node.column else str(node.model)
    observed, expected = _observed_expected(node, sample, as_of)
    return f"dbt test {node.test or node.name} on {where} failed: {observed} (expected {expected})"


def _observed_expected(node: DbtNodeResult, sample: tuple[list[str], list[tuple[Any, ...]]] | None,
                       as_of: str | None) -> tuple[str, str]:
    n = node.failures or 0
    first: dict[str, Any] = dict(zip(sample[0], sample[1][0], strict=False)) if sample and sample[1] else {}
    examples = [row[0] for row in sample[1]] if sample and sample[1] else []
    args = node.arguments
    test = node.test or ""
    if test == "not_null":
        return f"{n} null rows", "0"
    if test == "unique":  # dbt's own: one failure per repeated value, not per row
        return f"{n} values occur more than once{_eg(examples)}", "each value once"
    if test == "parity_unique":  # every row of a repeated value: the one meaning of duplicates
        return f"{n} duplicated values{_eg(examples)}", "each value once"
    if test == "accepted_values":
        return f"{n} unexpected values{_eg(examples)}", f"one of {args.get('values')}"
    if test == "relationships":
        return f"{n} rows without a match in {args.get('to')}.{args.get('field')}{_eg(examples)}", "0"
    if test in ("parity_between", "parity_regex") and "offending" in first:
        what = f"outside [{args.get('min', '-inf')}, {args.get('max', 'inf')}]" if test == "parity_between" \
            else f"not matching {args.get('regex')}"
        share = f"at most {1 - float(args.get('mostly', 1.0)):.2%} of non-null values" \
            if float(args.get("mostly", 1.0)) < 1 else "0"
        return f"{first['offending']} of {first['non_null']} non-null values {what}", share
    if test == "parity_not_null_proportion" and "non_null_ratio" in first:
        return f"non-null share {float(first['non_null_ratio']):.4f}", f"at least {args.get('at_least')}"
    if test == "parity_row_count" and "n" in first:
        bounds = " and ".join(f"{k} {args[k]}" for k in ("min", "max") if k in args)
        return f"{first['n']} rows", f"{bounds or 'bounds'}"
    if test == "parity_unique_combination":
        columns = ", ".join(args.get("columns", []))
        shown = [tuple(row[:-1]) for row in sample[1]] if sample and sample[1] else []
        return f"{n} rows with a repeated key ({columns}){_eg(shown)}", "each combination once"
    if test == "parity_max_age" and "newest" in first:
        return f"newest value {first['newest']}", f"within {_duration(args.get('max_age_seconds'))} of {as_of or 'now'}"
    return f"{n} failing rows", "0"


def _eg(examples: Sequence[Any]) -> str:
    """", e.g. [...]" with a few offending values, or nothing when none were shown."""
    if not examples:
        return ""
    shown = [tuple(str(v) for v in e) if isinstance(e, tuple) else str(e) for e in examples[:_EXAMPLES]]
    return f", e.g. {shown}"


def _duration(seconds: Any) -> str:
    """129600 -> "36h": the contract's own way of writing a freshness SLO."""
    try:
        total = int(seconds)
    except (TypeError, ValueError):
        return f"{seconds} s"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if total and total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"
