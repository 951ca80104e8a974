"""The label-quality gate on tables: checks per threshold, the fault that blocks, bad input, label drift."""

from __future__ import annotations

import pyarrow as pa
import pytest
from items_contract import items_contract

from airflow_provider_parity.contracts.loader import contract_from_text
from airflow_provider_parity.exceptions import ContractError, DataError, SchemaMismatchError
from airflow_provider_parity.labels.examples import synthetic_annotations
from airflow_provider_parity.labels.gate import evaluate_labels

CONTRACT = items_contract(
    "{min_cohen_kappa: 0.6, min_fleiss_kappa: 0.6, min_krippendorff_alpha: 0.667, min_class_kappa: 0.6,"
    " min_annotator_kappa: 0.6, min_items_per_annotator: 20, max_conflict_share: 0.3, max_label_drift: 0.1,"
    " max_feature_conflict_share: 0.05}",
    level="ordinal", features="  - {name: x, type: integer}\n  - {name: y, type: string}\n")


@pytest.fixture(scope="module")
def contract():
    return contract_from_text(CONTRACT, "items.yaml")


def _table(rows: list[tuple[str, str, str]]) -> pa.Table:
    item, annotator, label = zip(*rows, strict=True)
    return pa.table({"item_id": list(item), "annotator_id": list(annotator), "label": list(label),
                     "annotated_at": pa.array(range(len(rows)), pa.int64())})


def test_clean_annotations_pass_every_check(contract):
    result = evaluate_labels(contract, synthetic_annotations(400, seed=1))
    outcome = result.outcome()
    assert (outcome.gate, outcome.status, outcome.blocking, outcome.exit_code) == ("labels", "warned", False, 0)
    names = {c.name: c for c in outcome.checks}
    assert set(names) == {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "class_kappa", "annotator_kappa",
                          "items_per_annotator", "conflict_share", "label_drift", "feature_conflict_share"}
    # Only the two inputs not given (reference, features) are unmeasured, as warnings that do not block.
    assert {n for n, c in names.items() if not c.success} == {"label_drift", "feature_conflict_share"}
    assert all(c.severity == "warn" for c in outcome.failed_checks)
    assert names["fleiss_kappa"].observed == f"{result.fleiss_kappa:.4f}" and names["fleiss_kappa"].expected == ">= 0.6"


def test_one_annotator_flipping_one_class_blocks_naming_the_annotator_and_the_class(contract):
    flipped = synthetic_annotations(400, seed=1, flip=("ann_3", "mid", "high"))
    outcome = evaluate_labels(contract, flipped).outcome()
    assert (outcome.status, outcome.blocking, outcome.exit_code) == ("failed", True, 1)
    assert outcome.metrics["worst_annotator"] == "ann_3" and outcome.metrics["worst_class"] == "mid"
    assert "worst annotator 'ann_3'" in outcome.reason and "labelled 'mid' as 'high'" in outcome.reason
    assert "worst class 'mid'" in outcome.reason
    failed = {c.name: c for c in outcome.failed_checks}
    assert "annotator 'ann_3'" in (failed["annotator_kappa"].observed or "")
    # The same data without the fault passes those checks: the fault, not noise, blocks.
    clean = evaluate_labels(contract, synthetic_annotations(400, seed=1)).outcome()
    assert not ({"annotator_kappa", "class_kappa"} & {c.name for c in clean.failed_checks})


def test_the_audit_sample_lists_conflicting_items_with_every_label(contract):
    result = evaluate_labels(contract, synthetic_annotations(300, seed=2, flip=("ann_1", "low", "high")))
    assert 0 < len(result.conflict_sample) <= 20
    for entry in result.conflict_sample:
        assert len(set(entry["labels"].values())) > 1 and len(entry["labels"]) == 3
    again = evaluate_labels(contract, synthetic_annotations(300, seed=2, flip=("ann_1", "low", "high")))
    assert again.conflict_sample == result.conflict_sample  # the same items each run


def test_label_drift_is_the_total_variation_against_the_reference(contract):
    rows = [(f"i{i}", a, "low" if i < 6 else "high") for i in range(10) for a in ("a", "b")]
    reference = pa.table({"label": ["low"] * 3 + ["high"] * 7})
    result = evaluate_labels(contract, _table(rows), reference=reference)
    assert result.distribution == {"low": 0.6, "mid": 0.0, "high": 0.4}
    assert result.label_drift == pytest.approx(0.3)  # |0.6 - 0.3| / 2 + |0.4 - 0.7| / 2
    check = next(c for c in result.checks if c.name == "label_drift")
    assert not check.success and check.severity == "error"


