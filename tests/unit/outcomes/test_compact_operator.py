"""CompactLedgerOperator: fewer files, the same outcomes, valid lineage on success and on failure."""

from __future__ import annotations

import pytest
from lineage_schemas import operator_event

from airflow_provider_parity.outcomes.ledger import append_outcome, read_outcomes
from airflow_provider_parity.outcomes.model import GateOutcome


def _outcome(i: int) -> GateOutcome:
    return GateOutcome(gate="contract", name=f"gate_{i % 3}", status="passed", blocking=False, reason="ok",
                       dataset="customer_features", finished_at=f"2026-11-{1 + i % 5:02d}T10:00:{i:02d}+00:00")


def test_compaction_keeps_every_outcome_in_fewer_files(tmp_path, task_context) -> None:  # type: ignore[no-untyped-def]
    from deltalake import DeltaTable

    from airflow_provider_parity.operators.ledger import CompactLedgerOperator

    task_context("compact_ledger")  # the ledger under tmp_path, as [parity] ledger_uri
    ledger = str(tmp_path / "ledger")
    for i in range(12):
        append_outcome(ledger, _outcome(i))
    before = [o.to_dict() for o in read_outcomes(ledger)]
    files_before = len(DeltaTable(ledger).file_uris())
    operator = CompactLedgerOperator(task_id="compact_ledger")
    metrics = operator.execute({})  # type: ignore[arg-type]
    assert metrics["numFilesRemoved"] == files_before == 12
    assert len(DeltaTable(ledger).file_uris()) == metrics["numFilesAdded"] == 5  # one per day partition
    assert [o.to_dict() for o in read_outcomes(ledger)] == before
    event = operator_event(operator.get_openlineage_facets_on_complete(None), "feature_pipeline.compact_ledger")
    assert event["inputs"][0]["name"] == event["outputs"][0]["name"] == ledger
    assert event["outputs"][0]["facets"]["version"]["datasetVersion"] == str(DeltaTable(ledger).version())


def test_a_missing_ledger_fails_the_task_with_lineage(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from airflow_provider_parity.operators.ledger import CompactLedgerOperator

    operator = CompactLedgerOperator(task_id="compact_ledger", ledger=str(tmp_path / "no-ledger"))
    with pytest.raises(Exception, match="no-ledger"):
        operator.execute({})  # type: ignore[arg-type]
    event = operator_event(operator.get_openlineage_facets_on_failure(None), "feature_pipeline.compact_ledger", "FAIL")
    assert "no-ledger" in event["run"]["facets"]["errorMessage"]["message"]
