"""The serving boundary's rules compiled once into plain-Python predicates on one stored row.

:func:`~airflow_provider_parity.validation.check_batch` builds Arrow arrays and runs Arrow compute
per rule: right for a batch, about a millisecond of fixed cost for the one-entity request that is
the service's common case. :class:`RowCheck` compiles the same rules (``compile_rules``, the same
``mostly`` allowances, dataset-wide rules left out as ``check_batch`` does at the boundary) into
closures over the online store's row (numbers as JSON numbers, timestamps as microseconds and
dates as days since the epoch). It only says *pass*; a row it does not pass goes through
``check_batch``, which names the failures, so the messages have one source. A contract with a
rule it cannot compile exactly (e.g. ``between`` on a date) makes :attr:`RowCheck.exact` False and
the service uses ``check_batch`` for every request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.model import parse_duration
from airflow_provider_parity.contracts.rules import compile_rules
from airflow_provider_parity.validation.native import DATASET_RULES

if TYPE_CHECKING:
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.contracts.rules import Rule

# One row: the offending share is 0 or 1, so a rule passes when the row does not offend or when
# the rule tolerates a share of 1 (mostly <= 0), exactly as check_batch computes (1 - share) >= mostly.
Predicate = Callable[[dict[str, Any], int], bool]
"""(row, now in microseconds since the epoch) -> the row passes."""

NUMERIC = ("integer", "float")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
DAY_MICROS = 86_400_000_000


class RowCheck:
    """The contract's serving-boundary rules as predicates on one stored row."""

    def __init__(self, contract: Contract) -> None:
        self.exact = True
        self._predicates: list[Predicate] = []
        for rule in compile_rules(contract, "serving"):
            if rule.kind in DATASET_RULES:
                continue
            predicate = self._compile(rule, contract.column(str(rule.column)).type if rule.column else "")
            if predicate is None:
                self.exact = False
            elif rule.mostly > 0:  # a rule that tolerates every row offending can never fail
                self._predicates.append(predicate)

    def passes(self, row: dict[str, Any] | None, now: datetime) -> bool:
        """True when ``check_batch`` would pass this row alone (its entity key included; None: an unknown
        entity, which never passes)."""
        if row is None or not self.exact:
            return False
        moment = (now - EPOCH) // MICROSECOND  # exact integer microseconds, as Arrow compares
        return all(predicate(row, moment) for predicate in self._predicates)

    @staticmethod
    def _compile(rule: Rule, logical: str) -> Predicate | None:
        name, params = str(rule.column), rule.params
        if rule.kind == "not_null":
            return lambda row, _now: row.get(name) is not None
        if rule.kind == "between" and logical in NUMERIC:
            low, high = params.get("min", float("-inf")), params.get("max", float("inf"))
            # Written as "not offending", as Arrow's less/greater are: a NaN offends neither bound.
            return lambda row, _now: (value := row.get(name)) is None or not (value < low or value > high)
        if rule.kind == "in_set" and logical == "string":
            allowed = frozenset(params["values"])
            return lambda row, _now: (value := row.get(name)) is None or value in allowed
        if rule.kind == "regex" and logical == "string":
            # Arrow's match_substring_regex is a search (RE2); the loader admits only RE2-compatible patterns.
            pattern = re.compile(params["regex"])
            return lambda row, _now: (value := row.get(name)) is None or pattern.search(value) is not None
        if rule.kind == "freshness" and logical in ("timestamp", "date"):
            max_age = parse_duration(params["max_age"]) // MICROSECOND
            scale = 1 if logical == "timestamp" else DAY_MICROS  # stored: microseconds, or days (midnight UTC)
            return lambda row, now: (value := row.get(name)) is not None and value * scale >= now - max_age
        return None
