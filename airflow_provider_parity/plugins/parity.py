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

Airflow does not authenticate plugin apps (a Starlette mount inherits none of the core API's
dependencies), so every route here depends on Airflow's own ``get_user``: the JWT the UI holds
(cookie) or an ``Authorization: Bearer`` token, as for the REST API.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin


def create_app() -> Any:
    """The FastAPI app (built when the api-server loads plugins)."""
    from fastapi import Depends, FastAPI, HTTPException, Query
    from fastapi.responses import JSONResponse, Response

    from airflow_provider_parity.exceptions import DataError, ServiceUnavailable

    try:
        from airflow.api_fastapi.core_api.security import get_user

        dependencies = [Depends(get_user)]
    except ImportError:  # pragma: no cover - Airflow without the API server's security module
        dependencies = []
    app = FastAPI(title="Parity", dependencies=dependencies)

    @app.get("/reports")
    def report(uri: str = Query(..., description="the report's URI (the report_html or report_json XCom)")) -> Response:
        from airflow_provider_parity.artifacts import ArtifactStore
        from airflow_provider_parity.operators.base import report_root, storage_options

        root = report_root().rstrip("/")
        if not (uri == root or uri.startswith(root + "/")) or ".." in uri.split("/"):
            raise HTTPException(status_code=403, detail="only reports under [parity] report_dir are served")
        try:
            data = ArtifactStore(storage_options()).read_bytes(uri)
        except DataError:
            raise HTTPException(status_code=404, detail="no such report") from None
        except ServiceUnavailable as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        media = "text/html; charset=utf-8" if uri.endswith(".html") else "application/json"
        return Response(content=data, media_type=media)

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

    return app


class ParityPlugin(AirflowPlugin):
    name = "parity"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/parity", "name": "Parity"}]
