"""LabelQualityGateOperator: the outcome in XCom and the ledger, reports, lineage, bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from items_contract import items_contract

from airflow_provider_parity.labels.examples import synthetic_annotations
from airflow_provider_parity.operators.labels import LabelQualityGateOperator

CONTRACT = items_contract("{min_fleiss_kappa: 0.6, min_annotator_kappa: 0.6, min_class_kappa: 0.6, max_label_drift: 0.2}")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    contract = tmp_path / "items.yaml"
    contract.write_text(CONTRACT)
    paths = {"contract": str(contract)}
    for name, flip in (("clean", None), ("flipped", ("ann_2", "high", "low"))):
        paths[name] = str(tmp_path / f"{name}.parquet")
        pq.write_table(synthetic_annotations(300, seed=3, flip=flip), paths[name])
    paths["reference"] = str(tmp_path / "training.parquet")
    pq.write_table(synthetic_annotations(300, seed=4).select(["label"]), paths["reference"])
    return paths


def test_a_flipped_class_blocks_with_the_outcome_in_xcom_the_ledger_and_lineage(files, task_context, tmp_path):
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    op = LabelQualityGateOperator(task_id="label_gate", contract_path=files["contract"], annotations=files["flipped"],
                                  reference=files["reference"])
    start = op.get_openlineage_facets_on_start()
    assert [d.name for d in start.inputs] == [files["flipped"], files["reference"]]
    context = task_context("label_gate")
    with pytest.raises(AirflowFailException, match="worst annotator 'ann_2'.*labelled 'high' as 'low'"):
        op.execute(context)
    pushed = context["ti"].pushed["parity_outcome"]
    assert (pushed["gate"], pushed["status"], pushed["blocking"]) == ("labels", "failed", True)
    assert pushed["metrics"]["worst_annotator"] == "ann_2" and pushed["metrics"]["worst_class"] == "high"
    [stored] = read_outcomes(str(tmp_path / "ledger"))
    assert stored.to_dict() == {**pushed, "exit_code": 1}
    # Both reports were written, and the outcome names them.
    report = context["ti"].pushed["report_html"]
    assert stored.reports == {"json": context["ti"].pushed["report_json"], "html": report}
    assert "ann_2" in Path(report).read_text() and Path(stored.reports["json"]).exists()
    failure = op.get_openlineage_facets_on_failure(None)
    assert failure.run_facets["parity_outcome"].status == "failed"
    assert "ann_2" in failure.run_facets["errorMessage"].message
    assertions = failure.inputs[0].inputFacets["dataQualityAssertions"].assertions
    assert {a.assertion for a in assertions if not a.success} >= {"annotator_kappa"}
    assert failure.inputs[0].inputFacets["dataQualityMetrics"].rowCount == 900


def test_clean_annotations_pass(files, task_context):
    op = LabelQualityGateOperator(task_id="label_gate", contract_path=files["contract"], annotations=files["clean"],
                                  reference=files["reference"])
    outcome = op.execute(task_context("label_gate"))
    assert (outcome["status"], outcome["blocking"]) == ("passed", False)
    assert {c["name"] for c in outcome["checks"]} == {"fleiss_kappa", "annotator_kappa", "class_kappa", "label_drift"}


def test_bad_input_is_an_error_outcome_with_no_report(files, task_context, tmp_path):
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    op = LabelQualityGateOperator(task_id="label_gate", contract_path=files["contract"],
                                  annotations=str(tmp_path / "missing.parquet"))
    context = task_context("label_gate")
    with pytest.raises(AirflowFailException, match="path does not exist"):
        op.execute(context)
    [stored] = read_outcomes(str(tmp_path / "ledger"))
    assert (stored.status, stored.blocking, stored.exit_code) == ("error", True, 2)
    assert context["ti"].pushed["report_html"] is None and not (tmp_path / "reports").exists()


def test_features_where_that_rendered_to_text_is_bad_input(files, task_context):
    from airflow_provider_parity.compat import AirflowFailException

    op = LabelQualityGateOperator(task_id="label_gate", contract_path=files["contract"], annotations=files["clean"],
                                  features=files["clean"], features_where="{{ params.where }}")
    op.features_where = "item_id=item_00001"  # what a whole-mapping template renders to without native objects
    context = task_context("label_gate")
    with pytest.raises(AirflowFailException, match="features_where must be a mapping"):
        op.execute(context)
    assert context["ti"].pushed["parity_outcome"]["status"] == "error"
