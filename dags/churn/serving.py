"""The serving side of the bundle: the day's traffic, the champion's training data, retraining requests.

``serve_traffic`` sends the day's requests over HTTP through ``parity serve`` (a real process) and
lets it log what it served. ``log_serving_traffic`` is the in-process stand-in kept for quick
tests: it checks each request batch at the serving boundary against the same contract the
training data passed (``check_batch``), then appends it to the serving feature log (a Delta table).
The monitor reads that log back against the champion's pinned training snapshot, which it
finds through MLflow.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import ConfigurationError

if TYPE_CHECKING:
    from churn.settings import Settings


def log_serving_traffic(*, lake_uri: str, features_table: str, contract_path: str, day: str, drift: bool = False,
                        rounding: bool = False, n_requests: int = 1000, seed: int = 7) -> dict[str, Any]:
    """Serve ``n_requests`` requests for ``day`` from that day's features and log what was served.

    ``drift`` shifts the served distribution; ``rounding`` serves 2% of customers a rounded
    ``avg_ticket_30d`` (``churn.datagen.serving_traffic``).

    Returns:
        ``{"rows", "version", "boundary": {"passed", "failures"}}``: the serving log version written
        and what the boundary check found.
    """
    import pyarrow.compute as pc

    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.delta import read_arrow
    from airflow_provider_parity.delta.writer import write_version
    from airflow_provider_parity.validation.native import check_batch
    from churn.datagen import serving_traffic

    served_day = date.fromisoformat(day)
    features = read_arrow(features_table)
    features = features.filter(pc.equal(features["feature_date"], served_day))
    if features.num_rows == 0:
        raise ConfigurationError(f"no features for {day} in {features_table}: run feature_pipeline for that day first")
    traffic = serving_traffic(features, day=served_day, n_requests=n_requests, seed=seed, drift=drift,
                              rounding=rounding)
    # The features served on a day are judged as of the end of that day (freshness included).
    boundary = check_batch(load_contract(contract_path), traffic.drop_columns(
        [c for c in ("request_id", "served_at", "model_version") if c in traffic.column_names]),
        now=datetime.combine(served_day + timedelta(days=1), time(), tzinfo=UTC))
    written = write_version(f"{lake_uri}/serving/feature_log", traffic, mode="append",
                            write_id=f"serving:{day}:{seed}:{int(drift)}:{int(rounding)}")
    return {"rows": traffic.num_rows, "version": written.snapshot.version,
            "boundary": {"passed": boundary.success, "failures": [r.message() for r in boundary.failures]}}


def serve_traffic(*, settings: Settings, day: str, drift: bool = False, rounding: bool = False,
                  n_requests: int = 1000, seed: int = 7, concurrency: int = 8) -> dict[str, Any]:
    """The day's requests through the real service: ``parity serve`` as a process on a loopback port.

    The service reads the online store ``feature_pipeline`` materialised, checks each request at
    the boundary, predicts with the champion (none yet on the first day: predictions null) and logs
    what it served; a concurrent client sends one entity per request; SIGTERM then stops the
    service, which flushes the serving log. The service's clock replays the traffic at 22:00 on
    ``day``: inside the window the day's gates read (the day's end is their moment) and within
    the contract's freshness of the day's features.

    ``drift``: the requests come from another population (:func:`churn.datagen.requested_customers`);
    ``rounding``: the service itself serves 2% of customers a rounded ``avg_ticket_30d``
    (``parity serve --fault``, :data:`churn.datagen.ROUNDING_FAULT`).

    Returns:
        ``{"rows", "version", "boundary": {"passed", "failures"}, "url"}``: the requests answered, the
        serving log's version after the flush, what the boundary check refused, where it listened.

    Raises:
        ConfigurationError: no features for ``day``; RuntimeError: the service failed.
    """
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    from airflow_provider_parity.delta import read_arrow
    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.serving.demo import ServiceProcess, send_requests
    from churn.datagen import ROUNDING_FAULT, requested_customers

    served_day = date.fromisoformat(day)
    features = read_arrow(settings.features_table, columns=["customer_id", "feature_date", "avg_ticket_30d"])
    features = features.filter(pc.equal(features["feature_date"], served_day))
    if features.num_rows == 0:
        raise ConfigurationError(f"no features for {day} in {settings.features_table}: run feature_pipeline first")
    customers = requested_customers(features, day=served_day, n_requests=n_requests, seed=seed, drift=drift)
    replay = datetime.combine(served_day, time(22), tzinfo=UTC)
    extra = ["--wait-for-champion", "--replay-from", replay.isoformat()]
    if rounding:
        extra += ["--fault", ROUNDING_FAULT]
    hook = MlflowHook(settings.mlflow_conn_id)
    output = Path(os.environ.get("AIRFLOW_HOME", tempfile.gettempdir())) / "parity" / f"serve-{day}.log"
    output.parent.mkdir(parents=True, exist_ok=True)
    with hook.environment():  # the connection's credentials reach the service as MLFLOW_* variables
        service = ServiceProcess(contract=settings.contract_path, store=settings.online_store,
                                 model=settings.model_name, log=settings.serving_log_table,
                                 tracking_uri=hook.settings.tracking_uri, extra=extra, output=output)
    try:
        service.wait_healthy()
        answers = send_requests(f"{service.url}/predict", [{"entities": [{"customer_id": c}]} for c in customers],
                                concurrency=concurrency)
    finally:
        code = service.stop()
    if code != 0:  # a graceful stop (the log flushed) exits 0
        raise RuntimeError(f"parity serve exited with {code} after SIGTERM: {service.tail()}")
    refused = [body for status, body in answers if status == 422]
    failures = sorted({f for body in refused for f in (body.get("detail") or {}).get("failures", [])})
    unexpected = [status for status, _ in answers if status not in (200, 422)]
    if unexpected:
        raise RuntimeError(f"parity serve answered {unexpected[0]} to {len(unexpected)} requests: {service.tail()}")
    return {"rows": len(answers) - len(refused), "version": DeltaTable(settings.serving_log_table).version(),
            "boundary": {"passed": not refused, "failures": failures}, "url": service.url}


def champion_training_input(*, model_name: str, mlflow_conn_id: str | None = None) -> dict[str, Any] | None:
    """The pinned Delta input the current champion was trained on, or None without a champion."""
    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.tracking import keys
    from airflow_provider_parity.tracking.client import aliases_of, load_version
    from airflow_provider_parity.tracking.reproduce import recorded_inputs

    with MlflowHook(mlflow_conn_id).client() as client:
        try:
            champion = aliases_of(client, model_name).get(keys.CHAMPION)
        except ConfigurationError:
            return None  # nothing registered yet
        if champion is None:
            return None
        info = load_version(client, model_name, champion)
    inputs = recorded_inputs(info.tags, f"{model_name} v{champion}")
    pinned = next((p for p in inputs if p.name == "training"), inputs[0])
    return {"model_version": champion, "uri": pinned.uri, "version": pinned.version,
            "fingerprint": pinned.fingerprint}


def last_model_age(*, model_name: str, mlflow_conn_id: str | None = None,
                   now: datetime | None = None) -> float | None:
    """Seconds since the newest version of ``model_name`` was registered (None: never)."""
    from airflow_provider_parity.hooks.mlflow import MlflowHook

    with MlflowHook(mlflow_conn_id).client() as client:
        versions = client.search_model_versions(f"name = '{model_name}'", max_results=1,
                                                order_by=["creation_timestamp DESC"])
    if not versions:
        return None
    created = datetime.fromtimestamp(versions[0].creation_timestamp / 1000, tz=UTC)
    return ((now or datetime.now(UTC)) - created).total_seconds()
