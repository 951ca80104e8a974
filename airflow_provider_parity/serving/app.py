"""The reference online service behind ``parity serve``: online features, the boundary check, the champion, the log.

One request, in order: read the entities' rows from the online store, check them with the contract
(:func:`~airflow_provider_parity.validation.check_batch`, the same rules as the offline gate), then
either reject (HTTP 422) or serve with ``degraded`` set, as the policy says; predict with the model
behind the MLflow alias ``champion``; enqueue one serving-log row per entity; answer.

* **Champion**: a thread polls the alias and swaps in a new version without a restart; a poll that
  fails keeps the current model (serving never stops because the registry blinked).
* **Serving log**: a Delta table, one row per served entity (request_id, entity key, served_at,
  model_version, the values as served, materialisation_version, boundary verdict, degraded, prediction).
  A background thread appends batches, so a request never waits for storage; on shutdown (uvicorn
  turns SIGTERM into a graceful stop: in-flight requests finish, then the lifespan ends) the thread
  drains its queue, so every answered request is in the log. Rejected requests served nothing and are
  counted in ``/metrics``, not logged.
* ``/healthz`` (alive), ``/readyz`` (503 until a champion is loaded), ``/metrics`` (Prometheus text
  format), and FastAPI's ``/openapi.json``.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.serving.faults import Rounding
from airflow_provider_parity.serving.online_store import (
    OnlineStore,
    entity_keys,
    event_time_column,
    to_batch,
)
from airflow_provider_parity.serving.scorer import LinearScorer
from airflow_provider_parity.transform.request_time import request_feature_names, with_request_features

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract

log = logging.getLogger("parity.serve")
OnFailure = Literal["reject", "degrade"]
ALIAS = "champion"


# --------------------------------------------------------------------------- the champion model

class Champion:
    """The model behind ``models:/<name>@champion``, reloaded when the alias moves."""

    def __init__(self, name: str, tracking_uri: str | None, *, wait: bool = False,
                 numeric: Collection[str] = ()) -> None:
        """Load the champion; with ``wait``, start without one (predictions null) until the alias appears."""
        import mlflow

        from airflow_provider_parity.tracking.client import make_client

        if tracking_uri:
            mlflow.set_tracking_uri(tracking_uri)
            mlflow.set_registry_uri(tracking_uri)
        self.name = name
        self.client = make_client(tracking_uri, tracking_uri)
        self.wait, self.numeric = wait, list(numeric)
        # Swapped whole: readers never see a version with another version's model or scorer.
        self.current: tuple[str | None, Any, LinearScorer | None] = (None, None, None)
        version = self.alias_version()
        if version is not None:
            self.current = self._load(version)

    def alias_version(self) -> str | None:
        """The alias' version; None when there is none yet and the service may wait for it."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.name, ALIAS).version)
        except MlflowException as exc:
            if self.wait and exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise ConfigurationError(f"model {self.name!r} has no version with alias {ALIAS!r}: "
                                     f"{str(exc).splitlines()[0][:200]}") from None

    def _load(self, version: str) -> tuple[str, Any, LinearScorer | None]:
        import mlflow

        from airflow_provider_parity.serving.scorer import linear_scorer

        uri = f"models:/{self.name}/{version}"
        try:  # the sklearn flavour predicts probabilities; any other model goes through pyfunc
            model = mlflow.sklearn.load_model(uri)
        except Exception:  # not an sklearn model: pyfunc loads every flavour
            return version, mlflow.pyfunc.load_model(uri), None
        return version, model, linear_scorer(model, self.numeric)

    def refresh(self) -> bool:
        """Load the alias' version when it moved; True when the model changed."""
        version = self.alias_version()
        if version is None or version == self.current[0]:
            return False
        self.current = self._load(version)
        log.warning("champion of %s is now version %s", self.name, version)
        return True

    def predict(self, model: Any, features: pa.Table, default: list[str]) -> list[float | None]:
        """Scores for ``features``: the columns the model was fitted on when it says so (any served column,
        e.g. a ``metadata`` one the training used), else the ``default`` ones (the contract's features)."""
        import pandas as pd

        fitted = getattr(model, "feature_names_in_", None)
        names = default if fitted is None else [str(n) for n in fitted]
        # Column by column: half the time of Table.to_pandas on a one-row batch.
        frame = pd.DataFrame({n: features.column(n).to_numpy(zero_copy_only=False) for n in names})
        scores = model.predict_proba(frame)[:, 1] if hasattr(model, "predict_proba") else model.predict(frame)
        return [float(s) for s in scores]


