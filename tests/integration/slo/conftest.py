"""What the SLO integration tests start: an exporter over a real ledger, and servers on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from slo_servers import free_port, reply

from airflow_provider_parity.outcomes.ledger import append_outcome, read_table
from airflow_provider_parity.outcomes.model import Check, GateOutcome, RunIdentity
from airflow_provider_parity.slo.metrics import render


@pytest.fixture
def exporter(tmp_path: Path, example_contract) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Three daily freshness judgements, the latest stale, served as metrics from the ledger on each scrape."""
    ledger = str(tmp_path / "ledger")
    now = datetime.now(UTC)
    for day, fresh in enumerate((True, True, False)):
        at = now - timedelta(days=2 - day, minutes=30)
        append_outcome(ledger, GateOutcome(
            gate="freshness", status="passed" if fresh else "failed", blocking=not fresh, reason="freshness",
            dataset="s3://lake/features/customer_features", contract=example_contract.ref, as_of=at.isoformat(),
            finished_at=at.isoformat(), metrics={"lag_seconds": 3600.0 if fresh else 90_000.0, "max_age_seconds": 43_200},
            run=RunIdentity("daily_retraining", f"scheduled__{at.date()}", "features_fresh")))
    # The latest contract and per-entity skew gates passed; their checks carry exact values.
    at = (now - timedelta(minutes=20)).isoformat()
    append_outcome(ledger, GateOutcome(
        gate="contract", status="passed", blocking=False, reason="contract", contract=example_contract.ref,
        dataset="s3://lake/features/customer_features", finished_at=at,
        checks=(Check("not_null(tenure_days)", True, "tenure_days", "3 nulls (0.0600%)", "no nulls", value=0.0006),),
        run=RunIdentity("feature_pipeline", "scheduled__today", "contract_gate")))
    append_outcome(ledger, GateOutcome(
        gate="feature_skew", name="serving_skew", status="passed", blocking=False, reason="skew",
        contract=example_contract.ref, dataset="s3://lake/serving/feature_log", finished_at=at,
        checks=(Check("feature_skew(avg_ticket_30d)", True, "avg_ticket_30d", "0.0140% of entities", "<= 1%",
                      value=0.00014),),
        run=RunIdentity("serving_skew_monitor", "scheduled__today", "serving_skew")))

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply(self, 200, render(read_table(ledger)).encode(), "text/plain; version=0.0.4")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
