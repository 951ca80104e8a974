"""Load contract YAML, rejecting a bad contract with the file, line and field at fault."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from airflow_provider_parity.contracts.model import ORDERED_TYPES, Column, Contract, value_kind
from airflow_provider_parity.exceptions import ContractError, shorten

PathKey = tuple[str | int, ...]


class ContractErrors(ContractError):
    """Every problem found in one contract file; ``str()`` is the first, on one line."""

    def __init__(self, errors: list[ContractError]) -> None:
        self.errors = errors
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s); run 'parity contract lint')" if len(errors) > 1 else ""
        super().__init__(first.reason + more, file=first.file, line=first.line, field=first.field)


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


MAX_NODES = 100_000
"""YAML nodes a contract may expand to: aliases repeat nodes, and a few lines can name billions."""

# libyaml's parser when PyYAML was built with it: the same nodes and marks, many times faster.
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


class _Walker:
    """Turn a composed YAML node into plain Python, remembering each path's line.

    Refuses what a safe loader would (tags such as ``!!python/name``) and what would
    never end: an alias inside its own anchor, or aliases expanding past ``MAX_NODES``.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[PathKey, int] = {}
        self._open: set[int] = set()
        self._nodes = 0
        # The safe loader's own constructor: the same values safe_load gives, unsafe tags refused.
        self._constructor = yaml.SafeLoader("")

    def _error(self, message: str, node: yaml.Node, path: PathKey) -> ContractError:
        return ContractError(message, file=self.file, line=node.start_mark.line + 1, field=format_path(path) or None)

    def walk(self, node: yaml.Node, path: PathKey = ()) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise self._error(f"the document expands to more than {MAX_NODES} values (aliases?)", node, path)
        if id(node) in self._open:
            raise self._error("recursive alias: a value contains itself", node, path)
        if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
            raise self._error(f"tag {node.tag!r} is not allowed: a contract is plain YAML data", node, path)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return [self.walk(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._scalar(node, path)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: yaml.Node, path: PathKey) -> Any:
        try:
            return self._constructor.construct_object(node)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise self._error(f"cannot read value: {problem}", node, path) from None

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._error(f"keys must be strings, got a {key_node.id}", key_node, path)
            key = self._scalar(key_node, path)
            if not isinstance(key, str):
                raise self._error(f"keys must be strings, got {shorten(repr(key))}", key_node, path)
            if key in result:
                # PyYAML keeps the last of two equal keys; a contract must say one thing.
                raise self._error("duplicate key", key_node, (*path, key))
            result[key] = self.walk(value_node, (*path, key))
        return result


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML text into plain data and the line of each path.

    Raises:
        ContractError: malformed or unsafe YAML, or an empty document; names file and line.
    """
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(f"malformed YAML: {problem}", file=file,
                            line=mark.line + 1 if mark else None) from None
    except RecursionError:
        raise ContractError("malformed YAML: nested too deeply", file=file) from None
    if node is None:
        raise ContractError("the file is empty", file=file)
    walker = _Walker(file)
    try:
        data = walker.walk(node)
    except RecursionError:
        raise ContractError("the document is nested too deeply", file=file) from None
    return data, walker.lines


def _line_for(path: PathKey, lines: dict[PathKey, int]) -> int | None:
    # An unknown or missing key has no line of its own: use the nearest parent's.
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def _error_path(loc: tuple[Any, ...], missing: bool, lines: dict[PathKey, int]) -> PathKey:
    """The part of a pydantic location that names the document's own keys.

    pydantic appends union branch names (``float``, ``str``) that are no key of the
    file; a missing key is one step past the last path the file has.
    """
    path: PathKey = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
        else:
            return (*path, part) if missing else path
    return path


def _drift_unknown_key(path: PathKey) -> str | None:
    """What to write instead of an unknown key in the drift policy (checks moved under ``drift.checks``)."""
    from airflow_provider_parity.contracts.model import DriftChecks, DriftPolicy

    checks = sorted(DriftChecks.model_fields)
    if path[:2] == ("drift", "checks") and len(path) == 3:
        return f"unknown check; the checks are {', '.join(checks)}"
    if path[:1] == ("drift",) and len(path) == 2:
        if path[1] in checks:
            return f"a check's threshold goes under drift.checks (drift: {{checks: {{{path[1]}: ...}}}})"
        return f"unknown key; the drift policy's keys are {', '.join(DriftPolicy.model_fields)}"
    return None


def _pydantic_errors(exc: ValidationError, file: str, lines: dict[PathKey, int]) -> list[ContractError]:
    errors = []
    for err in exc.errors():
        missing = err["type"] == "missing"
        path = _error_path(tuple(err["loc"]), missing, lines)
        msg = err["msg"].removeprefix("Value error, ")  # pydantic's wording for a validator's ValueError
        if err["type"] == "extra_forbidden":
            msg = _drift_unknown_key(path) or "unknown key"
        elif missing:
            msg = "required key is missing"
        errors.append(ContractError(msg, file=file, line=_line_for(path, lines), field=format_path(path)))
    return errors


def _bound(value: Any, column: Column) -> Any:
    """A min/max bound in the column's own domain, for comparing the two."""
    if column.type in ("integer", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number for a {column.type} column, got {value!r}")
        return value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"must be an ISO date or timestamp for a {column.type} column, got {value!r}") from None
    return parsed.isoformat()


def _column_problems(index: int, col: Column) -> Iterator[tuple[PathKey, str]]:
    base: PathKey = ("columns", index, "constraints")
    cons = col.constraints
    bounds: dict[str, Any] = {}
    for side in ("min", "max"):
        value = getattr(cons, side)
        if value is None:
            continue
        if col.type not in ORDERED_TYPES:
            yield (*base, side), f"min/max need an ordered type, column '{col.name}' is {col.type}"
            continue
        try:
            bounds[side] = _bound(value, col)
        except ValueError as exc:
            yield (*base, side), str(exc)
    if len(bounds) == 2 and bounds["min"] > bounds["max"]:
        yield (*base, "min"), f"impossible bounds: min {cons.min} is greater than max {cons.max}"
    yield from _regex_problems(base, col)
    yield from _allowed_problems(base, col)


# The kinds of allowed_values each column type can hold (dates may be written as ISO strings).
_ALLOWED_KINDS = {"string": {"string"}, "integer": {"number"}, "float": {"number"}, "boolean": {"boolean"},
                  "date": {"date", "string"}, "timestamp": {"timestamp", "date", "string"}}


def _allowed_problems(base: PathKey, col: Column) -> Iterator[tuple[PathKey, str]]:
    values = col.constraints.allowed_values
    if values is None:
        return
    if not values:
        yield (*base, "allowed_values"), "allowed_values is empty: no value could pass"
        return
    kind = value_kind(values[0])  # the model already refused mixed kinds
    if kind not in _ALLOWED_KINDS[col.type]:
        yield (*base, "allowed_values"), f"allowed_values are {kind} values, column '{col.name}' is {col.type}"


def _regex_problems(base: PathKey, col: Column) -> Iterator[tuple[PathKey, str]]:
    pattern = col.constraints.regex
    if pattern is None:
        return
    if col.type != "string":
        yield (*base, "regex"), f"regex needs a string column, column '{col.name}' is {col.type}"
        return
    problem = re2_problem(pattern)
    if problem:
        yield (*base, "regex"), problem


def re2_problem(pattern: str) -> str | None:
    """Why RE2 refuses ``pattern`` (None when it accepts it).

    The serving check (Arrow compute) and dbt on DuckDB match with RE2, which has no
    lookaround or backreferences; a contract holds one regex for every gate, so a
    pattern only Python accepts is refused when the contract is loaded, not when one
    engine meets it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).splitlines()[0].removeprefix("Invalid regular expression: ")
        return f"regex is not RE2 syntax, which Arrow and DuckDB use (no lookaround or backreferences): {reason}"
    return None


def _unknown(path: PathKey, names: list[str], known: set[str]) -> Iterator[tuple[PathKey, str]]:
    for j, name in enumerate(names):
        if name not in known:
            yield (*path, j), f"column '{name}' is not declared in columns"


def _table_problems(contract: Contract, known: set[str]) -> Iterator[tuple[PathKey, str]]:
    yield from _unknown(("primary_key",), contract.primary_key, known)
    for j, name in enumerate(contract.primary_key):
        if name in known and contract.column(name).nullable:
            yield ("primary_key", j), f"primary key column '{name}' must be nullable: false"
    rows = contract.row_count
    if rows and rows.min is not None and rows.max is not None and rows.min > rows.max:
        yield ("row_count", "min"), f"impossible bounds: min {rows.min} is greater than max {rows.max}"
    for name, ratio in contract.completeness.items():
        if name not in known:
            yield ("completeness", name), f"column '{name}' is not declared in columns"
        if not 0.0 <= ratio <= 1.0:
            yield ("completeness", name), f"a non-null ratio must be between 0 and 1, got {ratio}"
    fresh = contract.freshness
    if fresh and fresh.column:
        if fresh.column not in known:
            yield ("freshness", "column"), f"column '{fresh.column}' is not declared in columns"
        elif contract.column(fresh.column).type not in ("date", "timestamp"):
            yield ("freshness", "column"), f"column '{fresh.column}' must be a date or timestamp"


def _label_problems(contract: Contract, known: set[str]) -> Iterator[tuple[PathKey, str]]:
    labels = contract.labels
    if labels is None:
        return
    if labels.column not in known:
        yield ("labels", "column"), f"column '{labels.column}' is not declared in columns"
    elif contract.column(labels.column).role != "label":
        yield ("labels", "column"), f"column '{labels.column}' has role {contract.column(labels.column).role}, not label"
    cols = labels.annotations
    if cols.item not in known:
        yield ("labels", "annotations", "item"), f"column '{cols.item}' (the items' key) is not declared in columns"
    names = [("item", cols.item), ("annotator", cols.annotator), ("label", cols.label), ("time", cols.time)]
    for j, (key, name) in enumerate(names):
        if name is not None and name in [other for _, other in names[:j]]:
            yield ("labels", "annotations", key), f"column '{name}' is named twice in the annotations table"
    classes = labels.classes
    if labels.level == "ordinal" and classes is None:
        yield ("labels", "level"), "ordinal labels need labels.classes, in order"
    if classes is not None and len({str(c).lower() for c in classes}) < len(classes):
        yield ("labels", "classes"), "a class is listed twice"
    if classes is not None and len(classes) < 2:
        yield ("labels", "classes"), f"agreement needs at least two classes, got {len(classes)}"
    features = [c for c in contract.columns if c.role == "feature"]
    if labels.thresholds.max_feature_conflict_share is not None and not features:
        yield ("labels", "thresholds", "max_feature_conflict_share"), "the contract declares no feature column"


def _side_problems(contract: Contract, known: set[str]) -> Iterator[tuple[PathKey, str]]:
    env = contract.environments
    yield from _unknown(("environments", "training_only"), env.training_only, known)
    yield from _unknown(("environments", "serving_only"), env.serving_only, known)
    for name in sorted(set(env.training_only) & set(env.serving_only)):
        yield ("environments",), f"column '{name}' cannot be both training_only and serving_only"
    for name in contract.drift.features:
        if name not in known:
            yield ("drift", "features", name), f"column '{name}' is not declared in columns"
    yield from _unknown(("drift", "exclude"), contract.drift.exclude, known)
    change = contract.drift.row_count_change
    if change and change[0] > change[1]:
        yield ("drift", "row_count_change"), f"impossible bounds: {change[0]} is greater than {change[1]}"


def _skew_problems(contract: Contract, known: set[str]) -> Iterator[tuple[PathKey, str]]:
    for i, col in enumerate(contract.columns):
        if col.skew_tolerance is not None and not col.is_numeric:
            # Strings, booleans and times compare exactly: a tolerance there would be silently ignored.
            yield ("columns", i, "skew_tolerance"), f"skew_tolerance needs a numeric column, column '{col.name}' is {col.type}"
    if contract.skew is not None:
        yield from _unknown(("skew", "exclude"), contract.skew.exclude, known)
def _slo_problems(contract: Contract) -> Iterator[tuple[PathKey, str]]:
    slos = contract.slos
    if slos is None:
        return
    for j, alert in enumerate(slos.burn_rates or ()):
        if alert.short_delta >= alert.long_delta:
            yield ("slos", "burn_rates", j, "short"), (
                f"the short window {alert.short} must be shorter than the long window {alert.long}")
    longest = max(slos.alerts(), key=lambda a: a.long_delta, default=None)
    for kind, objective in slos.objectives().items():
        if not 0.0 < objective.objective < 1.0:
            yield ("slos", kind, "objective"), (
                f"an objective is a share of good events strictly between 0 and 1 (e.g. 0.995), got {objective.objective}")
        if longest is not None and objective.window_delta < longest.long_delta:
            yield ("slos", kind, "window"), (
                f"window {objective.window} is shorter than the {longest.long} burn-rate window "
                f"({longest.severity}, {longest.factor:g}x): lengthen it or declare slos.burn_rates")
        if kind == "freshness" and contract.freshness is None:
            yield ("slos", kind), "a freshness SLO needs the contract's freshness section (what 'fresh' means)"
        if kind == "completeness" and not contract.completeness:
            yield ("slos", kind), "a completeness SLO needs critical columns in the contract's completeness section"


def semantic_problems(contract: Contract) -> Iterator[tuple[PathKey, str]]:
    """What pydantic cannot see: cross-field rules. Yields (path, message)."""
    seen: dict[str, int] = {}
    for i, col in enumerate(contract.columns):
        if col.name in seen:
            yield ("columns", i, "name"), f"duplicate column '{col.name}' (first declared as columns[{seen[col.name]}])"
        seen.setdefault(col.name, i)
        yield from _column_problems(i, col)
    yield from _table_problems(contract, set(seen))
    yield from _label_problems(contract, set(seen))
    yield from _side_problems(contract, set(seen))
    yield from _skew_problems(contract, set(seen))
    yield from _slo_problems(contract)


def contract_from_text(text: str, file: str = "<contract>") -> Contract:
    """Parse and check a contract given as YAML text.

    Raises:
        ContractErrors: every problem found, each with file, line and field.
    """
    data, lines = parse_yaml(text, file)
    if not isinstance(data, dict):
        raise ContractError(f"a contract is a mapping at the top level, got {type(data).__name__}", file=file, line=1)
    try:
        contract = Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractErrors(_pydantic_errors(exc, file, lines)) from None
    problems = [
        ContractError(msg, file=file, line=_line_for(path, lines), field=format_path(path))
        for path, msg in semantic_problems(contract)
    ]
    if problems:
        raise ContractErrors(problems)
    return contract


def load_contract(path: str | os.PathLike[str]) -> Contract:
    """Load and check the contract at ``path``.

    Raises:
        ContractError: the file is missing or unreadable, or the contract is invalid
            (``ContractErrors`` lists every problem).
    """
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContractError("contract file does not exist", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"cannot read contract: {exc.__class__.__name__}: {exc}", file=file) from None
    return contract_from_text(text, file)