# --------------------------------------------------------------------------- the serving log

@dataclass(frozen=True)
class LogRecord:
    """What one answered request logs, as plain values: turned into Arrow per flush, not per request."""

    entities: list[tuple[Any, ...]]
    rows: list[dict[str, Any] | None]
    request_id: str
    served_at: datetime
    model_version: str | None
    versions: list[int | None]
    predictions: list[float | None]
    boundary: str
    degraded: bool

    @property
    def num_rows(self) -> int:
        return len(self.entities)


def log_table(contract: Contract, records: list[LogRecord]) -> pa.Table:
    """The serving log's rows for ``records``: the served batch typed by the contract, then the request's columns."""
    import pyarrow as pa

    def each(value: Callable[[LogRecord], Any]) -> list[Any]:
        return [value(r) for r in records for _ in range(r.num_rows)]

    batch = to_batch(contract, [e for r in records for e in r.entities], [row for r in records for row in r.rows])
    extra = {"request_id": pa.array(each(lambda r: r.request_id), pa.string()),
             "served_at": pa.array(each(lambda r: r.served_at), pa.timestamp("us", tz="UTC")),
             "model_version": pa.array(each(lambda r: r.model_version), pa.string()),
             "materialisation_version": pa.array([v for r in records for v in r.versions], pa.int64()),
             "boundary": pa.array(each(lambda r: r.boundary), pa.string()),
             "degraded": pa.array(each(lambda r: r.degraded), pa.bool_()),
             "prediction": pa.array([p for r in records for p in r.predictions], pa.float64())}
    for name, array in extra.items():
        batch = batch.append_column(name, array)
    return batch


class LogWriter:
    """Appends queued requests to the serving log's Delta table from one background thread.

    Items are Arrow tables, or anything ``convert`` turns into one table per flush (the service queues
    :class:`LogRecord`: building Arrow arrays for one row per request cost more than the rest of it).
    """

    def __init__(self, uri: str, *, flush_seconds: float = 1.0, max_rows: int = 1000,
                 storage_options: Mapping[str, str] | None = None,
                 convert: Callable[[list[Any]], pa.Table] | None = None) -> None:
        self.uri, self.flush_seconds, self.max_rows = uri, flush_seconds, max_rows
        self.storage_options = dict(storage_options or {})
        self.convert = convert
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="parity-serving-log", daemon=True)
        self.written = 0

    def start(self) -> None:
        self._thread.start()

    def put(self, rows: Any) -> None:
        self._queue.put(rows)

    def close(self) -> None:
        """Flush everything queued, then stop (called once the server stopped taking requests)."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        pending: list[Any] = []
        rows = 0
        deadline = time.monotonic() + self.flush_seconds
        stopping = False
        while not stopping:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                stopping = item is None  # put last, after the server stopped taking requests
                if item is not None:
                    pending.append(item)
                    rows += item.num_rows
            except queue.Empty:
                pass
            if stopping or time.monotonic() >= deadline or rows >= self.max_rows:
                pending = self._flush(pending)
                rows = sum(t.num_rows for t in pending)
                deadline = time.monotonic() + self.flush_seconds
        if pending:  # the last flush failed: one more try, then say what is lost
            pending = self._flush(pending)
            if pending:
                log.error("serving log: %d rows could not be written", sum(t.num_rows for t in pending))

    def _flush(self, pending: list[Any]) -> list[Any]:
        """Append ``pending`` as one Delta commit; keep it for the next flush when the store fails."""
        if not pending:
            return pending
        import pyarrow as pa
        from deltalake import write_deltalake

        try:
            table = self.convert(pending) if self.convert else pa.concat_tables(pending)
            write_deltalake(self.uri, table, mode="append", storage_options=self.storage_options or None)
        except Exception as exc:  # a store outage must not kill the thread: retry next tick
            log.error("serving log append failed (will retry): %s", str(exc).splitlines()[0][:200])
            return pending
        self.written += table.num_rows
        return []


# --------------------------------------------------------------------------- metrics

class Metrics:
    """The service's Prometheus metrics in their own registry."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("parity_serving_requests", "Prediction requests by outcome", ["outcome"],
                                registry=self.registry)
        self.latency = Histogram("parity_serving_latency_seconds", "Time to answer /predict",
                                 buckets=(.001, .002, .005, .01, .025, .05, .1, .25, .5, 1.0), registry=self.registry)
        self.boundary_failures = Counter("parity_serving_boundary_failures", "Requests failing the contract check",
                                         ["policy"], registry=self.registry)
        self.staleness = Gauge("parity_serving_feature_staleness_seconds",
                               "Age of the newest served feature row's event time (last request)", registry=self.registry)
        self.model_version = Gauge("parity_serving_model_version", "Champion version being served", registry=self.registry)
        # Bound once: a labels() lookup per request is measurable at this scale.
        self.outcomes = {o: self.requests.labels(o) for o in ("served", "degraded", "rejected", "error")}

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))


