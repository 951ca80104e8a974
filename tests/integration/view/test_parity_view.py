"""The Parity view in headless Chromium against a real ``airflow api-server`` (one server start).

Seeded: a ledger of three days with a blocked one, and a SQLite MLflow store with a model of two
versions (a Delta commit between their training pins), promoted twice then rolled back. The
browser reaches the api-server through a loopback hop that adds the admin's JWT (what the UI's
cookie does for a person); a request without it is refused. Screenshots land in the test's tmp
folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from live_servers import Store, free_port, stop_process_group, train_run, wait_listening, write_table

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium")
AIRFLOW = str(Path(sys.executable).parent / "airflow")
DATASET = "s3://lake/features"
BLOCK_REASON = "amount drifted: psi 0.31 > 0.2"
ROLLBACK_REASON = "v2 loses 5 points of AUC on plan=basic"
APPROVAL_REASON = "checked the plan=basic slice by hand"


@dataclass
class View:
    api: str
    """The api-server, without credentials."""
    token: str
    """The admin's JWT."""
    tracking_uri: str
    browser: str
    """The authenticating hop the browser uses."""
    model: str
    shots: Path


def _contracts() -> tuple[Any, Any]:
    """The example contract, and a 2.0.0 of it without its last column (a breaking change)."""
    from airflow_provider_parity.contracts import load_contract

    first = load_contract(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml")
    second = first.model_copy(update={"dataset": first.dataset.model_copy(update={"version": "2.0.0"}),
                                      "columns": first.columns[:-1]})
    return first, second


def _segmented_report(reports: Path) -> str:
    """The blocked day's drift report (``DriftResult.to_dict``'s shape) with two segments, one drifted."""
    def segment(name: str, drifted: bool) -> dict[str, Any]:
        return {"segment": name, "verdict": "failed" if drifted else "passed", "rows_reference": 100,
                "rows_current": 90, "drifted_features": ["amount"] if drifted else [],
                "features": [{"name": "amount", "metric": "psi", "value": 0.44 if drifted else 0.03,
                              "drifted": drifted}]}

    path = reports / "feature_pipeline" / "scheduled__2026-11-28" / "drift_gate.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"verdict": "failed", "message": BLOCK_REASON,
                                "segments": [segment("plan=basic", True), segment("plan=premium", False)]}))
    return str(path)


def _seed_ledger(uri: str, reports: Path) -> None:
    from airflow_provider_parity.outcomes.ledger import append_outcome
    from airflow_provider_parity.outcomes.model import Check, GateOutcome, RunIdentity

    refs = [c.ref for c in _contracts()]
    segmented = _segmented_report(reports)
    for day, rate in (("2026-11-28", "0.0000%"), ("2026-11-29", "1.2900%")):  # the serving monitor's skew gate
        append_outcome(uri, GateOutcome(
            gate="feature_skew", status="passed" if rate.startswith("0") else "failed", blocking=True, reason="skew",
            dataset=DATASET, finished_at=f"{day}T07:00:00+00:00", checks=(Check(
                name="feature_skew(amount)", success=rate.startswith("0"), column="amount",
                observed=f"{rate} of entities mismatched (9 of 697), largest difference 0.37"),)))
    for day, drifted in (("2026-11-27", False), ("2026-11-28", True), ("2026-11-29", False)):
        run = f"scheduled__{day}"
        checks = (Check(name="psi amount", success=not drifted, column="amount", observed="0.31" if drifted else "0.02"),
                  Check(name="psi age", success=True, column="age", observed="0.01"))
        for gate, status, reason, found in (("contract", "passed", "all checks passed", ()),
                                            ("drift", "failed" if drifted else "passed",
                                             BLOCK_REASON if drifted else "no feature drifted", checks)):
            append_outcome(uri, GateOutcome(
                gate=gate, status=status, blocking=True, reason=reason, dataset=DATASET, version=3, checks=found,
                contract=refs[day > "2026-11-27"],
                as_of=f"{day}T05:00:00+00:00", finished_at=f"{day}T06:0{len(gate) % 9}:00+00:00",
                reports={"html": f"/nowhere/{day}/{gate}.html",
                         **({"json": segmented} if drifted and gate == "drift" else {})},
                run=RunIdentity(dag_id="feature_pipeline", run_id=run, task_id=f"{gate}_gate")))