def test_identical_features_with_different_labels_are_counted(contract):
    rows = [(f"i{i}", a, lab) for i, lab in enumerate(["low", "high", "low", "mid"]) for a in ("a", "b")]
    features = pa.table({"item_id": ["i0", "i1", "i2", "i3", "i9"], "x": [1, 1, 2, 2, 1], "y": ["u", "u", "v", "v", "u"]})
    result = evaluate_labels(contract, _table(rows), features=features)
    assert (result.feature_conflict_items, result.feature_conflict_share) == (4, 1.0)
    features = features.set_column(1, "x", pa.array([1, 5, 2, 6, 1]))
    assert evaluate_labels(contract, _table(rows), features=features).feature_conflict_share == 0.0


def test_a_features_table_of_every_day_is_narrowed_to_one(contract):
    from datetime import date

    from airflow_provider_parity.exceptions import SchemaMismatchError
    from airflow_provider_parity.labels.gate import rows_where

    days = pa.table({"item_id": ["i0", "i0", "i1"],
                     "day": pa.array([date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 2)], pa.date32())})
    assert rows_where(days, {"day": "2026-01-02"}, "f").column("item_id").to_pylist() == ["i0", "i1"]
    assert rows_where(days, {}, "f").num_rows == 3
    with pytest.raises(SchemaMismatchError, match="no column 'dya' to filter on; columns are item_id, day"):
        rows_where(days, {"dya": "2026-01-02"}, "f")
    with pytest.raises(DataError, match="day = 'yesterday' is not a date32"):
        rows_where(days, {"day": "yesterday"}, "f")


def test_the_latest_label_of_an_annotator_counts(contract):
    rows = [("i1", "a", "low"), ("i1", "b", "high"), ("i1", "a", "high")]
    result = evaluate_labels(contract, _table(rows))
    assert result.ratings == 2 and result.conflict_share == 0.0


def test_one_annotator_is_insufficient_data_not_a_verdict(contract):
    result = evaluate_labels(contract, _table([(f"i{i}", "solo", "low") for i in range(30)]))
    outcome = result.outcome()
    assert (outcome.status, outcome.blocking) == ("insufficient_data", False)
    assert "no item was rated twice" in outcome.reason
    assert next(c for c in outcome.checks if c.name == "fleiss_kappa").observed.startswith("not measured")
    assert "; warning: fleiss_kappa" in outcome.reason  # named, after the reasons, as not blocking


@pytest.mark.parametrize("table, error, match", [
    (pa.table({"item_id": ["i"], "label": ["low"], "annotated_at": [1]}), SchemaMismatchError,
     "no column 'annotator_id' \\(labels.annotations.annotator\\)"),
    (_table([("i1", "a", "low"), ("i1", "b", "medium")]), DataError, "'medium' in column 'label' are not among"),
    (_table([("i1", "a", "low")]).set_column(0, "item_id", pa.array([None], pa.string())), DataError, "null item ids"),
    (_table([("i1", "a", None)]), DataError, "no labels"),  # type: ignore[list-item]
])
def test_bad_annotations_are_one_line_errors(contract, table, error, match):
    with pytest.raises(error, match=match) as info:
        evaluate_labels(contract, table)
    assert "\n" not in str(info.value)


def test_a_repeated_label_without_a_time_column_is_bad_input():
    contract = contract_from_text(items_contract("{min_fleiss_kappa: 0.6}", time=False))
    with pytest.raises(DataError, match="annotator 'a' labelled item 'i1' more than once"):
        evaluate_labels(contract, _table([("i1", "a", "low"), ("i1", "a", "high")]))


def test_a_contract_without_labels_is_bad_input(example_contract):
    with pytest.raises(ContractError, match="has no labels section"):
        evaluate_labels(example_contract, _table([("i1", "a", "low")]))


def test_boolean_labels_match_the_contracts_classes():
    from pathlib import Path

    from airflow_provider_parity.contracts.loader import load_contract

    contract = load_contract(Path(__file__).resolve().parents[3] / "contracts" / "churn_labels.yaml")
    table = pa.table({"customer_id": ["C000001", "C000001", "C000002", "C000002"], "annotator_id": ["a", "b", "a", "b"],
                      "churned": [True, True, False, True], "annotated_at": [1, 2, 3, 4]})
    result = evaluate_labels(contract, table)
    assert result.classes == ["false", "true"] and result.conflict_share == 0.5
