"""The contract's rules evaluated with Arrow compute: the check at the serving boundary.

Same rules as the Great Expectations suite (both come from ``compile_rules``), but no
context, no pandas conversion: cheap enough to run on every request batch.

Example:
    >>> from airflow_provider_parity.validation import check_batch
    >>> result = check_batch(contract, {"customer_id": ["C1"], "tenure_days": [-3]})
    >>> [r.rule for r in result.failures]
    ['between(tenure_days)']
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.model import (
    Contract,
    Environment,
    parse_duration,
)
from airflow_provider_parity.contracts.rules import Rule, compile_rules
from airflow_provider_parity.validation.preflight import schema_results
from airflow_provider_parity.validation.references import References, parent_keys
from airflow_provider_parity.validation.result import (
    RuleResult,
    ValidationResult,
    describe_unexpected,
    json_safe,
)

if TYPE_CHECKING:
    import pyarrow as pa

SAMPLE_SIZE = 5


def _scalar(value: Any, arrow_type: pa.DataType) -> Any:
    """A contract bound as an Arrow scalar of the column's type (ISO strings for dates)."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_timestamp(arrow_type):
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if arrow_type.tz is None:
            moment = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        elif moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return pa.scalar(moment, type=arrow_type)
    if t.is_date(arrow_type):
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return pa.scalar(day, type=arrow_type)
    return value


