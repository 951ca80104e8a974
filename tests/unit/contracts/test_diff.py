"""Contract diff: each change classified breaking or compatible, and the version policy applied."""

from __future__ import annotations

import pytest

from airflow_provider_parity.contracts.diff import diff_contracts
from airflow_provider_parity.contracts.loader import contract_from_text

BASE = """dataset: {name: orders, owner: team, version: VERSION}
columns:
  - {name: id, type: integer, nullable: false}
  - {name: amount, type: integer, nullable: true, constraints: {min: 0, max: 100}}
  - {name: status, type: string, constraints: {allowed_values: [new, paid, shipped]}}
"""


def _c(text: str, version: str = "1.0.0"):  # type: ignore[no-untyped-def]
    return contract_from_text(text.replace("VERSION", version))


@pytest.mark.parametrize("old_line, new_line, kind, breaking", [
    ("{name: amount, type: integer, nullable: true, constraints: {min: 0, max: 100}}", None, "column_removed", True),
    ("type: integer, nullable: true", "type: float, nullable: true", "type_changed", False),
    ("{name: id, type: integer, nullable: false}", "{name: id, type: string, nullable: false}", "type_changed", True),
    ("nullable: true, constraints", "nullable: false, constraints", "nullability_tightened", True),
    ("{min: 0, max: 100}", "{min: 0, max: 50}", "range_narrowed", True),
    ("{min: 0, max: 100}", "{min: -10, max: 100}", "range_widened", False),
    ("[new, paid, shipped]", "[new, paid]", "allowed_values_changed", True),
    ("[new, paid, shipped]", "[new, paid, shipped, returned]", "allowed_values_changed", False),
])
def test_change_classification(old_line, new_line, kind, breaking):
    old = _c(BASE)
    if new_line is None:
        new_text = "\n".join(line for line in BASE.splitlines() if old_line not in line) + "\n"
    else:
        new_text = BASE.replace(old_line, new_line)
    diff = diff_contracts(old, _c(new_text))
    assert [(c.kind, c.breaking) for c in diff.changes] == [(kind, breaking)]


def test_adding_a_nullable_column_is_compatible_and_a_required_one_breaks():
    old = _c(BASE)
    diff = diff_contracts(old, _c(BASE + "  - {name: note, type: string}\n"))
    assert [(c.kind, c.breaking) for c in diff.changes] == [("column_added", False)]
    diff = diff_contracts(old, _c(BASE + "  - {name: note, type: string, nullable: false}\n"))
    assert [(c.kind, c.breaking) for c in diff.changes] == [("column_added", True)]


def test_breaking_change_needs_a_major_bump():
    old = _c(BASE)
    narrowed = BASE.replace("{min: 0, max: 100}", "{min: 0, max: 50}")
    assert not diff_contracts(old, _c(narrowed, "1.1.0")).version_ok
    assert diff_contracts(old, _c(narrowed, "2.0.0")).version_ok
    assert diff_contracts(old, _c(BASE, "1.0.1")).version_ok


def test_identical_contracts_have_no_changes():
    diff = diff_contracts(_c(BASE), _c(BASE))
    assert diff.changes == [] and diff.version_ok
