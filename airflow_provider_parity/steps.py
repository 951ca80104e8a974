"""Heavy steps: plain functions run in the worker or in a Kubernetes pod, the same way.

A step is named ``"package.module:function"``. It takes JSON-able keyword arguments and
returns a JSON-able dict, so the in-process operator and the pod (through ``parity step
run``) hand Airflow the same XCom. Optional result keys ``inputs`` and ``outputs`` (lists of
``{"uri": ..., "version": ...}``) become the task's OpenLineage datasets.

Airflow-free: the pod's entry point imports this and nothing of Airflow's.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import ConfigurationError

if TYPE_CHECKING:
    from airflow_provider_parity.outcomes.model import GateOutcome

Step = Callable[..., Mapping[str, Any] | None]


def _import(name: str, module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name + ".").startswith(exc.name + "."):
            raise ConfigurationError(f"step {name!r}: module {exc.name!r} not found") from None
        raise ConfigurationError(f"step {name!r}: {module_name} imports {exc.name!r}, which is not installed") from None
    except SyntaxError as exc:
        where = f"{exc.filename}:{exc.lineno}" if exc.filename else module_name
        raise ConfigurationError(f"step {name!r}: {where}: syntax error: {exc.msg}") from None
    except Exception as exc:  # the module's own code failed at import: the step is broken, not parity
        raise ConfigurationError(f"step {name!r}: importing {module_name} failed: "
                                 f"{exc.__class__.__name__}: {str(exc)[:300]}") from None


def resolve_step(name: str) -> Step:
    """The function named ``module:function``.

    Raises:
        ConfigurationError: the name is malformed, or the module cannot be imported, or the
            function does not exist.
    """
    module_name, sep, function_name = name.partition(":")
    if not sep or not module_name or not function_name.isidentifier():
        raise ConfigurationError(f"step {name!r} must be 'package.module:function'")
    module = _import(name, module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigurationError(f"step {name!r}: {module_name} has no function {function_name!r}")
    return function  # type: ignore[no-any-return]


def _check_arguments(name: str, step: Step, kwargs: Mapping[str, Any]) -> None:
    """Refuse keyword arguments the step does not take, before calling it."""
    try:
        signature = inspect.signature(step)
    except (TypeError, ValueError):  # no signature to check (a builtin): the call will say
        return
    try:
        signature.bind(**kwargs)
    except TypeError as exc:
        raise ConfigurationError(f"step {name!r} does not take these arguments: {exc}") from None


def run_step(name: str, kwargs: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Call a step and return its result as a JSON-able dict (``{}`` when it returns None).

    Raises:
        ConfigurationError: the step cannot be found, does not take ``kwargs``, or its result
            is not a JSON-able dict.
    """
    step = resolve_step(name)
    arguments = dict(kwargs or {})
    _check_arguments(name, step, arguments)
    result = step(**arguments)
    if result is not None and not isinstance(result, Mapping):
        raise ConfigurationError(f"step {name!r} returned {type(result).__name__}, expected a dict (or None)")
    payload = dict(result or {})
    try:
        # Round-trip so the in-process XCom is exactly what a pod's return.json would carry.
        return json.loads(json.dumps(payload))  # type: ignore[no-any-return]
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"step {name!r} returned a value that is not JSON: {str(exc)[:300]}") from None


def lineage_datasets(result: Mapping[str, Any] | None, key: str) -> list[tuple[str, str | None]]:
    """``(uri, version)`` pairs from a step result's ``inputs`` or ``outputs``."""
    pairs = []
    for item in (result or {}).get(key) or ():
        if isinstance(item, Mapping) and item.get("uri"):
            version = item.get("version")
            pairs.append((str(item["uri"]), None if version is None else str(version)))
    return pairs


def step_outcome(name: str, result: Mapping[str, Any], *, gate: str, dataset: str | None = None) -> GateOutcome:
    """The outcome of a step that is a gate and returned: its own ``outcome`` when it gives one,
    else a pass summarised by its ``summary`` (or its gate's)."""
    from airflow_provider_parity.outcomes.model import GateOutcome

    given = result.get("outcome")
    if isinstance(given, Mapping):
        return GateOutcome.from_dict(given)
    summary = result.get("summary") or (result.get(gate) or {}).get("summary")
    return GateOutcome(gate=gate, status="passed", blocking=False, reason=str(summary or f"{name} passed"),
                       dataset=dataset)