# --------------------------------------------------------------------------- the service

@dataclass
class Service:
    """Everything a request needs, built once by ``parity serve``."""

    contract: Contract
    store: OnlineStore
    champion: Champion
    writer: LogWriter
    on_failure: OnFailure = "reject"
    poll_seconds: float = 30.0
    view: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """``served_at`` and the boundary's freshness reference: the wall clock, or a replay clock (``--replay-from``)."""
    fault: Rounding | None = None
    """An incident injected on purpose (``--fault``): applied to the served batch before the boundary check."""
    metrics: Metrics = field(default_factory=Metrics)
    features_ready: bool = True
    """False when started before the view's first materialisation (``--wait-for-features``): requests
    get 503 and ``/readyz`` says not ready until one lands, then this stays True."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        from functools import partial

        from airflow_provider_parity.serving.rowcheck import RowCheck

        self.view = self.view or self.contract.name
        self.keys = entity_keys(self.contract)
        self.event_time = event_time_column(self.contract)
        self.features = [c.name for c in self.contract.columns_for("serving") if c.role == "feature"]
        self.row_check = RowCheck(self.contract)
        if self.writer.convert is None:
            self.writer.convert = partial(log_table, self.contract)

    def poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.champion.refresh()
            except Exception as exc:  # keep serving the current champion
                log.error("champion poll failed, keeping version %s: %s", self.champion.current[0],
                          str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__)

    def start(self) -> None:
        self.writer.start()
        threading.Thread(target=self.poll, name="parity-champion-poll", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.writer.close()
        self.store.close()


class PredictRequest(BaseModel):
    entities: list[dict[str, str | int]] = Field(min_length=1, max_length=1000,
                                                 description="One object per entity: its key columns and values")


class PredictResponse(BaseModel):
    request_id: str
    model_version: str | None
    materialisation_version: list[int | None]
    predictions: list[float | None]
    boundary: Literal["passed", "failed"]
    degraded: bool
    failures: list[str] = []


def _entity_tuples(service: Service, entities: list[dict[str, str | int]]) -> list[tuple[Any, ...]]:
    missing = [k for k in service.keys if any(k not in e for e in entities)]
    if missing:
        raise HTTPException(status_code=422, detail=f"every entity needs its key column {missing[0]!r}")
    return [tuple(e[k] for k in service.keys) for e in entities]


def _failures(service: Service, entities: list[tuple[Any, ...]], rows: list[dict[str, Any] | None],
              full: list[dict[str, Any] | None], now: datetime) -> list[str]:
    """The boundary check: the compiled single-row rules when every row passes them, else ``check_batch``
    (which decides, and names what failed)."""
    from airflow_provider_parity.validation import check_batch

    if all(service.row_check.passes(row, now) for row in full):
        return []
    return [f.message() for f in check_batch(service.contract, to_batch(service.contract, entities, rows),
                                             now=now).failures]


def _scores(service: Service, entities: list[tuple[Any, ...]], rows: list[dict[str, Any] | None],
            full: list[dict[str, Any] | None], now: datetime) -> tuple[str | None, list[float | None]]:
    """The champion's version and a score per entity (None: unknown entity, or no champion yet)."""
    version, model, scorer = service.champion.current
    predictions: list[float | None] = [None] * len(entities)
    known = [i for i, row in enumerate(full) if row is not None] if model is not None else []
    if not known:
        return version, predictions
    # Request-time features by the rule the training set was built with (defined once: transform.request_time).
    batch = with_request_features(to_batch(service.contract, [entities[i] for i in known], [rows[i] for i in known]),
                                  now)
    scores: list[float] | list[float | None]
    if scorer is not None:
        scores = scorer.score(batch.to_pylist())
    else:
        scores = service.champion.predict(model, batch, [*service.features, *request_feature_names(batch)])
    for i, score in zip(known, scores, strict=True):
        predictions[i] = score
    return version, predictions