def _seed_mlflow(root: Path, conn_id: str) -> tuple[str, str]:
    import numpy as np
    import pyarrow as pa
    from deltalake import CommitProperties, write_deltalake

    from airflow_provider_parity.tracking.approval import Approval, record
    from airflow_provider_parity.tracking.promotion import promote
    from airflow_provider_parity.tracking.registry import register_model
    from airflow_provider_parity.tracking.rollback import rollback

    uri = f"sqlite:///{root}/mlflow.db"
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": "mlflow", "extra": {"tracking_uri": uri}})
    store = Store(kind="local", tracking_uri=uri, conn_id=conn_id)
    table = write_table(root / "features", rows=200, seed=1)
    contracts = _contracts()
    first = train_run(store, table, metrics={"overall": 0.80}, gates={"contract": "passed"}, contract=contracts[0])
    x = np.random.default_rng(2).normal(loc=2.0, size=200)
    write_deltalake(table, pa.table({"x": x, "y": (x > 0).astype("int64")}), mode="append",
                    commit_properties=CommitProperties(custom_metadata={
                        "parity.dag_id": "feature_pipeline", "parity.run_id": "manual__2026-11-29"}))
    second = train_run(store, table, metrics={"overall": 0.83}, gates={"contract": "passed"}, contract=contracts[1])
    client, name = store.client(), "churn-view"
    register_model(client, run_id=first, name=name)
    promote(client, name, {}, challenger_version="1", request_id="train/run1/promote")
    register_model(client, run_id=second, name=name)
    promote(client, name, {}, challenger_version="2", request_id="train/run2/promote")
    record(client, name, "2", Approval("approved", "alice", APPROVAL_REASON, "2026-11-29T09:00:00+00:00"))
    rollback(client, name, reason=ROLLBACK_REASON)
    return uri, name


