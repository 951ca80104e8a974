"""The weekly label audit: a stable, class-balanced sample of recent items, and its agreement as a ledger outcome."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from airflow_provider_parity.exceptions import DataError
from churn.datagen import annotations_path, day_annotations, generate_raw, write_parquet
from churn.labels import run_audit

DAY = date(2026, 3, 10)
CONTRACT = str(Path(__file__).resolve().parents[3] / "contracts" / "churn_labels.yaml")


def _lake(tmp_path: Path, *, flip_on: date | None = None) -> str:
    lake = str(tmp_path / "lake")
    for back in range(3):
        day = DAY - timedelta(days=back)
        customers = generate_raw(day, n_customers=600).customers
        faults = ["annotator_flip"] if day == flip_on else []
        write_parquet(day_annotations(customers, day, n_items=150, faults=faults), annotations_path(lake, day))
    return lake


def test_the_audit_samples_each_class_equally_from_the_recent_days(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    result = run_audit(lake_uri=lake, contract_path=CONTRACT, day=DAY.isoformat(), lookback_days=7, per_class=15)
    sample = pq.read_table(result["sample"])
    assert result["sample"].endswith(f"labels/audit/date={DAY}/sample.parquet") and sample.num_rows == 30
    assert sorted(sample["consensus"].to_pylist()) == ["false"] * 15 + ["true"] * 15
    assert len(set(sample["customer_id"].to_pylist())) == 30 and min(sample["ratings"].to_pylist()) >= 1
    assert len(result["inputs"]) == 3  # three days of annotations in the lake, seven looked for
    outcome = result["outcome"]
    assert outcome["gate"] == "label_audit" and outcome["metrics"]["sampled"] == 30
    assert outcome["reason"].startswith("audit of 30 items (15 per class, 3 days)")
    # The same audit picks the same items; next week's picks others.
    again = run_audit(lake_uri=lake, contract_path=CONTRACT, day=DAY.isoformat(), per_class=15)
    assert pq.read_table(again["sample"]).equals(sample)
    later = run_audit(lake_uri=lake, contract_path=CONTRACT, day=(DAY + timedelta(days=1)).isoformat(), per_class=15)
    assert set(pq.read_table(later["sample"])["customer_id"].to_pylist()) != set(sample["customer_id"].to_pylist())


def test_a_clean_audit_passes_with_its_agreement_on_record(tmp_path: Path) -> None:
    result = run_audit(lake_uri=_lake(tmp_path), contract_path=CONTRACT, day=DAY.isoformat(), lookback_days=1,
                       per_class=40)
    outcome = result["outcome"]
    assert not outcome["blocking"] and outcome["status"] in ("passed", "warned")
    assert outcome["metrics"]["krippendorff_alpha"] > 0.85 and outcome["metrics"]["sampled"] == 79  # 39 churners


def test_an_audit_of_flipped_labels_blocks_naming_the_annotator(tmp_path: Path) -> None:
    lake = _lake(tmp_path, flip_on=DAY)
    result = run_audit(lake_uri=lake, contract_path=CONTRACT, day=DAY.isoformat(), lookback_days=1, per_class=40)
    outcome = result["outcome"]
    assert outcome["blocking"] and outcome["status"] == "failed"
    assert "worst annotator 'ann_3'" in outcome["reason"]


def test_no_recent_annotations_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no annotations in the 7 days ending 2026-03-10"):
        run_audit(lake_uri=str(tmp_path / "empty"), contract_path=CONTRACT, day=DAY.isoformat())
