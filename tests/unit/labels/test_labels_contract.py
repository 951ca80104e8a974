"""The contract's ``labels`` section: loads, names impossible values by file:line:field, round-trips ODCS."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_parity.contracts.loader import ContractErrors, contract_from_text, load_contract
from airflow_provider_parity.exceptions import ContractError

LABELS_CONTRACT = Path(__file__).resolve().parents[3] / "contracts" / "churn_labels.yaml"

HEAD = """dataset: {name: items, owner: team, version: 1.0.0}
columns:
  - {name: item_id, type: string, nullable: false, role: key}
  - {name: x, type: integer}
  - {name: y, type: string, role: label}
labels:
  column: y
"""


def _errors(text: str) -> list[str]:
    with pytest.raises(ContractError) as info:
        contract_from_text(text, "c.yaml")
    err = info.value
    return [str(e) for e in err.errors] if isinstance(err, ContractErrors) else [str(err)]


def test_the_example_labels_contract_loads_with_its_thresholds():
    contract = load_contract(LABELS_CONTRACT)
    assert contract.labels is not None
    assert contract.labels.column == "churned" and contract.labels.classes == [False, True]
    assert contract.labels.annotations.time == "annotated_at"
    assert contract.labels.thresholds.min_krippendorff_alpha == 0.667


def test_a_contract_without_labels_keeps_its_fingerprint(example_contract):
    # Adding the optional section to the model must not change any existing contract's ref.
    # The fingerprint hashes the canonical dict, which leaves an absent section out entirely.
    assert "labels" not in example_contract.canonical_dict()
    assert example_contract.model_copy(update={"labels": None}).fingerprint == example_contract.fingerprint


@pytest.mark.parametrize("text, expected", [
    (HEAD + "  thresholds: {min_cohen_kappa: 1.5}\n", "c.yaml:8: labels.thresholds.min_cohen_kappa: Input should be less"),
    (HEAD + "  thresholds: {max_conflict_share: -0.1}\n", "c.yaml:8: labels.thresholds.max_conflict_share: Input should be"),
    (HEAD + "  thresholds: {min_items_per_annotator: 0}\n", "c.yaml:8: labels.thresholds.min_items_per_annotator"),
    (HEAD + "  thresholds: {min_shared_items: 1}\n", "c.yaml:8: labels.thresholds.min_shared_items: Input should be"),
    (HEAD + "  thresholds: {min_kappa: 0.5}\n", "c.yaml:8: labels.thresholds.min_kappa: unknown key"),
    (HEAD + "  level: interval\n", "c.yaml:8: labels.level: Input should be 'nominal' or 'ordinal'"),
    (HEAD + "  level: ordinal\n", "c.yaml:8: labels.level: ordinal labels need labels.classes, in order"),
    (HEAD + "  classes: [a]\n", "c.yaml:8: labels.classes: agreement needs at least two classes, got 1"),
    (HEAD + "  classes: [a, b, a]\n", "c.yaml:8: labels.classes: a class is listed twice"),
    (HEAD.replace("column: y", "column: z"), "c.yaml:7: labels.column: column 'z' is not declared in columns"),
    (HEAD.replace("column: y", "column: x"), "c.yaml:7: labels.column: column 'x' has role feature, not label"),
    (HEAD + "  annotations: {item: ghost}\n", "c.yaml:8: labels.annotations.item: column 'ghost' (the items' key)"),
    (HEAD + "  annotations: {annotator: item_id}\n", "c.yaml:8: labels.annotations.annotator: column 'item_id' is named twice"),
    (HEAD.replace("  - {name: x, type: integer}\n", "") + "  thresholds: {max_feature_conflict_share: 0.1}\n",
     "c.yaml:7: labels.thresholds.max_feature_conflict_share: the contract declares no feature column"),
])
def test_impossible_label_settings_name_file_line_and_field(text, expected):
    errors = _errors(text)
    assert any(e.startswith(expected) for e in errors), errors


def test_odcs_round_trip_keeps_the_labels_section_exactly():
    from airflow_provider_parity.contracts.odcs import from_odcs, to_odcs

    contract = load_contract(LABELS_CONTRACT)
    document = to_odcs(contract)
    [parity] = [p["value"] for p in document["customProperties"] if p["property"] == "parity"]
    assert parity["labels"]["thresholds"]["max_label_drift"] == 0.1
    back = from_odcs(document)
    assert back.labels == contract.labels and back.fingerprint == contract.fingerprint