def _call(url: str, token: str, data: bytes | None = None, **headers: str) -> tuple[int, str, str]:
    """(status, body, Location) of a GET (or a form POST with ``data``), redirects not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None

    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {token}", **headers})
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=60) as answer:
            return answer.status, answer.read().decode(), answer.headers.get("location", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get("location", "")


def _hop(api: str, token: str) -> ThreadingHTTPServer:
    """A loopback proxy that adds ``Authorization: Bearer`` (Chromium's command line sets no header)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = urllib.request.Request(api + self.path, headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    status, body, kind = answer.status, answer.read(), answer.headers.get("content-type", "")
            except urllib.error.HTTPError as exc:
                status, body, kind = exc.code, exc.read(), "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[View]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    root = tmp_path_factory.mktemp("view")
    ledger = str(root / "ledger")
    _seed_ledger(ledger, root / "reports")
    tracking_uri, name = _seed_mlflow(root, "parity_view_mlflow")
    home, port = root / "airflow", free_port()
    home.mkdir()
    (home / "passwords.json").write_text(json.dumps({"admin": "view-test-password"}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")} | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "view-test-jwt-secret-" * 4,
        "AIRFLOW__PARITY__LEDGER_URI": ledger,
        "AIRFLOW__PARITY__REPORT_DIR": str(root / "reports"),
        "MLFLOW_TRACKING_URI": tracking_uri,
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    log = (root / "api-server.log").open("wb")
    proc = subprocess.Popen([AIRFLOW, "api-server", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    hop = None
    try:
        wait_listening(port, timeout=300)
        api = f"http://127.0.0.1:{port}"
        login = urllib.request.Request(f"{api}/auth/token", method="POST", headers={"Content-Type": "application/json"},
                                       data=json.dumps({"username": "admin", "password": "view-test-password"}).encode())
        with urllib.request.urlopen(login, timeout=60) as answer:
            token = json.loads(answer.read())["access_token"]
        hop = _hop(api, token)
        yield View(api=api, token=token, tracking_uri=tracking_uri, browser=f"http://127.0.0.1:{hop.server_address[1]}",
                   model=name, shots=root / "shots")
    finally:
        if hop is not None:
            hop.shutdown()
        stop_process_group(proc)
        log.close()


def _chromium(view: View, *args: str) -> str:
    profile = view.shots / "profile"
    profile.mkdir(parents=True, exist_ok=True)
    assert CHROMIUM is not None
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def _page(view: View, path: str, shot: str | None = None) -> str:
    url = view.browser + path
    if shot:
        _chromium(view, f"--screenshot={view.shots / shot}", "--window-size=1280,900", url)
        assert (view.shots / shot).stat().st_size > 10_000
        if os.environ.get("PARITY_SCREENSHOTS"):  # e.g. docs/screenshots: the README's images, refreshed
            shutil.copyfile(view.shots / shot, Path(os.environ["PARITY_SCREENSHOTS"]) / f"parity-{shot}")
    dom = _chromium(view, "--dump-dom", url)
    (view.shots / f"{(shot or 'page').removesuffix('.png')}.html").write_text(dom)  # beside the screenshots
    return dom


def test_routes_refuse_an_anonymous_request(view: View) -> None:
    for path in ("/parity/", "/parity/datasets/features", f"/parity/models/{view.model}"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(view.api + path, timeout=60)
        assert refused.value.code in (401, 403), path


def test_dataset_page_shows_the_blocked_day_and_its_reason(view: View) -> None:
    dom = _page(view, "/parity/datasets/features", "dataset.png")
    blocked = dom.split("<h2>Blocked days</h2>", 1)[1].split("</section>", 1)[0]
    assert "2026-11-28" in blocked and BLOCK_REASON.replace(">", "&gt;") in blocked
    assert "2026-11-27" not in blocked
    assert "/parity/reports?uri=" in dom  # each outcome links its report through the plugin
    assert "amount" in dom.split("<h2>Drift per feature</h2>", 1)[1]
    old, new = (c.ref for c in _contracts())
    history = dom.split("<h2>Contract versions</h2>", 1)[1].split("</section>", 1)[0]
    assert history.index(new) < history.index(old)  # newest first
    assert "BREAKING" in history and "column_removed" in history  # the diff, from the contracts MLflow recorded
    slos = dom.split("<h2>SLO attainment</h2>", 1)[1].split("</section>", 1)[0]
    assert new in slos and "gate_pass_rate" in slos  # the newest contract's SLOs over the ledger
    skew = dom.split("<h2>Per-entity skew rate</h2>", 1)[1].split("</section>", 1)[0]
    assert '<span class="fail">1.2900%</span>' in skew and '<span class="pass">0.0000%</span>' in skew
    drift = dom.split("<h2>Drift per feature</h2>", 1)[1].split("</section>", 1)[0]
    link = drift.split('<a href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link.startswith("/parity/drift?uri=")
    segments = _page(view, link)  # the drill-down, in the browser too
    assert '<td>plan=basic</td><td><span class="fail">failed</span>' in segments and "psi 0.44" in segments
    assert '<td>plan=premium</td><td><span class="pass">passed</span>' in segments
    index = _page(view, "/parity/")
    assert "/parity/datasets/s3%3A%2F%2Flake%2Ffeatures" in index


def test_model_page_shows_the_alias_history(view: View) -> None:
    dom = _page(view, f"/parity/models/{view.model}", "model.png")
    history = dom.split("<h2>Alias history</h2>", 1)[1].split("</section>", 1)[0]
    assert history.count("<td>promote</td>") == 2 and "<td>rollback</td>" in history and ROLLBACK_REASON in history
    assert "explain?old=1&amp;new=2" in dom
    approvals = dom.split("<h2>Approvals</h2>", 1)[1].split("</section>", 1)[0]
    assert f"<td>v2</td><td>approved</td><td>alice</td><td>{APPROVAL_REASON}</td>" in approvals
    form = dom.split("<h2>Roll back</h2>", 1)[1].split("</section>", 1)[0]
    assert 'method="post"' in form and 'name="reason" required' in form and 'name="token"' in form


def test_explain_page_names_the_changed_delta_commits(view: View) -> None:
    dom = _page(view, f"/parity/models/{view.model}/explain?old=1&new=2", "explain.png")
    assert "manual__2026-11-29" in dom and "feature_pipeline" in dom


def test_the_view_is_in_airflows_navigation(view: View) -> None:
    with urllib.request.urlopen(view.browser + "/api/v2/plugins", timeout=60) as answer:
        plugins = json.loads(answer.read())["plugins"]
    [parity] = [p for p in plugins if p["name"] == "parity"]
    assert [(v["href"], v["destination"]) for v in parity["external_views"]] == [("/parity/", "nav")]


def _form_token(view: View) -> str:
    status, page, _ = _call(f"{view.api}/parity/models/{view.model}", view.token)
    assert status == 200
    return page.split('name="token" value="', 1)[1].split('"', 1)[0]


def test_a_rollback_posted_from_the_model_page_records_its_reason(view: View) -> None:
    from urllib.parse import urlencode

    url = f"{view.api}/parity/models/{view.model}/rollback"
    form = {"token": _form_token(view), "to": "2", "reason": "v1 misses the new plan=premium customers"}
    assert _call(url, "", urlencode(form).encode())[0] == 401  # Airflow's authentication first
    assert _call(url, view.token, urlencode(form | {"token": "0" * 64}).encode())[0] == 403
    assert _call(url, view.token, urlencode(form).encode(), Origin="https://elsewhere.example")[0] == 403
    status, _, location = _call(url, view.token, urlencode(form).encode())
    assert (status, location) == (303, f"/parity/models/{view.model}")
    page = _call(f"{view.api}{location}", view.token)[1]
    history = page.split("<h2>Alias history</h2>", 1)[1].split("</section>", 1)[0]
    latest = history.split("<tbody><tr>", 1)[1].split("</tr>", 1)[0]  # newest first
    assert "<td>rollback</td><td>v2</td><td>v1</td><td>v1 misses the new plan=premium customers</td>" in latest
    assert "<td>view/admin/" in latest  # who asked


def test_parity_rollback_on_the_command_line_records_its_reason(view: View, capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_parity.cli import main

    assert main(["rollback", view.model, "--to", "1", "--reason", "v2 regressed on plan=basic again",
                 "--tracking-uri", view.tracking_uri]) == 0
    assert "champion v2 -> v1 (v2 regressed on plan=basic again)" in capsys.readouterr().out
    page = _call(f"{view.api}/parity/models/{view.model}", view.token)[1]
    assert "v2 regressed on plan=basic again" in page.split("<h2>Alias history</h2>", 1)[1]
    assert main(["rollback", view.model, "--reason", " ", "--tracking-uri", view.tracking_uri]) == 2
    assert "a rollback needs a reason" in capsys.readouterr().err
