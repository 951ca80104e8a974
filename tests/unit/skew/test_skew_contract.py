"""The contract's skew fields: loader checks, the ODCS round trip, and fingerprints of contracts without them."""

from __future__ import annotations

import pytest

from airflow_provider_parity.contracts.loader import contract_from_text


def _with(example_contract_path, column_extra: str = "", tail: str = "") -> str:
    text = example_contract_path.read_text()
    return text.replace("  - name: avg_ticket_30d\n", "  - name: avg_ticket_30d\n" + column_extra) + tail


def test_a_contract_without_skew_fields_keeps_its_fingerprint(example_contract):
    # Recorded in MLflow tags: adding the skew gate must not change every existing contract's hash.
    assert "skew" not in example_contract.canonical_dict()
    assert all("skew_tolerance" not in c for c in example_contract.canonical_dict()["columns"])
    assert example_contract.skew_policy.max_mismatch_rate == 0.0


def test_skew_fields_survive_the_odcs_round_trip(example_contract_path):
    pytest.importorskip("open_data_contract_standard")
    from airflow_provider_parity.contracts.odcs import from_odcs, to_odcs

    contract = contract_from_text(_with(example_contract_path, "    skew_tolerance: {absolute: 0.01}\n",
                                        "skew:\n  max_mismatch_rate: 0.001\n  exclude: [plan]\n"))
    back = from_odcs(to_odcs(contract))
    assert back.fingerprint == contract.fingerprint
    assert back.column("avg_ticket_30d").skew_tolerance == contract.column("avg_ticket_30d").skew_tolerance
    assert back.skew == contract.skew and back.skew is not None and back.skew.exclude == ["plan"]
    exact = contract_from_text(_with(example_contract_path, "    skew_tolerance: {}\n"))
    assert from_odcs(to_odcs(exact)).fingerprint == exact.fingerprint


@pytest.mark.parametrize(("column_extra", "tail", "message"), [
    ("    skew_tolerance: {absolute: -1}\n", "", "greater than or equal to 0"),
    ("    skew_tolerance: {absolut: 1}\n", "", "unknown key"),
    ("", "skew: {max_mismatch_rate: 2}\n", "less than or equal to 1"),
    ("", "skew: {exclude: [nope]}\n", "column 'nope' is not declared"),
])
def test_the_loader_names_the_line_and_field_of_a_bad_skew_setting(example_contract_path, column_extra, tail, message):
    from airflow_provider_parity.exceptions import ContractError

    with pytest.raises(ContractError, match=message) as info:
        contract_from_text(_with(example_contract_path, column_extra, tail), "c.yaml")
    assert info.value.line is not None and "skew" in (info.value.field or "")
