"""Property tests: on arbitrary input the contract loader and the drift and validation engines either
work or raise one of the project's own errors (``ParityError``): never a ``KeyError`` or an Arrow
exception that the CLI could only report as an internal error.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_provider_parity.contracts.loader import contract_from_text
from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.contracts.rules import compile_rules
from airflow_provider_parity.drift.gate import run_drift
from airflow_provider_parity.exceptions import ParityError
from airflow_provider_parity.validation import check_batch, validate_table

# 60 examples keep the file to seconds; PARITY_HYPOTHESIS_EXAMPLES=1000 searches harder.
SETTINGS = settings(max_examples=int(os.environ.get("PARITY_HYPOTHESIS_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --- the contract loader -----------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.dates(), st.datetimes(timezones=st.just(UTC)),
)
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)

VALID: dict[str, Any] = {
    "dataset": {"name": "x", "owner": "team", "version": "1.0.0"},
    "columns": [
        {"name": "id", "type": "integer", "nullable": False, "constraints": {"min": 0, "max": 10}},
        {"name": "plan", "type": "string", "constraints": {"allowed_values": ["a", "b"], "regex": "^[a-z]$"}},
        {"name": "at", "type": "timestamp"},
    ],
    "primary_key": ["id"],
    "freshness": {"max_age": "1d", "column": "at"},
    "drift": {"min_rows": 10},
}
KEYS = ["dataset", "columns", "primary_key", "freshness", "drift", "completeness", "row_count", "min", "max",
        "allowed_values", "regex", "type", "name", "nullable", "max_age", "constraints", "tolerances"]


def _mutate(document: Any, path: list[int], value: Any, key: str) -> Any:
    """``document`` with one value (chosen by ``path``) replaced or one key added."""
    if not path or not isinstance(document, dict | list) or not document:
        return {**document, key: value} if isinstance(document, dict) else value
    if isinstance(document, dict):
        name = sorted(document)[path[0] % len(document)]
        return {**document, name: _mutate(document[name], path[1:], value, key)}
    index = path[0] % len(document)
    return [*document[:index], _mutate(document[index], path[1:], value, key), *document[index + 1:]]


def _load(text: str) -> None:
    try:
        contract = contract_from_text(text, "c.yaml")
    except ParityError:
        return
    assert isinstance(contract, Contract)
    compile_rules(contract)  # a contract that loads compiles
    for column in contract.columns:
        for bound in (column.constraints.min, column.constraints.max):
            assert not (isinstance(bound, float) and not math.isfinite(bound))


@SETTINGS
@given(st.text(max_size=200))
def test_the_loader_on_any_text(text: str) -> None:
    _load(text)


@SETTINGS
@given(documents)
def test_the_loader_on_any_yaml_document(document: Any) -> None:
    _load(yaml.safe_dump(document, allow_unicode=True))


@SETTINGS
@given(st.lists(st.integers(0, 50), min_size=0, max_size=5), documents, st.sampled_from(KEYS))
def test_the_loader_on_a_contract_with_one_value_changed(path: list[int], value: Any, key: str) -> None:
    _load(yaml.safe_dump(_mutate(VALID, path, value, key), allow_unicode=True))


# --- arbitrary Arrow tables -------------------------------------------------------------

TYPES: dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]] = {
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "int8": (pa.int8(), st.integers(-128, 127)),
    "float64": (pa.float64(), st.floats()),
    "float32": (pa.float32(), st.floats(width=32)),
    "string": (pa.string(), st.text(max_size=6)),
    "bool": (pa.bool_(), st.booleans()),
    "timestamp": (pa.timestamp("us", tz="UTC"),
                  st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))),
    "naive_ns": (pa.timestamp("ns"), st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2250, 1, 1))),
    "date": (pa.date32(), st.dates(min_value=date(1, 1, 1))),
    "null": (pa.null(), st.none()),
}
NAMES = ["id", "plan", "at", "score", "x"]


@st.composite
def tables(draw: st.DrawFn, max_rows: int = 25) -> pa.Table:
    rows = draw(st.integers(0, max_rows))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    columns = {}
    for name in names:
        kind, values = TYPES[draw(st.sampled_from(sorted(TYPES)))]
        data = draw(st.lists(st.one_of(st.none(), values), min_size=rows, max_size=rows))
        array = pa.array(data, type=kind)
        if pa.types.is_string(kind) and draw(st.booleans()):
            array = array.dictionary_encode()
        columns[name] = array
    return pa.table(columns)


@SETTINGS
@given(tables(), tables(), st.sampled_from([None, "plan", "x"]))
def test_drift_on_any_two_tables(reference: pa.Table, current: pa.Table, segment_by: str | None) -> None:
    try:
        result, _ = run_drift(reference, current, segment_by=segment_by)
    except ParityError:
        return
    assert result.verdict in ("passed", "failed", "insufficient_data", "no_baseline")


CONTRACT = contract_from_text(yaml.safe_dump(VALID), "c.yaml")


@SETTINGS
@given(tables())
def test_arrow_validation_on_any_table(table: pa.Table) -> None:
    try:
        result = validate_table(CONTRACT, table, source="t", engine="arrow", now=datetime(2026, 1, 1, tzinfo=UTC))
    except ParityError:
        return
    assert result.status in ("passed", "failed", "warned")


@SETTINGS
@given(tables(), st.sampled_from([None, "serving", "training"]), st.booleans())
def test_the_serving_check_on_any_batch(table: pa.Table, environment: Any, dataset_rules: bool) -> None:
    try:
        result = check_batch(CONTRACT, table, environment=environment, dataset_rules=dataset_rules,
                             now=datetime(2026, 1, 1, tzinfo=UTC))
    except ParityError:
        return
    assert result.row_count == table.num_rows


@pytest.mark.parametrize("text", ["a: &a [*a]", "!!python/name:os.system x", "[" * 3000])
def test_documents_a_safe_loader_refuses_are_contract_errors(text: str) -> None:
    with pytest.raises(ParityError):
        contract_from_text(text, "c.yaml")
