"""The reference DAGs end to end, in real Airflow DAG runs: a clean day ships, every blocked day stops.

One story, run once for the module (each DAG through ``dag.test()`` on the session's SQLite
metadata database, Delta tables in a temp lake, MLflow's SQLite store, dbt on duckdb):

  day 1  clean                         -> trained, registered, promoted (champion v1)
  day 2  drifted serving traffic       -> blocked at the skew gate; the monitor alerts
  day 3  null spike in the raw data    -> blocked at dbt_build; retraining blocked as stale
  day 4  clean, but a demanding policy -> blocked at the promotion gate (v2 stays challenger)

then each remaining fault of the generator against feature_pipeline alone, and the
reproducibility audit of the champion.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MODEL = "churn_e2e"
DAYS = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]
STRICT_POLICY = {"promotion_policy": {"required_gates": ["contract", "skew"],
                                      "metrics": [{"metric": "auc", "slices": ["overall"], "min": 0.99}]}}
DOWNSTREAM_OF_GATES = ("train", "evaluate", "register", "promotion_gate")


@pytest.fixture(scope="module")
def bundle(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The bundle's DAG files in the session's dags folder, its settings pointing at a temp lake.

    The settings, and the AIRFLOW_CTX_* variables in-process runs export, are undone after the module.
    """
    import os

    saved = dict(os.environ)

    root = tmp_path_factory.mktemp("bundle")
    (airflow_db / "dags").mkdir(exist_ok=True)
    for dag_file in (REPO / "dags").glob("*.py"):
        shutil.copy(dag_file, airflow_db / "dags" / dag_file.name)
    settings = {
        "AIRFLOW__PARITY__LAKE_URI": str(root / "lake"),
        "AIRFLOW__PARITY__ALERT_FILE": str(root / "alerts.jsonl"),
        "AIRFLOW__PARITY__MODEL_NAME": MODEL,
        "AIRFLOW__PARITY__FRESHNESS_TIMEOUT": "3",
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
    }
    os.environ.update(settings)
    yield {"root": root, **settings}
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="module")
def story(bundle: dict[str, Any]) -> dict[str, Any]:
    from churn.scenario import run_day

    return {
        "clean": run_day(DAYS[0]),
        "drift": run_day(DAYS[1], serving_drift=True),
        "broken": run_day(DAYS[2], faults=["null_spike"]),
        # Clean features, a strict promotion policy, and an online path that rounds 2% of tickets.
        "strict": run_day(DAYS[3], retraining_conf=STRICT_POLICY, serving_rounding=True),
    }


def _client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


def _aliases() -> dict[str, str]:
    from airflow_provider_parity.tracking.client import aliases_of

    return aliases_of(_client(), MODEL)


def test_a_clean_day_builds_trains_and_promotes(story: dict[str, Any], bundle: dict[str, Any]) -> None:
    day = story["clean"]
    assert day.features.state == "success" and set(day.features.tasks.values()) == {"success"}
    assert day.retraining.state == "success", day.retraining.tasks
    assert set(day.retraining.tasks.values()) == {"success"}
    assert day.retraining.verdict["status"] == "passed"
    # The online stand-in checked what it served against the same contract, at the boundary.
    assert day.serving["boundary"] == {"passed": True, "failures": []}
    version = _client().get_model_version(MODEL, "1")
    data = json.loads(version.tags["parity.data"])
    assert [(Path(d["uri"]).name, d["version"]) for d in data] == [("customer_features", 0)]
    assert version.tags["parity.gate.contract.status"] == "passed"
    assert version.tags["parity.gate.skew.status"] == "passed"
    assert version.tags["parity.contract.hash"]
    # The labels were judged against the labelled customers' features of that day (none contradict).
    from airflow_provider_parity.operators.base import ledger_uri
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    [labels] = [o for o in read_outcomes(ledger_uri(), gate="label_gate") if o.run and o.run.dag_id == "daily_retraining"][:1]
    conflicts = next(c for c in labels.checks if c.name == "feature_conflict_share")
    assert conflicts.success and conflicts.observed.startswith("0.0000"), conflicts
    assert version.tags["parity.gate.labels.status"] == "passed"
    # The monitor found the champion's snapshot through MLflow and saw no skew.
    assert day.monitor.tasks["serving_skew"] == "success"
    assert day.monitor.tasks["request_retraining"] == "skipped"


