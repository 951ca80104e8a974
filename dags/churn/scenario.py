"""Run the bundle's DAGs in one process, day by day: the demo and the end-to-end tests.

Each DAG runs through Airflow's own ``dag.test()`` (real task instances, XComs, callbacks
and trigger rules in the metadata database), loaded from the configured dags folder as the
dag-processor would. A simulated day is: feature_pipeline for that day (which materialises the
new version into the online store), the day's requests through ``parity serve`` (which logs what
it served; optionally drifted or rounding), daily_retraining, then the serving monitor.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal

from airflow_provider_parity.compat import conf
from airflow_provider_parity.operators.verdict import read_verdict
from churn.settings import Settings, load_settings

# When each DAG runs for a day D: features at D+1 00:00, retraining at 02:00, the monitor at 03:00.
RUN_HOURS = {"feature_pipeline": 0, "daily_retraining": 2, "serving_skew_monitor": 3}


@dataclass
class RunOutcome:
    """How one DAG run ended: its state, each task's state and the verdict task's summary."""

    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]
    verdict: dict[str, Any] | None = None

    @property
    def blocked_by(self) -> str | None:
        return (self.verdict or {}).get("blocked_by")

    @property
    def reason(self) -> str | None:
        return (self.verdict or {}).get("reason")

    def ran(self, task_id: str) -> bool:
        return self.tasks.get(task_id) == "success"


@dataclass
class DayResult:
    day: date
    features: RunOutcome
    retraining: RunOutcome
    monitor: RunOutcome
    serving: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


def load_dag(dag_id: str) -> Any:
    """The DAG object of ``<dags_folder>/<dag_id>.py``, imported as the dag-processor would."""
    path = Path(conf.get("core", "dags_folder")) / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"parity_bundle_{dag_id}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def verdict_of(dag_id: str, run_id: str) -> dict[str, Any] | None:
    """The run's ``verdict.json`` (written by GateVerdictOperator beside the gate reports)."""
    return read_verdict(dag_id, run_id)


def run_dag(dag_id: str, day: date, conf_: dict[str, Any] | None = None) -> RunOutcome:
    """Run ``dag_id`` for ``day`` (at its hour of the next day) and collect the outcome."""
    moment = datetime.combine(day + timedelta(days=1), time(RUN_HOURS.get(dag_id, 0)), tzinfo=UTC)
    dag_run = load_dag(dag_id).test(logical_date=moment, run_conf=conf_)
    tasks = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in dag_run.get_task_instances()}
    state = str(getattr(dag_run.state, "value", dag_run.state))
    return RunOutcome(dag_id, dag_run.run_id, state, tasks, verdict_of(dag_id, dag_run.run_id))


def run_day(day: date, *, faults: Collection[str] = (), serving_drift: bool = False, serving_rounding: bool = False,
            settings: Settings | None = None, retraining_conf: dict[str, Any] | None = None,
            wrap: Callable[[str, Callable[[], Any]], Any] | None = None,
            traffic: Literal["service", "stand-in"] = "service") -> DayResult:
    """One simulated day through the three scheduled DAGs.

    ``wrap(label, step)`` runs each step (default: just calls it): the demo uses it to show
    progress and keep Airflow's task logs out of the terminal. ``traffic``: the day's requests
    over HTTP through ``parity serve`` (``churn.serving.serve_traffic``), or the in-process
    stand-in that writes the serving log itself (``log_serving_traffic``).
    """
    from churn.serving import log_serving_traffic, serve_traffic

    settings = settings or load_settings()
    call = wrap or (lambda _label, step: step())
    features = call("feature_pipeline", lambda: run_dag("feature_pipeline", day, {"faults": ",".join(faults)}))
    serving = None
    notes = []
    if features.ran("materialize") and traffic == "service":
        serving = call("serving traffic", lambda: serve_traffic(
            settings=settings, day=day.isoformat(), drift=serving_drift, rounding=serving_rounding))
    elif features.ran("write_features"):
        serving = call("serving traffic", lambda: log_serving_traffic(
            lake_uri=settings.lake_uri, features_table=settings.features_table,
            contract_path=settings.contract_path, day=day.isoformat(), drift=serving_drift,
            rounding=serving_rounding))
    else:
        notes.append("no new features: the online service served yesterday's and logged no traffic")
    retraining = call("daily_retraining", lambda: run_dag("daily_retraining", day, retraining_conf))
    monitor = call("serving_skew_monitor", lambda: run_dag("serving_skew_monitor", day))
    return DayResult(day, features, retraining, monitor, serving, notes)
