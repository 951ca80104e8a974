"""Constructor argument checks: a wrong argument fails the DAG file's import, named, not a task at run time.

Every check raises :class:`~airflow_provider_parity.exceptions.OperatorArgumentError`, a
``ConfigurationError`` that is also a ``ValueError`` (what Python code expects of a bad
argument). Values of templated fields that hold a Jinja template are left to run time:
they only have a value once rendered.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from airflow_provider_parity.exceptions import OperatorArgumentError

_PLAIN = (str, int, float, bool, list, tuple, dict, type(None))


def is_template(value: Any) -> bool:
    """Whether ``value`` only gets its value when the task runs: a Jinja template, or an object
    such as an ``XComArg`` that Airflow resolves then."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    return not isinstance(value, _PLAIN)


def check_choice(operator: str, name: str, value: Any, choices: Collection[Any]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise OperatorArgumentError(f"{operator}: {name} must be one of {allowed}, got {str(value)[:80]!r}")


def check_text(operator: str, name: str, value: Any, *, optional: bool = False) -> None:
    """A non-empty string (``None`` too when ``optional``)."""
    if (optional and value is None) or is_template(value):
        return
    if not isinstance(value, str) or not value.strip():
        raise OperatorArgumentError(f"{operator}: {name} must be a non-empty string, got {str(value)[:80]!r}")


def check_number(operator: str, name: str, value: Any, *, minimum: int = 0, optional: bool = True) -> None:
    """A whole number from ``minimum`` (a Delta or model version), or a template rendering to one."""
    if (optional and (value is None or value == "")) or is_template(value):
        return
    try:
        number = int(value) if not isinstance(value, bool | float) else None
    except (TypeError, ValueError):
        number = None
    if number is None or number < minimum:
        raise OperatorArgumentError(f"{operator}: {name} must be a whole number from {minimum}, "
                                    f"got {str(value)[:80]!r}")


def check_duration(operator: str, name: str, value: Any) -> None:
    """A duration such as ``"1d"`` longer than zero, or None, or a template."""
    from airflow_provider_parity.contracts.model import parse_duration

    if value is None or is_template(value):
        return
    try:
        positive = parse_duration(value).total_seconds() > 0
    except ValueError as exc:
        raise OperatorArgumentError(f"{operator}: {name}: {exc}") from None
    if not positive:
        raise OperatorArgumentError(f"{operator}: {name} must be longer than zero, got {value!r}")


def _mapping(operator: str, name: str, values: Any, what: str) -> Mapping[Any, Any] | None:
    """``values`` when it is a mapping; None when unset or a template; else the error naming ``what``."""
    if values is None or is_template(values):
        return None
    if not isinstance(values, Mapping):
        raise OperatorArgumentError(f"{operator}: {name} must be a mapping of {what}, got {type(values).__name__}")
    return values


def check_ratios(operator: str, name: str, values: Any, *, upper: float | None = 1.0) -> None:
    """A mapping of names to finite numbers from 0 (to ``upper`` when given)."""
    for key, value in (_mapping(operator, name, values, "column to number") or {}).items():
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
        if not ok or (upper is not None and value > upper):
            bound = f"between 0 and {upper}" if upper is not None else "a finite number from 0"
            raise OperatorArgumentError(f"{operator}: {name}[{key!r}] must be {bound}, got {str(value)[:80]!r}")


def check_names(operator: str, name: str, values: Any, *, optional: bool = True) -> None:
    """A list of non-empty strings (not one string, which Python would split into letters)."""
    if (optional and values is None) or (is_template(values) and not isinstance(values, Collection)):
        return
    if isinstance(values, str) or not isinstance(values, Collection):
        raise OperatorArgumentError(f"{operator}: {name} must be a list of names, got {str(values)[:80]!r}")
    for value in values:
        check_text(operator, f"{name} item", value)


def check_references(operator: str, name: str, values: Any) -> None:
    """Parent datasets by name: a mapping of non-empty names to non-empty paths or URIs."""
    example = "dataset name to its data, e.g. {'customers': 's3://lake/customers'}"
    for key, value in (_mapping(operator, name, values, example) or {}).items():
        check_text(operator, f"{name} key", key)
        check_text(operator, f"{name}[{key!r}]", value)


def check_equalities(operator: str, name: str, values: Any) -> None:
    """A row filter by equality: a mapping of column names to one value each (text, number or date)."""
    example = "column to the value its rows must have, e.g. {'feature_date': '{{ ds }}'}"
    for key, value in (_mapping(operator, name, values, example) or {}).items():
        check_text(operator, f"{name} key", key)
        if value is None or isinstance(value, Mapping | list | tuple | set):
            raise OperatorArgumentError(f"{operator}: {name}[{key!r}] must be one value, got {str(value)[:80]!r}")