def test_drifted_serving_traffic_blocks_training_and_alerts(story: dict[str, Any], bundle: dict[str, Any]) -> None:
    day = story["drift"]
    assert day.features.state == "success"
    assert day.retraining.state == "failed"
    assert day.retraining.blocked_by == "skew_gate"
    assert "avg_ticket_30d: psi=" in day.retraining.reason
    assert {t: day.retraining.tasks[t] for t in DOWNSTREAM_OF_GATES} == dict.fromkeys(DOWNSTREAM_OF_GATES,
                                                                                     "upstream_failed")
    assert day.monitor.blocked_by == "serving_skew"
    # The champion promoted the day before is in its evaluation window: the policy asks for no retraining.
    assert day.monitor.tasks["retraining_policy"] == "skipped"
    assert day.monitor.tasks["request_retraining"] == "skipped"
    alerts = [json.loads(line) for line in Path(bundle["AIRFLOW__PARITY__ALERT_FILE"]).read_text().splitlines()]
    assert any(a["dag_id"] == "serving_skew_monitor" and a["task_id"] == "serving_skew"
               and "avg_ticket_30d" in a["reason"] for a in alerts)


def test_a_broken_contract_stops_the_features_and_then_retraining(story: dict[str, Any]) -> None:
    from airflow_provider_parity.delta import resolve_snapshot
    from churn.settings import load_settings

    day = story["broken"]
    assert day.features.blocked_by == "dbt_build"
    assert "dbt test not_null on customer_features.plan failed" in day.features.reason
    assert day.features.tasks["contract_gate"] == "upstream_failed"
    assert day.features.tasks["write_features"] == "upstream_failed"
    # Versions 0, 1, 2 for days 1, 2 and 4: none for the broken day.
    history = resolve_snapshot(load_settings().features_table)
    assert history.version == 2
    assert day.retraining.blocked_by == "features_fresh"
    assert "freshness SLO of customer_features" in day.retraining.reason
    assert day.retraining.tasks["pin_snapshot"] == "upstream_failed"


def test_the_promotion_gate_keeps_a_challenger_that_misses_the_policy(story: dict[str, Any]) -> None:
    day = story["strict"]
    assert day.retraining.blocked_by == "promotion_gate"
    assert "auc" in day.retraining.reason and "0.99" in day.retraining.reason
    assert day.retraining.tasks["register"] == "success"
    assert _aliases() == {"champion": "1", "challenger": "2"}


def test_no_model_was_promoted_on_a_blocked_day(story: dict[str, Any]) -> None:
    versions = _client().search_model_versions(f"name = '{MODEL}'")
    # Day 1 and day 4 trained; days 2 and 3 never reached training.
    assert sorted(str(v.version) for v in versions) == ["1", "2"]
    assert _aliases()["champion"] == "1"


@pytest.mark.parametrize(("fault", "expected"), [
    ("schema_break", 'does not have a column named "signup_date"'),
    ("range_violation", "parity_between on customer_features.avg_ticket_30d"),
    ("duplicate_keys", "parity_unique_combination on customer_features"),
    ("stale", "parity_max_age on customer_features.updated_at"),
])
def test_each_raw_data_fault_is_blocked_before_the_feature_table(story: dict[str, Any], fault: str,
                                                                  expected: str) -> None:
    from airflow_provider_parity.delta import resolve_snapshot
    from churn.scenario import run_dag
    from churn.settings import load_settings

    before = resolve_snapshot(load_settings().features_table).version
    outcome = run_dag("feature_pipeline", date(2026, 4, 1), {"faults": fault})
    assert outcome.state == "failed"
    assert outcome.blocked_by == "dbt_build"
    assert expected in outcome.reason
    assert outcome.tasks["write_features"] == "upstream_failed"
    assert resolve_snapshot(load_settings().features_table).version == before


