"""Load contract YAML, rejecting a bad contract with the file, line and field at fault."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from airflow_provider_parity.contracts.model import ORDERED_TYPES, Column, Contract
from airflow_provider_parity.exceptions import ContractError

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


def _to_python(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> Any:
    """Turn a composed YAML node into plain Python, remembering each path's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            if not isinstance(key, str):
                raise ContractError(f"keys must be strings, got {key!r}", file=file,
                                    line=key_node.start_mark.line + 1, field=format_path(path) or None)
            if key in result:
                # PyYAML keeps the last of two equal keys; a contract must say one thing.
                raise ContractError("duplicate key", file=file, line=key_node.start_mark.line + 1,
                                    field=format_path((*path, key)))
            result[key] = _to_python(value_node, (*path, key), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def parse_yaml(text: str, file: str) -> tuple[Any, dict[PathKey, int]]:
    lines: dict[PathKey, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError(f"malformed YAML: {problem}", file=file,
                            line=mark.line + 1 if mark else None) from None
    if node is None:
        raise ContractError("the file is empty", file=file)
    return _to_python(node, (), lines, file), lines


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
        msg = err["msg"]
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
    if cons.regex is not None and col.type != "string":
        yield (*base, "regex"), f"regex needs a string column, column '{col.name}' is {col.type}"
    if cons.allowed_values is not None and not cons.allowed_values:
        yield (*base, "allowed_values"), "allowed_values is empty: no value could pass"


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


def semantic_problems(contract: Contract) -> Iterator[tuple[PathKey, str]]:
    """What pydantic cannot see: cross-field rules. Yields (path, message)."""
    seen: dict[str, int] = {}
    for i, col in enumerate(contract.columns):
        if col.name in seen:
            yield ("columns", i, "name"), f"duplicate column '{col.name}' (first declared as columns[{seen[col.name]}])"
        seen.setdefault(col.name, i)
        yield from _column_problems(i, col)
    yield from _table_problems(contract, set(seen))
    yield from _side_problems(contract, set(seen))


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
