"""``/parity/metrics`` on the api-server serves ``render`` over the configured ledger, behind Airflow's login."""

from __future__ import annotations

import pytest

from airflow_provider_parity.outcomes.ledger import read_table
from airflow_provider_parity.slo.metrics import render


def test_the_route_serves_the_ledger_as_metrics(daily_ledger, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("fastapi")
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi.testclient import TestClient

    from airflow_provider_parity.plugins.parity import create_app

    ledger = daily_ledger(stale_days=(27,))
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", ledger)
    monkeypatch.delenv("AIRFLOW__PARITY__STORAGE_CONN_ID", raising=False)
    app = create_app()
    assert TestClient(app).get("/metrics").status_code in (401, 403)  # no token, no metrics
    app.dependency_overrides[get_user] = lambda: None
    response = TestClient(app).get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.text == render(read_table(ledger))
    assert 'parity_slo_bad_events_total{dataset="customer_features",slo="freshness"} 1' in response.text
