"""The Parity view's pages rendered from a real (tmp) ledger: dataset lookup, escaping, compaction."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_parity.outcomes.ledger import append_outcome, compact_ledger, read_table, read_table_cached
from airflow_provider_parity.outcomes.model import GateOutcome
from airflow_provider_parity.reports.view import PAGE_COLUMNS, render_dataset, render_index


def _ledger(tmp_path: Path) -> str:
    uri = str(tmp_path / "ledger")
    for day, status in (("2026-11-01", "passed"), ("2026-11-02", "failed")):
        append_outcome(uri, GateOutcome(gate="contract", status=status, blocking=True, dataset="s3://lake/orders/",
                                        reason="<script>alert(1)</script>" if status == "failed" else "ok",
                                        finished_at=f"{day}T06:00:00+00:00"))
    return uri


def test_dataset_page_by_short_name_escapes_reasons_and_lists_the_blocked_day(tmp_path: Path) -> None:
    table = read_table(_ledger(tmp_path), columns=PAGE_COLUMNS)
    page = render_dataset(table, "orders", base="/parity")
    assert page is not None
    blocked = page.split("<h2>Blocked days</h2>", 1)[1].split("</section>", 1)[0]
    assert "2026-11-02" in blocked and "2026-11-01" not in blocked
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert render_dataset(table, "customers", base="/parity") is None
    assert "/parity/datasets/s3%3A%2F%2Flake%2Forders%2F" in render_index(table, base="/parity")


def test_cached_read_follows_new_commits_and_compaction_keeps_every_row(tmp_path: Path) -> None:
    uri = _ledger(tmp_path)
    assert read_table_cached(uri, PAGE_COLUMNS).num_rows == 2  # type: ignore[union-attr]
    append_outcome(uri, GateOutcome(gate="drift", status="passed", blocking=True, reason="ok",
                                    dataset="s3://lake/orders/", finished_at="2026-11-02T07:00:00+00:00"))
    assert read_table_cached(uri, PAGE_COLUMNS).num_rows == 3  # type: ignore[union-attr]
    compact_ledger(uri)
    assert read_table(uri).num_rows == 3  # type: ignore[union-attr]
    assert "outcome" not in read_table(uri, columns=["status"]).column_names  # type: ignore[union-attr]


def test_a_cold_read_through_the_rollup_answers_what_the_table_answers(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    from airflow_provider_parity.outcomes import ledger
    from airflow_provider_parity.outcomes.rollup import ROLLUP_DIR, read_rollup

    uri = _ledger(tmp_path)
    compact_ledger(uri)  # writes the rollup
    assert (Path(uri) / ROLLUP_DIR / "manifest.json").exists()
    append_outcome(uri, GateOutcome(gate="drift", status="passed", blocking=True, reason="after the rollup",
                                    dataset="s3://lake/orders/", finished_at="2026-11-03T07:00:00+00:00"))
    rolled = read_rollup(DeltaTable(uri), uri, ["outcome_id", "reason", "finished_at"])
    assert rolled is not None and sorted(rolled.column("reason").to_pylist()) == \
        sorted(read_table(uri, columns=["reason"]).column("reason").to_pylist())  # type: ignore[union-attr]
    assert read_rollup(DeltaTable(uri), uri, ["outcome"]) is None  # a column the rollup does not hold
    ledger._CACHE.clear()  # a fresh api-server process
    assert read_table_cached(uri, PAGE_COLUMNS).equals(read_table(uri, columns=PAGE_COLUMNS))  # type: ignore[union-attr]
    append_outcome(uri, GateOutcome(gate="drift", status="passed", blocking=True, reason="late", dataset="s3://lake/orders/",
                                    finished_at="2026-11-01T08:00:00+00:00"))
    DeltaTable(uri).optimize.compact()  # 2026-11-01 rewritten without a new rollup: a file of the rollup is gone
    assert read_rollup(DeltaTable(uri), uri, ["reason"]) is None
    ledger._CACHE.clear()
    assert read_table_cached(uri, PAGE_COLUMNS).num_rows == 4  # type: ignore[union-attr]
