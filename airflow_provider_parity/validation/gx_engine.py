"""Run a contract's ExpectationSuite with Great Expectations 1.x on an ephemeral context.

Two passes keep the clean case fast: the whole suite runs with ``BOOLEAN_ONLY``
(GX computes no unexpected-value lists), and only the expectations that failed run
again with ``SUMMARY`` to say what was observed.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.gx import to_expectation_suite
from airflow_provider_parity.contracts.model import Contract, Environment
from airflow_provider_parity.contracts.rules import Rule, compile_rules
from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.validation.result import (
    RuleResult,
    describe_unexpected,
    json_safe,
)

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SAMPLE_SIZE = 5


def to_pandas(table: pa.Table, contract: Contract) -> pd.DataFrame:
    """A DataFrame GX can compare: dates and timestamps as UTC-aware datetimes.

    Naive timestamps are read as UTC (documented in the README), so that contract
    bounds, which are UTC, compare without a timezone error.
    """
    import pandas as pd

    df = table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=False)
    for col in contract.columns:
        if col.type in ("date", "timestamp") and col.name in df.columns:
            series = pd.to_datetime(df[col.name])
            df[col.name] = series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
    return df


def _context() -> Any:
    # GX reports usage to its own servers unless told not to; this project never sends traffic out.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # GX hashes every in-memory DataFrame under 1 GB (a full pass over the data, again on
    # each validate call) for a batch marker this project never reads: at 10M rows that
    # doubled the gate's time. The constant is GX's own switch for skipping it.
    from great_expectations.execution_engine import pandas_execution_engine

    if hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        pandas_execution_engine.HASH_THRESHOLD = 0

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False))
    return gx.get_context(mode="ephemeral", project_config=config)


def _observed(rule: Rule, result: dict[str, Any]) -> tuple[str, int | None, float | None, list[Any]]:
    if rule.kind in ("row_count", "freshness"):
        return f"{'row count' if rule.kind == 'row_count' else 'newest'} {result.get('observed_value')}", None, None, []
    count = result.get("unexpected_count")
    # As the other engines: null rules and compound keys over all rows, value rules over non-null rows.
    total = rule.kind in ("not_null", "completeness", "compound_unique")
    pct = result.get("unexpected_percent_total" if total else "unexpected_percent", result.get("unexpected_percent"))
    fraction = None if pct is None else float(pct) / 100.0
    # A null is its own sample for null rules; samples only show offending values.
    offending = [] if rule.kind in ("not_null", "completeness") else result.get("partial_unexpected_list") or []
    sample = [json_safe(v) for v in offending[:SAMPLE_SIZE]]
    return describe_unexpected(rule.kind, count, fraction, sample), count, fraction, sample


def run_suite(contract: Contract, table: pa.Table, *, environment: Environment | None = None,
              now: datetime | None = None, references: Any = None) -> list[RuleResult]:
    """Validate ``table`` with Great Expectations and return one result per contract rule.

    Raises:
        DataError: an expectation could not be evaluated on this data.
    """
    import great_expectations as gx

    context = _context()
    asset = context.data_sources.add_pandas("parity").add_dataframe_asset(contract.dataset.name)
    batch = asset.add_batch_definition_whole_dataframe("batch").get_batch(
        batch_parameters={"dataframe": to_pandas(table, contract)})
    # {} rather than None: a foreign key without its parent is bad input here, not left out as in an export.
    suite = to_expectation_suite(contract, environment, now=now, references=references or {})
    rules = {rule.id: rule for rule in compile_rules(contract, environment)}

    quick = batch.validate(suite, result_format="BOOLEAN_ONLY")
    for res in quick.results:
        if res.exception_info and res.exception_info.get("raised_exception"):
            rule_id = res.expectation_config.meta.get("parity_rule")
            message = str(res.exception_info.get("exception_message")).splitlines()[0]
            raise DataError(f"rule {rule_id} could not be evaluated: {message}")
    # Details for failures, and for rules with a tolerance: passing them does not mean no offending rows,
    # and the count must be the one the other engines report.
    tolerant = {rule_id for rule_id, rule in rules.items() if rule.mostly < 1.0}
    failed = [r.expectation_config for r in quick.results
              if not r.success or r.expectation_config.meta["parity_rule"] in tolerant]
    details: dict[str, dict[str, Any]] = {}
    if failed:
        detail_suite = gx.ExpectationSuite(name=f"{suite.name}.failures",
                                           expectations=[config.to_domain_obj() for config in failed])
        detailed = batch.validate(detail_suite, result_format={"result_format": "SUMMARY",
                                                               "partial_unexpected_count": SAMPLE_SIZE})
        details = {r.expectation_config.meta["parity_rule"]: dict(r.result) for r in detailed.results}

    outcome = {r.expectation_config.meta["parity_rule"]: bool(r.success) for r in quick.results}
    results = []
    for rule_id, rule in rules.items():
        success = outcome[rule_id]
        if rule_id in details:
            observed, count, fraction, sample = _observed(rule, details[rule_id])
        elif rule.kind in ("row_count", "freshness"):  # table rules count no rows, in every engine
            observed, count, fraction, sample = "as expected", None, None, []
        else:
            observed, count, fraction, sample = "as expected", 0, 0.0, []
        results.append(RuleResult(rule=rule_id, kind=rule.kind, column=rule.column, success=success,
                                  expected=rule.expected, observed=observed, unexpected_count=count,
                                  unexpected_fraction=fraction, sample=sample))
    return results
