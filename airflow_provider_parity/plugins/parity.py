"""The Parity plugin: what gates leave behind, served by the api-server behind Airflow's login.

Mounted at ``/parity`` on the api-server (Airflow 3's ``fastapi_apps``):

* ``GET /parity/reports?uri=...``: a gate report (HTML or JSON) read from the artifact store,
  wherever the worker that wrote it put it (a folder or object storage). The operators' extra
  links point here, so a report opens from any browser, not through a ``file://`` path on one
  worker's disk. Only URIs under ``[parity] report_dir`` are served.
* ``GET /parity/outcomes?dataset=&gate=&since=``: gate outcomes from the results ledger, as JSON.
* ``GET /parity/metrics``: the ledger in the Prometheus text format (``slo.metrics.render``), for
  Prometheus to scrape with a bearer token (an exporter over the ledger rather than a Pushgateway:
  the README's "Data SLOs" says why).
* ``GET /parity/``: the datasets in the ledger with their latest outcome per gate (the "Parity"
  entry of Airflow's navigation, an external view).
* ``GET /parity/datasets/{dataset}`` (the ledger's URI, url-encoded, or its last path segment):
  every gate outcome with its reason and report links, the blocked days, the contract versions with
  their diffs, drift per feature and per-entity skew over time, freshness, SLO attainment.
* ``GET /parity/models/{name}``: champion, challenger, the alias history with its reasons, the
  approval decisions, a rollback form and explain links; ``POST /parity/models/{name}/rollback``: the
  form's rollback (CSRF-safe: ``plugins/forms.py``); ``GET /parity/models/{name}/explain?old=&new=``:
  what changed between two versions.
* ``GET /parity/drift?uri=``: a drift report by segment (the dataset page links each day's).

The pages are an external view served by this FastAPI app rather than a React app: the image has
no npm build step, the provider stays one Python package, and the pages sit behind the api-server's
own authentication like the JSON routes. They are server-rendered HTML (``reports/view.py``), each
reading only the ledger columns it shows, once per request, reused until the ledger's next commit.

Airflow does not authenticate plugin apps (a Starlette mount inherits none of the core API's
dependencies), so every route here depends on Airflow's own ``get_user``: the JWT the UI holds
(cookie) or an ``Authorization: Bearer`` token, as for the REST API.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

# At module level, not in the function: FastAPI resolves the routes' (postponed) annotations in
# this module's namespace, and an unresolved ``Request`` would become a required query parameter.
from fastapi import Request

if TYPE_CHECKING:
    from fastapi import FastAPI


def create_app() -> Any:
    """The FastAPI app (built when the api-server loads plugins)."""
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import JSONResponse, Response

    from airflow_provider_parity.exceptions import ServiceUnavailable

    try:
        from airflow.api_fastapi.core_api.security import get_user

        dependencies = [Depends(get_user)]
        user = Depends(get_user)  # cached per request: the app-level check already resolved it
    except ImportError:  # pragma: no cover - Airflow without the API server's security module
        dependencies, user = [], Depends(lambda: None)
    app = FastAPI(title="Parity", dependencies=dependencies)

    @app.get("/reports")
    def report(uri: str = Query(..., description="the report's URI (the report_html or report_json XCom)")) -> Response:
        media = "text/html; charset=utf-8" if uri.endswith(".html") else "application/json"
        return Response(content=_report_bytes(uri), media_type=media)

    @app.get("/drift")
    def drift_segments(uri: str = Query(..., description="a drift report's JSON URI")) -> Response:
        import json

        from airflow_provider_parity.reports.view import render_segments

        try:
            found = json.loads(_report_bytes(uri))
        except ValueError:
            raise HTTPException(status_code=400, detail="not a JSON drift report") from None
        return Response(content=render_segments(found, uri), media_type="text/html; charset=utf-8")

    @app.get("/outcomes")
    def outcomes(dataset: str | None = None, gate: str | None = None, since: str | None = None) -> JSONResponse:
        from airflow_provider_parity.operators.base import ledger_uri, storage_options
        from airflow_provider_parity.outcomes.ledger import read_outcomes

        try:
            found = read_outcomes(ledger_uri(), storage_options=storage_options(), dataset=dataset, gate=gate,
                                  since=since)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        return JSONResponse([o.to_dict() for o in found])

    @app.get("/metrics")
    def metrics() -> Response:
        from airflow_provider_parity.operators.base import ledger_uri, storage_options
        from airflow_provider_parity.slo.metrics import render_ledger

        try:
            text = render_ledger(ledger_uri(), storage_options=storage_options())
        except ServiceUnavailable as exc:  # a failed scrape (up == 0), not an empty one that hides the ledger
            raise HTTPException(status_code=503, detail=str(exc)) from None
        return Response(content=text, media_type="text/plain; version=0.0.4; charset=utf-8")

    _add_pages(app, user)
    return app


def _add_pages(app: FastAPI, user: Any) -> None:
    """The HTML pages of the view (the external view's navigation entry opens ``/parity/``)."""
    from urllib.parse import quote

    from fastapi import HTTPException
    from fastapi.responses import HTMLResponse, Response

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        from airflow_provider_parity.reports.view import INDEX_COLUMNS, render_index

        return HTMLResponse(render_index(_ledger(INDEX_COLUMNS), base=_base(request)))

    @app.get("/datasets/{dataset:path}", response_class=HTMLResponse)
    def dataset_page(request: Request, dataset: str) -> HTMLResponse:
        from airflow_provider_parity.reports.view import PAGE_COLUMNS, render_dataset

        table = _ledger(PAGE_COLUMNS)
        diffs, contract = _recorded_contracts(table, dataset)
        page = render_dataset(table, dataset, base=_base(request), contract_diffs=diffs,
                              slo_lines=_slo_lines(table, dataset, contract))
        if page is None:
            raise HTTPException(status_code=404, detail=f"no outcome in the ledger for dataset {dataset!r}")
        return HTMLResponse(page)

    @app.get("/models/{name}", response_class=HTMLResponse)
    def model_page(request: Request, name: str, who: Any = user) -> HTMLResponse:
        from airflow_provider_parity.plugins.forms import form_token, user_name
        from airflow_provider_parity.reports.view import render_model
        from airflow_provider_parity.tracking.approval import approvals_of
        from airflow_provider_parity.tracking.history import read_history

        with _mlflow() as client:
            model = _registered(client, name)
            found = sorted(client.search_model_versions(f"name='{_quoted(name)}'"), key=lambda v: int(v.version))
            history = read_history(client, name)
        return HTMLResponse(render_model(name, aliases=dict(model.aliases or {}), versions=[str(v.version) for v in found],
                                         history=history, base=_base(request), token=form_token(user_name(who), name),
                                         approvals=approvals_of(found)))

    @app.post("/models/{name}/rollback")
    async def rollback_post(request: Request, name: str, who: Any = user) -> Response:
        from fastapi.responses import RedirectResponse
        from starlette.concurrency import run_in_threadpool

        from airflow_provider_parity.commands.rollback import request_id
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.plugins.forms import check_post, user_name
        from airflow_provider_parity.tracking.rollback import rollback

        by = user_name(who)
        try:
            form = check_post(request.headers, await request.body(), user=by, model=name)
        except PermissionError as exc:
            raise HTTPException(status_code=403, detail=str(exc)) from None

        def act() -> None:
            with _mlflow() as client:
                rollback(client, name, reason=form.get("reason", ""), to_version=form.get("to") or None,
                         request_id=request_id("view", by))

        try:
            await run_in_threadpool(act)
        except ConfigurationError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
        return RedirectResponse(f"{_base(request)}/models/{quote(name, safe='')}", status_code=303)

    @app.get("/models/{name}/explain", response_class=HTMLResponse)
    def explain_page(name: str, new: str, old: str | None = None) -> HTMLResponse:
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.reports.view import render_explain
        from airflow_provider_parity.tracking.explain import explain

        with _mlflow() as client:
            try:
                report = explain(client, name, old, new, storage_options=_storage_options())
            except ConfigurationError as exc:
                raise HTTPException(status_code=404, detail=str(exc)) from None
        return HTMLResponse(render_explain(report))


def _report_bytes(uri: str) -> bytes:
    """A report from the artifact store; only under ``[parity] report_dir`` (403), missing 404, outage 503."""
    from fastapi import HTTPException

    from airflow_provider_parity.artifacts import ArtifactStore
    from airflow_provider_parity.exceptions import DataError, ServiceUnavailable
    from airflow_provider_parity.operators.base import report_root, storage_options

    root = report_root().rstrip("/")
    if not (uri == root or uri.startswith(root + "/")) or ".." in uri.split("/"):
        raise HTTPException(status_code=403, detail="only reports under [parity] report_dir are served")
    try:
        return ArtifactStore(storage_options()).read_bytes(uri)
    except DataError:
        raise HTTPException(status_code=404, detail="no such report") from None
    except ServiceUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


def _recorded_contracts(table: Any, dataset: str) -> tuple[dict[str, list[str]], Any]:
    """The dataset's contract diffs, and its newest contract, from the contracts training runs recorded in
    MLflow (({}, None): no MLflow configured or reachable: the page still lists the versions)."""
    import os

    from fastapi import HTTPException

    from airflow_provider_parity.compat import parity_option
    from airflow_provider_parity.reports.contract_history import contract_diffs, recorded_contract
    from airflow_provider_parity.reports.view import dataset_contracts

    versions = dataset_contracts(table, dataset)
    if not versions or not (parity_option("mlflow_conn_id", "") or os.environ.get("MLFLOW_TRACKING_URI")):
        return {}, None
    try:
        with _mlflow() as client:
            return contract_diffs(client, versions), recorded_contract(client, versions[-1].ref)
    except HTTPException:
        return {}, None


def _slo_lines(table: Any, dataset: str, contract: Any) -> list[str]:
    """The SLO report of the dataset's newest contract over its windows (the outcomes of those days only)."""
    from datetime import UTC, datetime

    from airflow_provider_parity.operators.base import ledger_uri
    from airflow_provider_parity.outcomes.ledger import read_outcomes
    from airflow_provider_parity.reports.view import resolve_dataset
    from airflow_provider_parity.slo.attainment import lookback, measure
    from airflow_provider_parity.slo.report import report_lines

    if contract is None or contract.slos is None or (uri := resolve_dataset(table, dataset)) is None:
        return []
    now = datetime.now(UTC)
    found = read_outcomes(ledger_uri(), storage_options=_storage_options(), dataset=uri, since=now - lookback([contract]))
    return report_lines([contract], measure(contract, found, now=now), now)


def _base(request: Any) -> str:
    """The plugin's URL prefix as the browser sees it (behind a proxy's root path too)."""
    return str(request.scope.get("root_path", "")).rstrip("/") or "/parity"


def _storage_options() -> dict[str, str]:
    from airflow_provider_parity.operators.base import storage_options

    return storage_options()


def _ledger(columns: Any) -> Any:
    """The ledger's ``columns`` (None: no ledger yet): once per request at most, reused while the ledger has
    no new commit, never the outcome JSON."""
    from fastapi import HTTPException

    from airflow_provider_parity.exceptions import ServiceUnavailable
    from airflow_provider_parity.operators.base import ledger_uri
    from airflow_provider_parity.outcomes.ledger import read_table_cached

    try:
        return read_table_cached(ledger_uri(), columns, storage_options=_storage_options())
    except ServiceUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


@contextmanager
def _mlflow() -> Iterator[Any]:
    """A client for ``[parity] mlflow_conn_id``, else ``MLFLOW_TRACKING_URI``; an outage is a 503."""
    import os

    from fastapi import HTTPException

    from airflow_provider_parity.compat import parity_option
    from airflow_provider_parity.exceptions import ServiceUnavailable
    from airflow_provider_parity.tracking.client import bounded_requests, make_client, outage_as_error

    conn_id = parity_option("mlflow_conn_id", "")
    try:
        with bounded_requests():
            if conn_id:
                from airflow_provider_parity.hooks.mlflow import MlflowHook

                with MlflowHook(conn_id).client() as client:
                    yield client
            else:
                uri = os.environ.get("MLFLOW_TRACKING_URI")
                with outage_as_error(uri):
                    yield make_client(uri)
    except ServiceUnavailable as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None


def _quoted(name: str) -> str:
    return name.replace("'", "\\'")


def _registered(client: Any, name: str) -> Any:
    from fastapi import HTTPException
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(name)
    except MlflowException:
        raise HTTPException(status_code=404, detail=f"no registered model {name!r}") from None


class ParityPlugin(AirflowPlugin):
    name = "parity"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/parity", "name": "Parity"}]
    # The navigation entry: Airflow's UI shows /parity/ in an iframe under "Parity".
    external_views = [{"name": "Parity", "href": "/parity/", "url_route": "parity", "destination": "nav",
                       "category": "browse"}]
