"""Loading contracts: a bad contract is rejected naming the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_parity.contracts.loader import ContractErrors, contract_from_text, load_contract
from airflow_provider_parity.exceptions import ContractError

HEAD = """dataset: {name: orders, owner: team, version: 1.0.0}
columns:
  - name: id
    type: integer
    nullable: false
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(ContractError) as info:
        contract_from_text(text, "c.yaml")
    err = info.value
    return [str(e) for e in err.errors] if isinstance(err, ContractErrors) else [str(err)]


def test_example_contract_loads(example_contract):
    assert example_contract.dataset.name == "customer_features"
    assert example_contract.column("tenure_days").type == "integer"
    assert example_contract.ref.startswith("customer_features@1.0.0#")


def test_fingerprint_ignores_formatting_but_not_content():
    a = contract_from_text(HEAD)
    b = contract_from_text("# comment\n" + HEAD.replace("{name: orders, owner: team, version: 1.0.0}",
                                                        "\n  version: 1.0.0\n  owner: team\n  name: orders"))
    c = contract_from_text(HEAD.replace("nullable: false", "nullable: true"))
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint


@pytest.mark.parametrize("text, expected", [
    (HEAD + "    nulable: true\n", "c.yaml:6: columns[0].nulable: unknown key"),
    (HEAD.replace("type: integer", "type: int"), "c.yaml:4: columns[0].type: Input should be"),
    (HEAD.replace("nullable: false", "nullable: maybe"), "c.yaml:5: columns[0].nullable: Input should be a valid boolean"),
    (HEAD + "  - name: id\n    type: string\n", "c.yaml:6: columns[1].name: duplicate column 'id'"),
    (HEAD + "    constraints: {min: 10, max: 1}\n", "c.yaml:6: columns[0].constraints.min: impossible bounds"),
    (HEAD + "row_count: {min: 10, max: 1}\n", "c.yaml:6: row_count.min: impossible bounds"),
    (HEAD + "primary_key: [nope]\n", "c.yaml:6: primary_key[0]: column 'nope' is not declared"),
    (HEAD + "completeness: {id: 1.5}\n", "c.yaml:6: completeness.id: a non-null ratio must be between 0 and 1"),
    (HEAD + "freshness: {column: id, max_age: 1h}\n", "c.yaml:6: freshness.column: column 'id' must be a date"),
    (HEAD + "freshness: {max_age: soon}\n", "c.yaml:6: freshness.max_age: invalid duration"),
    (HEAD + "    constraints: {regex: '^a'}\n", "c.yaml:6: columns[0].constraints.regex: regex needs a string column"),
    (HEAD + "    constraints: {regex: '('}\n", "c.yaml:6: columns[0].constraints.regex: regex does not compile"),
    (HEAD + "drift: {features: {ghost: {metric: psi, threshold: 0.1}}}\n", "c.yaml:6: drift.features.ghost: column 'ghost'"),
    (HEAD.replace("dataset: {name: orders, owner: team, version: 1.0.0}", "dataset: {name: orders, owner: team}"),
     "c.yaml:1: dataset.version: required key is missing"),
    ("dataset: [1, 2\n", "c.yaml:2: malformed YAML"),
    ("", "c.yaml: the file is empty"),
    ("- a\n- b\n", "c.yaml:1: a contract is a mapping at the top level"),
    (HEAD + "columns: []\n", "c.yaml:6: columns: duplicate key"),
])
def test_bad_contract_names_file_line_and_field(text, expected):
    errors = _errors(text)
    assert any(e.startswith(expected) for e in errors), errors
    assert all("\n" not in e for e in errors)


def test_every_problem_is_listed_and_the_first_is_the_message():
    with pytest.raises(ContractErrors) as info:
        contract_from_text(HEAD + "    nulable: true\n    descr: x\n", "c.yaml")
    assert len(info.value.errors) == 2
    assert str(info.value).startswith("c.yaml:6: columns[0].nulable: unknown key (and 1 more problem(s)")


def test_missing_and_unreadable_files(tmp_path: Path):
    with pytest.raises(ContractError, match="contract file does not exist"):
        load_contract(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ContractError, match="cannot read contract"):
        load_contract(binary)


def test_environments_and_drift_features(example_contract):
    serving = [c.name for c in example_contract.columns_for("serving")]
    assert "churned" not in serving and "tenure_days" in serving
    drift = [c.name for c in example_contract.drift_features()]
    assert "churned" not in drift and "customer_id" not in drift and "plan" in drift
    assert example_contract.drift_rule_for(example_contract.column("avg_ticket_30d")).threshold == 0.25
    assert example_contract.drift_rule_for(example_contract.column("plan")).metric == "jensen_shannon"
