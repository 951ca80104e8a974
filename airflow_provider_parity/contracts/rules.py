"""A contract compiled to rules: the one intermediate form every gate is built from.

Great Expectations suites, dbt tests and the in-process serving check are each a
rendering of this list, so the three can never disagree about what the contract says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from airflow_provider_parity.contracts.model import Column, Contract, Environment
from airflow_provider_parity.exceptions import shorten

RuleKind = Literal[
    "not_null", "unique", "between", "in_set", "regex", "compound_unique", "row_count", "completeness", "freshness",
    "references",
]


@dataclass(frozen=True)
class Rule:
    """One check the contract demands.

    ``mostly`` is the fraction of rows that must pass (1.0 = all of them), as in
    Great Expectations; it comes from the contract's tolerances or completeness SLO.
    """

    kind: RuleKind
    column: str | None
    params: dict[str, Any] = field(default_factory=dict)
    mostly: float = 1.0

    @property
    def id(self) -> str:
        target = self.column or ",".join(self.params.get("columns", [])) or "table"
        return f"{self.kind}({target})"

    @property
    def expected(self) -> str:
        """What passing means, in words a failure message can quote."""
        p = self.params
        allowance = f" (at least {self.mostly:.2%} of rows)" if self.mostly < 1.0 else ""
        text = {
            "not_null": "no nulls",
            "unique": "unique values",
            "between": f"values within [{p.get('min', '-inf')}, {p.get('max', 'inf')}]",
            "in_set": f"values in {shorten(str(p.get('values')), 300)}",
            "regex": f"values matching /{p.get('regex')}/",
            "compound_unique": f"unique combinations of {p.get('columns')}",
            "row_count": f"row count within [{p.get('min', 0)}, {p.get('max', 'inf')}]",
            "completeness": f"non-null ratio >= {self.mostly}",
            "freshness": f"newest value no older than {p.get('max_age')}",
            "references": f"values present in {p.get('dataset')}.{p.get('column')}",
        }[self.kind]
        return text if self.kind == "completeness" else text + allowance


def _bound(value: Any) -> Any:
    # Dates stay ISO strings in rules so that rules are JSON (XCom, dbt YAML, reports).
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _column_rules(contract: Contract, col: Column) -> list[Rule]:
    tol = contract.tolerances_for(col)
    mostly_valid = 1.0 - tol.max_invalid_fraction
    cons = col.constraints
    rules = []
    if not col.nullable:
        rules.append(Rule("not_null", col.name, mostly=1.0 - tol.max_null_fraction))
    if cons.unique:
        rules.append(Rule("unique", col.name))
    if cons.min is not None or cons.max is not None:
        bounds = {k: _bound(v) for k, v in (("min", cons.min), ("max", cons.max)) if v is not None}
        rules.append(Rule("between", col.name, bounds, mostly=mostly_valid))
    if cons.allowed_values is not None:
        rules.append(Rule("in_set", col.name, {"values": list(cons.allowed_values)}, mostly=mostly_valid))
    if cons.regex is not None:
        rules.append(Rule("regex", col.name, {"regex": cons.regex}, mostly=mostly_valid))
    if cons.references is not None:
        dataset, _, column = cons.references.rpartition(".")
        rules.append(Rule("references", col.name, {"dataset": dataset, "column": column}))
    return rules


def compile_rules(contract: Contract, environment: Environment | None = None) -> list[Rule]:
    """Every rule of ``contract`` for data seen in ``environment``.

    Schema (columns present, types) is not a rule: it is checked before any rule
    runs, because a missing column or a wrong type is bad input, not bad values.

    Args:
        contract: the data contract.
        environment: ``"training"`` or ``"serving"`` to leave out one-sided columns;
            None keeps every column.

    Returns:
        Rules in a stable order: per column, then table-level rules.
    """
    rules = [rule for col in contract.columns_for(environment) for rule in _column_rules(contract, col)]
    present = {c.name for c in contract.columns_for(environment)}
    for name, ratio in contract.completeness.items():
        if name in present:
            rules.append(Rule("completeness", name, mostly=ratio))
    pk = [c for c in contract.primary_key if c in present]
    if len(pk) > 1:
        rules.append(Rule("compound_unique", None, {"columns": pk}))
    elif pk and not contract.column(pk[0]).constraints.unique:
        rules.append(Rule("unique", pk[0]))
    if contract.row_count is not None:
        bounds = {k: v for k, v in (("min", contract.row_count.min), ("max", contract.row_count.max)) if v is not None}
        rules.append(Rule("row_count", None, bounds))
    fresh = contract.freshness
    if fresh is not None and fresh.column and fresh.column in present:
        rules.append(Rule("freshness", fresh.column, {"max_age": fresh.max_age}))
    return rules
