"""Lazy re-exports for the domain packages: ``from package import Name`` without paying for
numpy, pyarrow or deltalake until a name is used (the dag-processor imports the provider on
every parse)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[list[str], Callable[[str], Any]]:
    """``__all__`` and a module ``__getattr__`` that imports ``exports[name]`` on first access.

    Example:
        >>> __all__, __getattr__ = lazy_exports(__name__, {"GateOutcome": "pkg.outcomes.model"})
    """
    table = dict(exports)

    def getattr_(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return sorted(table), getattr_
