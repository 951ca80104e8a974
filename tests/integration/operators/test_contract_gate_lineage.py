"""OpenLineage events from a real DAG run: quality facets on success and on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_parity.examples import customer_features, write_parquet

pytestmark = pytest.mark.integration

DAG = """
from airflow.sdk import DAG
from airflow_provider_parity.operators.contract_gate import DataContractGateOperator

with DAG(dag_id="gate_lineage", schedule=None, catchup=False) as dag:
    DataContractGateOperator(task_id="clean", contract_path={contract!r}, data={clean!r}, environment="training")
    DataContractGateOperator(task_id="broken", contract_path={contract!r}, data={broken!r}, environment="training")
"""


def test_gate_emits_quality_facets_on_success_and_failure(airflow_db, tmp_path, example_contract_path):
    clean = write_parquet(customer_features(300), str(tmp_path / "clean.parquet"))
    broken = write_parquet(customer_features(300, fault="range"), str(tmp_path / "broken.parquet"))
    (airflow_db / "dags").mkdir(exist_ok=True)
    (airflow_db / "dags" / "gate_lineage.py").write_text(
        DAG.format(contract=str(example_contract_path), clean=clean, broken=broken))
    events_file = tmp_path / "events.jsonl"
    env = dict(os.environ, AIRFLOW__OPENLINEAGE__DISABLED="False", AIRFLOW__OPENLINEAGE__NAMESPACE="parity-test",
               AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps({"type": "file", "log_file_path": str(events_file),
                                                           "append": True}))
    subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "gate_lineage"], env=env,
                   capture_output=True, text=True, timeout=300)
    events = [json.loads(line) for line in events_file.read_text().splitlines() if line.strip()]
    by_task = {}
    for event in events:
        job = event["job"]["name"]
        if job.endswith((".clean", ".broken")) and event["eventType"] in ("COMPLETE", "FAIL"):
            by_task[job.rsplit(".", 1)[1]] = event
    assert by_task["clean"]["eventType"] == "COMPLETE"
    assert by_task["broken"]["eventType"] == "FAIL"
    for task, path in (("clean", clean), ("broken", broken)):
        (dataset,) = by_task[task]["inputs"]
        assert (dataset["namespace"], dataset["name"]) == ("file", str(Path(path).resolve()))
        assert "tenure_days" in [f["name"] for f in dataset["facets"]["schema"]["fields"]]
        assertions = dataset["inputFacets"]["dataQualityAssertions"]["assertions"]
        failed = [a["assertion"] for a in assertions if not a["success"]]
        assert failed == ([] if task == "clean" else ["between(orders_30d)"])
        assert dataset["inputFacets"]["dataQualityMetrics"]["rowCount"] == 300
    assert "between(orders_30d)" in by_task["broken"]["run"]["facets"]["errorMessage"]["message"]
    # The blocked gate's FAIL event names the failed check with what was observed (never "as expected").
    [bad] = [a for a in by_task["broken"]["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
             if not a["success"]]
    assert bad["actual"].startswith("3 offending values") and bad["expected"] == "values within [0, 1000]"
    outcome = by_task["broken"]["run"]["facets"]["parity_outcome"]
    assert (outcome["gate"], outcome["status"], outcome["blocking"]) == ("contract", "failed", True)
    assert outcome["_producer"].startswith("https://github.com/airflow-provider-parity/")
    # Every event of the run is valid against the official spec and the provider's facet schemas.
    from lineage_schemas import validate_event

    for event in events:
        validate_event(event)
