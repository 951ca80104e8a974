"""The contract's ``slos`` section: impossible values named by file, line and field; ODCS keeps it."""

from __future__ import annotations

import pytest

from airflow_provider_parity.contracts.loader import ContractErrors, contract_from_text
from airflow_provider_parity.contracts.model import DAILY_BURN_RATES
from airflow_provider_parity.exceptions import ContractError

HEAD = """dataset: {name: orders, owner: team, version: 1.0.0}
columns:
  - name: id
    type: integer
    nullable: false
  - name: at
    type: timestamp
freshness: {column: at, max_age: 26h}
completeness: {id: 0.99}
slos:
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(ContractError) as info:
        contract_from_text(text, "c.yaml")
    err = info.value
    return [str(e) for e in err.errors] if isinstance(err, ContractErrors) else [str(err)]


def test_slos_load_with_daily_burn_rates_by_default(example_contract) -> None:
    contract = contract_from_text(HEAD + "  freshness: {objective: 0.995}\n  gate_pass_rate: {objective: 0.99, window: 30d}\n")
    assert contract.slos is not None
    assert list(contract.slos.objectives()) == ["freshness", "gate_pass_rate"]
    assert contract.slos.freshness is not None and contract.slos.freshness.window == "28d"
    assert contract.slos.alerts() == DAILY_BURN_RATES
    assert example_contract.slos is not None and set(example_contract.slos.objectives()) == {
        "freshness", "completeness", "gate_pass_rate"}


def test_a_contract_without_slos_keeps_its_fingerprint() -> None:
    plain = contract_from_text(HEAD.removesuffix("slos:\n"))
    assert "slos" not in plain.canonical_dict()
    with_slos = contract_from_text(HEAD + "  freshness: {objective: 0.995}\n")
    assert with_slos.fingerprint != plain.fingerprint


@pytest.mark.parametrize("body, expected", [
    ("  freshness: {objective: 1.0}\n", "c.yaml:11: slos.freshness.objective: an objective is a share of good events"),
    ("  completeness: {objective: 0}\n", "c.yaml:11: slos.completeness.objective: an objective is a share"),
    ("  gate_pass_rate: {objective: -0.5}\n", "c.yaml:11: slos.gate_pass_rate.objective: an objective"),
    ("  freshness: {objective: 0.99, window: a month}\n", "c.yaml:11: slos.freshness.window: invalid duration"),
    ("  freshness: {objective: 0.99, window: 7d}\n",
     "c.yaml:11: slos.freshness.window: window 7d is shorter than the 14d burn-rate window"),
    ("  freshness: {objective: 0.99, windw: 7d}\n", "c.yaml:11: slos.freshness.windw: unknown key"),
    ("  latency: {objective: 0.99}\n", "c.yaml:11: slos.latency: unknown key"),
    ("  burn_rates:\n    - {severity: page, factor: 14.4, long: 1h, short: 1h}\n",
     "c.yaml:12: slos.burn_rates[0].short: the short window 1h must be shorter than the long window 1h"),
    ("  burn_rates:\n    - {severity: page, factor: 0, long: 1h, short: 5m}\n",
     "c.yaml:12: slos.burn_rates[0].factor: Input should be greater than 0"),
    ("  burn_rates:\n    - {severity: page, factor: 14.4, long: 60d, short: 1d}\n  freshness: {objective: 0.99}\n",
     "c.yaml:13: slos.freshness.window: window 28d is shorter than the 60d burn-rate window"),
])
def test_impossible_slos_name_file_line_and_field(body: str, expected: str) -> None:
    errors = _errors(HEAD + body)
    assert any(e.startswith(expected) for e in errors), errors


def test_an_slo_needs_what_it_measures() -> None:
    bare = HEAD.replace("freshness: {column: at, max_age: 26h}\ncompleteness: {id: 0.99}\n", "")
    errors = _errors(bare + "  freshness: {objective: 0.99}\n  completeness: {objective: 0.99}\n")
    assert any(e.startswith("c.yaml:9: slos.freshness: a freshness SLO needs") for e in errors), errors
    assert any(e.startswith("c.yaml:10: slos.completeness: a completeness SLO needs") for e in errors), errors


def test_hourly_burn_rates_allow_short_windows() -> None:
    contract = contract_from_text(HEAD + "  burn_rates:\n    - {severity: page, factor: 14.4, long: 1h, short: 5m}\n"
                                  "  freshness: {objective: 0.999, window: 2d}\n")
    assert contract.slos is not None and contract.slos.alerts()[0].short_delta.total_seconds() == 300


def test_odcs_round_trip_keeps_slos(example_contract) -> None:
    pytest.importorskip("open_data_contract_standard")
    from airflow_provider_parity.contracts.odcs import from_odcs, to_odcs

    custom = contract_from_text(HEAD + "  burn_rates:\n    - {severity: ticket, factor: 2, long: 2d, short: 6h}\n"
                                "  completeness: {objective: 0.999, window: 7d}\n")
    for contract in (example_contract, custom):
        back = from_odcs(to_odcs(contract))
        assert back.slos == contract.slos and back.fingerprint == contract.fingerprint