def test_the_champions_training_set_reproduces(story: dict[str, Any]) -> None:
    from churn.scenario import run_dag

    outcome = run_dag("reproduce_training_set", DAYS[3], {"model_name": MODEL, "version": "1"})
    assert outcome.tasks == {"reproduce": "success"}


def test_an_online_path_that_rounds_is_blocked_per_entity_while_drift_stays_quiet(story: dict[str, Any],
                                                                                  bundle: dict[str, Any]) -> None:
    """The classic incident: serving re-implements a feature with another rounding rule. The served
    distribution barely moves (the distribution gates pass); value by value, the customers differ."""
    from churn.datagen import rounded_customers

    day = story["strict"]
    assert day.retraining.tasks["skew_gate"] == "success"
    assert day.monitor.tasks["serving_skew"] == "success"
    assert day.monitor.blocked_by == "feature_skew"
    assert "avg_ticket_30d" in day.monitor.reason
    named = [c for c in re.findall(r"C\d{6}", day.monitor.reason)]
    assert named and set(named) <= rounded_customers(named), day.monitor.reason
    alerts = [json.loads(line) for line in Path(bundle["AIRFLOW__PARITY__ALERT_FILE"]).read_text().splitlines()]
    assert any(a["task_id"] == "feature_skew" and "avg_ticket_30d" in a["reason"] for a in alerts)


def test_an_annotator_who_flips_a_class_blocks_retraining(story: dict[str, Any]) -> None:
    """Clean features, but one annotator labels every churned customer as staying: the label gate
    blocks before training, naming the annotator and the class they flip."""
    from churn.datagen import FLIPPING_ANNOTATOR
    from churn.scenario import run_day

    day = run_day(date(2026, 3, 5), faults=["annotator_flip"])
    assert day.features.state == "success"
    assert day.retraining.blocked_by == "label_gate", day.retraining.tasks
    assert f"annotator '{FLIPPING_ANNOTATOR}'" in day.retraining.reason
    assert f"worst annotator '{FLIPPING_ANNOTATOR}'" in day.retraining.reason
    assert "labelled 'true' as 'false'" in day.retraining.reason
    assert {t: day.retraining.tasks[t] for t in DOWNSTREAM_OF_GATES} == dict.fromkeys(DOWNSTREAM_OF_GATES,
                                                                                     "upstream_failed")
    assert day.retraining.tasks["contract_gate"] == "success" and day.retraining.tasks["skew_gate"] == "success"


def test_a_run_within_the_minimum_interval_skips_training_with_the_reason(story: dict[str, Any]) -> None:
    """Day 4 retrained; a second run for the same day (a manual rerun, an asset event) is inside the
    policy's 12h minimum interval: the policy skips training, says why, and the run is not a failure."""
    from airflow_provider_parity.operators.base import ledger_uri
    from airflow_provider_parity.outcomes.ledger import read_outcomes
    from churn.scenario import run_dag

    outcome = run_dag("daily_retraining", date(2026, 3, 7), {"day": DAYS[3].isoformat()})
    assert outcome.state == "success", outcome.tasks
    assert outcome.tasks["retraining_policy"] == "skipped"
    assert {t: outcome.tasks[t] for t in DOWNSTREAM_OF_GATES} == dict.fromkeys(DOWNSTREAM_OF_GATES, "skipped")
    assert outcome.verdict["status"] == "passed"
    assert outcome.verdict["gates"]["retraining_policy"]["reason"] == (
        "skip: last retraining 0.0h ago, under the minimum interval 12.0h")
    decisions = [(o.as_of, o.metrics["decision"]) for o in read_outcomes(ledger_uri(), gate="retraining_policy")
                 if o.metrics.get("mode") == "train"]
    assert decisions == [("2026-03-02T00:00:00+00:00", "retrain"), ("2026-03-05T00:00:00+00:00", "retrain"),
                         ("2026-03-05T00:00:00+00:00", "skip")]


