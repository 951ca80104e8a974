"""The post-promotion watch against a real Prometheus: a KPI that degrades after the promotion rolls the
champion back (the reason on the demoted version, an alert sent); an unchanged KPI keeps it.

The KPI series are backfilled with ``promtool tsdb create-blocks-from openmetrics`` (an exact history
around a promotion two hours ago), then a real Prometheus serves them on loopback; the watch reads them
through ``/api/v1/query_range`` with the PromQL the policy names. The models are real MLflow versions.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import fake_context
from live_servers import Store, train_run, write_table

from airflow_provider_parity.compat import AirflowFailException
from airflow_provider_parity.operators.mlflow import MlflowPromotionGateOperator, MlflowRegisterModelOperator
from airflow_provider_parity.operators.watch import PostPromotionWatchOperator
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("prometheus") is None or shutil.which("promtool") is None,
                                 reason="prometheus/promtool missing: scripts/setup.sh")]

# The promotion happened two hours ago (whole minutes, so samples fall on the query steps); the watch
# judges one hour after it.
PROMOTED = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
AS_OF = PROMOTED + timedelta(hours=1)
POLICY = {"metrics": [{"metric": "auc", "slices": ["overall"], "min": 0.6}]}


def _openmetrics() -> str:
    """Conversion per minute from 3h before to 1h after the promotion: steady at 0.10, or down to 0.06 after it."""
    lines = ["# TYPE shop_conversion gauge"]
    for minute in range(-180, 61):
        at = PROMOTED + timedelta(minutes=minute)
        degraded = 0.06 if minute >= 0 else 0.10
        lines.append(f'shop_conversion{{series="degraded"}} {degraded} {at.timestamp():.0f}')
        lines.append(f'shop_conversion{{series="steady"}} 0.10 {at.timestamp():.0f}')
    return "\n".join(lines) + "\n# EOF\n"


@pytest.fixture(scope="module")
def kpi_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from airflow_provider_parity.slo.prometheus_process import backfilled_prometheus

    with backfilled_prometheus(tmp_path_factory.mktemp("kpi-prometheus"), _openmetrics()) as base:
        yield base


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, example_contract: Any) -> Iterator[Store]:
    """A local MLflow store with two real training runs (v1 and its successor)."""
    import os

    root = tmp_path_factory.mktemp("watch-mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    conn = "AIRFLOW_CONN_PARITY_MLFLOW_WATCH"
    os.environ[conn] = json.dumps({"conn_type": "mlflow", "extra": {"tracking_uri": uri}})
    found = Store(kind="local", tracking_uri=uri, conn_id="parity_mlflow_watch")
    table = write_table(root / "features")
    gates = {"validation": "passed"}
    found.runs = {"old": train_run(found, table, metrics={"overall": 0.80}, gates=gates, contract=example_contract),
                  "new": train_run(found, table, metrics={"overall": 0.82}, gates=gates, contract=example_contract)}
    try:
        yield found
    finally:
        os.environ.pop(conn, None)


@pytest.fixture(autouse=True)
def _ledger_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", str(tmp_path / "ledger"))
    monkeypatch.setenv("AIRFLOW__PARITY__REPORT_DIR", str(tmp_path / "reports"))


def _promoted_twice(store: Store, label: str) -> str:
    """A fresh model: v1 champion, then v2 promoted over it."""
    name = store.model_name(label)
    for role in ("old", "new"):
        version = MlflowRegisterModelOperator(task_id="register", model_name=name, run_id=store.runs[role],
                                              mlflow_conn_id=store.conn_id).execute(fake_context())["version"]
        MlflowPromotionGateOperator(task_id="promote", model_name=name, policy=POLICY, challenger_version=version,
                                    mlflow_conn_id=store.conn_id).execute(fake_context())
    assert aliases_of(store.client(), name)[keys.CHAMPION] == "2"
    return name


def _watch(store: Store, name: str, prometheus: str, series: str, alert_file: Path) -> PostPromotionWatchOperator:
    policy = {"evaluation_window": "1h", "step": "1m",
              "kpis": [{"name": "conversion", "query": f'avg(shop_conversion{{series="{series}"}})', "max_drop": 0.1}]}
    return PostPromotionWatchOperator(task_id="watch_champion", model_name=name, mlflow_conn_id=store.conn_id,
                                      policy=policy, prometheus_url=prometheus, as_of=AS_OF.isoformat(),
                                      promoted_at=PROMOTED.isoformat(), alert_file=str(alert_file))


def test_a_kpi_that_degrades_after_the_promotion_rolls_the_champion_back(store: Store, kpi_prometheus: str,
                                                                          tmp_path: Path) -> None:
    name = _promoted_twice(store, "watch-degraded")
    alerts = tmp_path / "alerts.jsonl"
    context = fake_context("watch_champion")
    with pytest.raises(AirflowFailException, match=r"rolled back to v1: v2 \(previous v1\)") as info:
        _watch(store, name, kpi_prometheus, "degraded", alerts).execute(context)
    assert "kpi(conversion): observed 0.1" in str(info.value) and "-> 0.06 (-40.0%)" in str(info.value)
    client = store.client()
    assert aliases_of(client, name)[keys.CHAMPION] == "1"
    reason = client.get_model_version(name, "2").tags[keys.ROLLBACK_REASON]
    assert reason.startswith("watch: v2 (previous v1)") and "kpi(conversion)" in reason and "at most 10% worse" in reason
    [alert] = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert alert["task_id"] == "watch_champion" and alert["reason"].startswith("rolled back to v1")
    outcome = context["ti"].pushed["parity_outcome"]  # type: ignore[attr-defined]
    assert outcome["gate"] == "watch" and outcome["blocking"] and outcome["metrics"]["action"] == "rollback"


def test_an_unchanged_kpi_keeps_the_champion(store: Store, kpi_prometheus: str, tmp_path: Path) -> None:
    name = _promoted_twice(store, "watch-steady")
    alerts = tmp_path / "alerts.jsonl"
    outcome = _watch(store, name, kpi_prometheus, "steady", alerts).execute(fake_context("watch_champion"))
    assert outcome["status"] == "passed" and outcome["metrics"]["action"] == "keep"
    [check] = [c for c in outcome["checks"] if c["name"] == "kpi(conversion)"]
    assert check["success"] and check["observed"] == "0.1 -> 0.1 (+0.0%)"
    assert aliases_of(store.client(), name)[keys.CHAMPION] == "2"
    assert not alerts.exists()
