"""Compile a contract to a Great Expectations 1.x ExpectationSuite.

Each expectation carries ``meta.parity_rule`` (the rule id), so a validation result
maps back to the contract rule that produced it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.model import (
    Contract,
    Environment,
    parse_duration,
)
from airflow_provider_parity.contracts.rules import Rule, compile_rules

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.expectations import Expectation


def _as_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value


def expectation_for(rule: Rule, *, now: datetime | None = None, temporal: bool = False,
                    references: Any = None) -> Expectation:
    """The Great Expectations expectation that checks ``rule``.

    Args:
        rule: a compiled contract rule.
        now: the reference time for freshness (default: now, UTC).
        temporal: the rule's column holds dates or timestamps, so bounds are parsed as such.
        references: parent data of a ``references`` rule, by dataset name. GX has no cross-table
            expectation: the foreign key becomes "values in the parent's key set", which counts
            the same rows as an anti-join (nulls never offend).
    """
    import great_expectations.expectations as gxe

    meta = {"parity_rule": rule.id}
    p = rule.params
    col = rule.column or ""
    if rule.kind in ("not_null", "completeness"):
        return gxe.ExpectColumnValuesToNotBeNull(column=col, mostly=rule.mostly, meta=meta)
    if rule.kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=col, meta=meta)
    if rule.kind == "between":
        conv = _as_datetime if temporal else (lambda v: v)
        return gxe.ExpectColumnValuesToBeBetween(column=col, min_value=conv(p.get("min")),
                                                 max_value=conv(p.get("max")), mostly=rule.mostly, meta=meta)
    if rule.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=col, value_set=p["values"], mostly=rule.mostly, meta=meta)
    if rule.kind == "references":
        from airflow_provider_parity.validation.references import parent_keys

        return gxe.ExpectColumnValuesToBeInSet(column=col, value_set=parent_keys(references, rule).to_pylist(),
                                               meta=meta)
    if rule.kind == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(column=col, regex=p["regex"], mostly=rule.mostly, meta=meta)
    if rule.kind == "compound_unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=p["columns"], meta=meta)
    if rule.kind == "row_count":
        return gxe.ExpectTableRowCountToBeBetween(min_value=p.get("min"), max_value=p.get("max"), meta=meta)
    if rule.kind == "freshness":
        oldest_allowed = (now or datetime.now(UTC)) - parse_duration(p["max_age"])
        return gxe.ExpectColumnMaxToBeBetween(column=col, min_value=oldest_allowed, meta=meta)
    raise ValueError(f"no expectation for rule kind {rule.kind!r}")


def to_expectation_suite(contract: Contract, environment: Environment | None = None, *,
                         now: datetime | None = None, references: Any = None) -> gx.ExpectationSuite:
    """The contract as an ExpectationSuite named ``<dataset>.<environment or all>``.

    Column existence becomes ``ExpectColumnToExist``; logical types are checked on the
    Arrow schema before validation (pandas dtypes cannot tell a date from a string).
    A foreign key needs its parent's keys: with ``references=None`` (an export, ``parity contract
    gx``) its rules are left out and listed in the suite's ``meta.parity_unchecked``.

    Example:
        >>> suite = to_expectation_suite(load_contract("customer_features.yaml"), "serving")
        >>> [e.expectation_type for e in suite.expectations][:2]
        ['expect_column_to_exist', 'expect_column_to_exist']
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    temporal = {c.name for c in contract.columns if c.type in ("date", "timestamp")}
    expectations: list[Expectation] = [
        gxe.ExpectColumnToExist(column=col.name, meta={"parity_rule": f"exists({col.name})"})
        for col in contract.columns_for(environment)
    ]
    rules = compile_rules(contract, environment)
    unchecked = [r.id for r in rules if r.kind == "references" and references is None]
    expectations += [expectation_for(rule, now=now, temporal=rule.column in temporal, references=references)
                     for rule in rules if rule.id not in unchecked]
    meta: dict[str, Any] = {"parity_contract": contract.ref, "parity_contract_hash": contract.fingerprint}
    if unchecked:
        meta["parity_unchecked"] = unchecked
    # Built in one go: add_expectation() would need an active data context.
    return gx.ExpectationSuite(
        name=f"{contract.dataset.name}.{environment or 'all'}",
        expectations=expectations,
        meta=meta,
    )