def test_the_weekly_label_audit_records_its_agreement_and_names_the_flipping_annotator(
        story: dict[str, Any]) -> None:
    """The audit of the flipped day's labels (after the annotator-flip test) fails, naming the annotator;
    its agreement is in the ledger as a label_audit outcome and its sample in the lake."""
    from airflow_provider_parity.operators.base import ledger_uri
    from airflow_provider_parity.outcomes.ledger import read_outcomes
    from churn.labels import audit_path
    from churn.scenario import run_dag
    from churn.settings import load_settings

    outcome = run_dag("label_audit", date(2026, 3, 8), {"day": "2026-03-05", "lookback_days": 1, "per_class": 40})
    assert outcome.blocked_by == "label_audit" and "worst annotator 'ann_3'" in outcome.reason
    [audit] = read_outcomes(ledger_uri(), gate="label_audit")
    assert audit.blocking and audit.metrics["sampled"] == 80 and audit.metrics["krippendorff_alpha"] < 0.667
    assert Path(audit_path(load_settings().lake_uri, "2026-03-05")).exists()
def test_feature_pipeline_materialises_each_clean_version_into_the_online_store(story: dict[str, Any]) -> None:
    """The version write_features committed after the contract gate is what the online store holds; a
    blocked day materialises nothing; a retry of the same version is a no-op."""
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.serving.online_store import materialize, open_store
    from churn.settings import load_settings

    assert story["clean"].features.tasks["materialize"] == "success"
    assert story["broken"].features.tasks["materialize"] == "upstream_failed"
    # The ledger is compacted on blocked days too, and the verdict still fails the blocked run.
    assert story["broken"].features.tasks["compact_ledger"] == "success"
    assert story["broken"].features.tasks["verdict"] == "failed"
    settings = load_settings()
    # The embedded default: SQLite under the lake.
    assert settings.online_store == f"sqlite:///{Path(settings.lake_uri) / 'online' / 'online.db'}"
    store = open_store(settings.online_store)
    try:
        # The newest clean version (the story's days 1, 2, 4 wrote 0, 1, 2; later tests may add more).
        from deltalake import DeltaTable

        latest = DeltaTable(settings.features_table).version()
        assert latest >= 2 and store.materialised_version("customer_features") == latest
        lookup = store.read("customer_features", [["C000001"]])
        assert lookup.versions == [latest] and lookup.rows[0] is not None
        retry = materialize(settings.features_table, latest, load_contract(settings.contract_path), store)
        assert retry.skipped and retry.entities == 0
    finally:
        store.close()


def test_the_days_traffic_went_through_parity_serve_over_http(story: dict[str, Any]) -> None:
    """The serving log is the real service's: materialisation versions, boundary verdicts, the model that
    answered (none on day 1, before the first champion; v1 on day 2) and the replay clock's 22:00."""
    from airflow_provider_parity.delta import read_arrow
    from churn.settings import load_settings

    assert story["clean"].serving["url"].startswith("http://127.0.0.1:")
    log = read_arrow(load_settings().serving_log_table).to_pylist()
    by_day: dict[str, list[dict[str, Any]]] = {}
    for row in log:
        by_day.setdefault(row["served_at"].date().isoformat(), []).append(row)
    # Day 3 served nothing new (later tests' days may add traffic of their own).
    assert {d.isoformat() for d in (DAYS[0], DAYS[1], DAYS[3])} <= set(by_day) and DAYS[2].isoformat() not in by_day
    first, second = by_day[DAYS[0].isoformat()], by_day[DAYS[1].isoformat()]
    assert len(first) == story["clean"].serving["rows"] == 1000
    assert {r["model_version"] for r in first} == {None} and {r["prediction"] for r in first} == {None}
    assert {r["model_version"] for r in second} == {"1"} and all(0 <= r["prediction"] <= 1 for r in second)
    assert {r["materialisation_version"] for r in first} == {0} and {r["boundary"] for r in log} == {"passed"}
    assert min(r["served_at"] for r in first).hour == 22