def _await_features(service: Service) -> None:
    # Checked per request only until the first materialisation is seen: one store round trip each.
    if service.store.materialised_version(service.view) is None:
        raise HTTPException(status_code=503, detail=f"feature view {service.view!r} is not materialised yet")
    service.features_ready = True


def predict(service: Service, request: PredictRequest) -> dict[str, Any]:
    """One request: lookup, boundary check, policy, prediction, log (see the module docstring).

    Returns:
        The :class:`PredictResponse` as a plain dict (the endpoint serialises it without re-validating).
    """
    entities = _entity_tuples(service, request.entities)
    if not service.features_ready:
        _await_features(service)
    lookup = service.store.read(service.view, entities)
    rows = lookup.rows
    if service.fault is not None:
        rows = service.fault.apply_rows(entities, rows, service.keys)
    now = service.clock()
    full = [None if row is None else {**dict(zip(service.keys, entity, strict=True)), **row}
            for entity, row in zip(entities, rows, strict=True)]
    failures = _failures(service, entities, rows, full, now)
    if failures:
        service.metrics.boundary_failures.labels(service.on_failure).inc()
        if service.on_failure == "reject":
            raise HTTPException(status_code=422, detail={"boundary": "failed", "failures": failures})
    stamps = [r[service.event_time] for r in rows if r is not None and r.get(service.event_time) is not None]
    if stamps:
        service.metrics.staleness.set(now.timestamp() - max(stamps) / 1e6)
    version, predictions = _scores(service, entities, rows, full, now)
    request_id = uuid.uuid4().hex
    boundary = "failed" if failures else "passed"
    service.writer.put(LogRecord(entities, rows, request_id, now, version, lookup.versions, predictions, boundary,
                                 bool(failures)))
    return {"request_id": request_id, "model_version": version, "materialisation_version": lookup.versions,
            "predictions": predictions, "boundary": boundary, "degraded": bool(failures), "failures": failures}


def create_app(service: Service) -> FastAPI:
    """The FastAPI application over ``service`` (its threads start and stop with the app's lifespan)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.start()
        try:
            yield
        finally:
            service.stop()

    app = FastAPI(title="parity serve", version="1", lifespan=lifespan,
                  description=f"Online predictions for {service.contract.ref}, model {service.champion.name}@{ALIAS}.")

    # async endpoints run on the event loop: each step is short and CPU-bound, so a thread-pool hop
    # per request would only add latency on a 2-core machine.
    @app.post("/predict", response_model=PredictResponse,
              responses={422: {"description": "the request, or (policy reject) its features, failed the contract"}})
    async def predict_endpoint(request: PredictRequest) -> Response:
        started = time.perf_counter()
        outcome = "error"
        try:
            answer = predict(service, request)
            outcome = "degraded" if answer["degraded"] else "served"
            # Serialised directly: the dict is built to PredictResponse's shape, and re-validating it through
            # the response model cost a tenth of a request. The OpenAPI schema still comes from response_model.
            return Response(json.dumps(answer, separators=(",", ":")).encode(), media_type="application/json")
        except HTTPException:
            outcome = "rejected"
            raise
        finally:
            service.metrics.outcomes[outcome].inc()
            service.metrics.latency.observe(time.perf_counter() - started)

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "model": service.champion.name, "model_version": service.champion.current[0],
                "materialisation_version": service.store.materialised_version(service.view),
                "log_rows_written": service.writer.written}

    @app.get("/readyz")
    async def readyz(response: Response) -> dict[str, Any]:
        # Ready to take traffic once a champion is loaded and the features are materialised
        # (--wait-for-champion and --wait-for-features start without them): a readiness probe keeps
        # the pod out of the Service until then, without a restart loop.
        version = service.champion.current[0]
        materialised = service.store.materialised_version(service.view)
        ready = version is not None and materialised is not None
        if not ready:
            response.status_code = 503
        return {"ready": ready, "model_version": version, "materialisation_version": materialised}

    @app.get("/metrics")
    async def metrics() -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        version = service.champion.current[0]
        if version is not None:  # no champion yet (--wait-for-champion): no sample rather than a made-up 0
            service.metrics.model_version.set(float(version))
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