def _offending(rule: Rule, arr: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """A boolean mask of the rows that break a value rule (nulls are not offending here)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    p = rule.params
    if pa.types.is_null(arr.type):  # a column of nulls only: no value to offend (not_null counts them)
        return None
    if pa.types.is_dictionary(arr.type):  # dictionary-encoded strings: compare their values
        arr = arr.cast(arr.type.value_type)
    if rule.kind == "between":
        masks = []
        if "min" in p:
            masks.append(pc.less(arr, _scalar(p["min"], arr.type)))
        if "max" in p:
            masks.append(pc.greater(arr, _scalar(p["max"], arr.type)))
        return masks[0] if len(masks) == 1 else pc.or_(masks[0], masks[1])
    if rule.kind == "in_set":
        # is_in says False for a null row: without the validity mask a null would count as offending.
        return pc.and_(pc.is_valid(arr), pc.invert(pc.is_in(arr, value_set=pa.array(p["values"], type=arr.type))))
    if rule.kind == "regex":
        return pc.invert(pc.match_substring_regex(arr, pattern=p["regex"]))
    return None


def _orphans(arr: pa.ChunkedArray, references: References | None, rule: Rule) -> pa.ChunkedArray:
    """Rows whose non-null value the parent's key column lacks (a foreign key's offenders)."""
    import pyarrow.compute as pc

    keys = parent_keys(references, rule, arr.type)
    return pc.and_(pc.is_valid(arr), pc.invert(pc.is_in(arr, value_set=keys)))


def _duplicates(table: pa.Table, columns: list[str]) -> int:
    counts = table.select(columns).group_by(columns).aggregate([([], "count_all")])
    import pyarrow.compute as pc

    repeated = pc.filter(counts["count_all"], pc.greater(counts["count_all"], 1))
    return int(pc.sum(repeated).as_py() or 0)


def _evaluate(rule: Rule, table: pa.Table, now: datetime, references: References | None = None) -> RuleResult:
    import pyarrow.compute as pc

    n = table.num_rows
    count: int = 0
    fraction = 0.0
    sample: list[Any] = []
    base: dict[str, Any] = {"rule": rule.id, "kind": rule.kind, "column": rule.column, "expected": rule.expected}
    if rule.kind == "row_count":
        lo, hi = rule.params.get("min", 0), rule.params.get("max", float("inf"))
        return RuleResult(**base, success=lo <= n <= hi, observed=f"row count {n}")
    if rule.kind == "compound_unique":
        count = _duplicates(table, rule.params["columns"])
        fraction = count / n if n else 0.0
        return RuleResult(**base, success=count == 0, observed=describe_unexpected(rule.kind, count, fraction, []),
                          unexpected_count=count, unexpected_fraction=fraction)
    column = str(rule.column)
    arr = table.column(column)
    non_null = n - arr.null_count
    if rule.kind == "freshness":
        newest = pc.max(arr).as_py()
        oldest_allowed = now - parse_duration(rule.params["max_age"])
        if isinstance(newest, datetime) and newest.tzinfo is None:
            newest = newest.replace(tzinfo=UTC)
        elif isinstance(newest, date) and not isinstance(newest, datetime):
            newest = datetime(newest.year, newest.month, newest.day, tzinfo=UTC)
        ok = newest is not None and newest >= oldest_allowed
        return RuleResult(**base, success=ok, observed=f"newest {newest}")
    if rule.kind in ("not_null", "completeness"):
        count = arr.null_count
        fraction = count / n if n else 0.0
        return RuleResult(**base, success=(1.0 - fraction) >= rule.mostly,
                          observed=describe_unexpected(rule.kind, count, fraction, []),
                          unexpected_count=count, unexpected_fraction=fraction)
    if rule.kind == "unique":
        count = _duplicates(table.filter(pc.is_valid(arr)), [column]) if non_null else 0
        fraction = count / non_null if non_null else 0.0
        return RuleResult(**base, success=count == 0, observed=describe_unexpected(rule.kind, count, fraction, []),
                          unexpected_count=count, unexpected_fraction=fraction)
    mask = _orphans(arr, references, rule) if rule.kind == "references" else _offending(rule, arr)
    if mask is not None:
        count = int(pc.sum(mask).as_py() or 0)
        fraction = count / non_null if non_null else 0.0
        if count:
            sample = pc.filter(arr, mask).slice(0, SAMPLE_SIZE).to_pylist()
            sample = [json_safe(v) for v in sample]
    return RuleResult(**base, success=(1.0 - fraction) >= rule.mostly,
                      observed=describe_unexpected(rule.kind, count, fraction, sample),
                      unexpected_count=count, unexpected_fraction=fraction, sample=sample)


def to_arrow(batch: Any) -> pa.Table:
    """An Arrow table from a pyarrow Table or RecordBatch, a pandas DataFrame, or a dict of lists."""
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        return batch
    if isinstance(batch, pa.RecordBatch):
        return pa.Table.from_batches([batch])
    if isinstance(batch, dict):
        return pa.table(batch)
    return pa.Table.from_pandas(batch, preserve_index=False)


def evaluate_rules(contract: Contract, table: pa.Table, *, environment: Environment | None = None,
                   now: datetime | None = None, kinds: frozenset[str] | None = None,
                   references: References | None = None) -> list[RuleResult]:
    """Evaluate the contract's rules on ``table`` (whose schema is already known to match).

    ``kinds``: rule kinds to leave out (None: evaluate every rule). ``references``: parent data
    of ``references`` rules, by dataset name.
    """
    moment = now or datetime.now(UTC)
    skipped = kinds or frozenset()
    return [_evaluate(rule, table, moment, references) for rule in compile_rules(contract, environment)
            if rule.kind not in skipped]


# Properties of a whole dataset, not of a batch of requests: a request log repeats customers,
# and one request is not "fewer than 100 rows".
# A foreign key needs the parent dataset, which a request does not carry.
DATASET_RULES = frozenset({"unique", "compound_unique", "row_count", "completeness", "references"})


def check_batch(contract: Contract, batch: Any, *, environment: Environment | None = "serving",
                now: datetime | None = None, source: str = "serving batch",
                dataset_rules: bool = False) -> ValidationResult:
    """Check one batch against ``contract`` and report every problem as data, never by raising.

    Missing features and wrong types come back as failed ``schema`` results; the value
    rules run only when the schema matches.

    Args:
        contract: the dataset's contract.
        batch: a pyarrow Table/RecordBatch, a pandas DataFrame or a dict of lists.
        environment: which side's columns to expect (``"serving"`` drops training-only labels).
        now: reference time for freshness.
        source: how the batch is named in the result.
        dataset_rules: also check uniqueness, row count and completeness, which describe a whole
            dataset (a day of features), not a batch of requests; off at the serving boundary.
    """
    started = time.perf_counter()
    table = to_arrow(batch)
    rules = schema_results(contract, table.schema, environment=environment)
    if not rules:
        rules = evaluate_rules(contract, table, environment=environment, now=now,
                               kinds=None if dataset_rules else DATASET_RULES)
    return ValidationResult(contract=contract.ref, contract_hash=contract.fingerprint, source=source,
                            engine="arrow", row_count=table.num_rows, rules=rules, environment=environment,
                            duration_seconds=time.perf_counter() - started)
