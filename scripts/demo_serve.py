"""The demo's ending: ``explain`` of the models it trained, and ``--serve``: the Parity view on loopback.

``python scripts/demo.py --serve`` (``make demo SERVE=1``) runs the demo, then starts
``airflow api-server`` on 127.0.0.1 over the demo's metadata database, ledger and MLflow store,
prints the view's URL with a login made for this run, and serves until Ctrl-C.
``--serve-only`` serves the folder of an earlier demo without running the days again.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The parity demo: the reference DAGs end to end on one machine.")
    parser.add_argument("--serve", action="store_true", help="after the demo, serve the Parity view until Ctrl-C")
    parser.add_argument("--serve-only", action="store_true", help="serve an earlier demo's folder, run nothing")
    parser.add_argument("--port", type=int, default=8080, help="the api-server's port on 127.0.0.1 (default 8080)")
    parser.add_argument("--out", help="the demo's folder (default .parity/demo)")
    return parser.parse_args(argv)


def explain_models(out: Path, quiet: Callable[[Path], Any]) -> None:
    """``parity explain`` of the newest model version against the one before it (the demo trains two)."""
    from airflow_provider_parity.exceptions import ParityError
    from airflow_provider_parity.tracking.client import make_client
    from airflow_provider_parity.tracking.explain import explain
    from churn.settings import load_settings

    name = load_settings().model_name
    try:
        with quiet(out / "airflow.log"):
            client = make_client(os.environ["MLFLOW_TRACKING_URI"])
            versions = sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
            report = explain(client, name, None, versions[-1]) if len(versions) > 1 else None
    except ParityError as exc:
        print(f"\n  explain:  unavailable: {exc}")
        return
    if report is None:
        print(f"\n  explain:  {name} has {len(versions)} version(s): nothing to compare")
        return
    print(f"\n  explain:  parity explain {name} {report.old} {report.new}  ({report.seconds:.1f} s)")
    for line in report.summary():
        print(f"    {line}")


def serve(out: Path, port: int) -> int:
    """Start the api-server on 127.0.0.1:``port`` over the demo in ``out``; print the URLs; wait for Ctrl-C."""
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    (home / "demo-passwords.json").write_text(json.dumps({"admin": password}))
    env = os.environ | {
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "demo-passwords.json"),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__PARITY__LEDGER_URI": str(out / "lake" / "parity" / "ledger"),
    }
    env.setdefault("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_urlsafe(32))  # the view's form tokens need one
    log = out / "api-server.log"
    if not (home / "airflow.db").exists():  # --serve-only on a fresh folder
        with log.open("ab") as sink:
            subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, env=env, stdout=sink,
                           stderr=sink)
    print(f"\n  serving:  airflow api-server on 127.0.0.1:{port} (log {log}) ...", flush=True)
    with log.open("ab") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port",
                                 str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not _answers(f"http://127.0.0.1:{port}/api/v2/monitor/health", proc, timeout=300):
            print(f"  the api-server did not start: see {log}", flush=True)
            return 1
        print(f"  view:     http://127.0.0.1:{port}/plugin/parity  (Airflow's navigation: Browse > Parity; "
              f"the pages alone: http://127.0.0.1:{port}/parity/)")
        print(f"  login:    admin / {password}  (made for this run; loopback only)")
        print("  Ctrl-C stops it.", flush=True)
        proc.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(proc)


def _answers(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return True
        except (TimeoutError, OSError):
            time.sleep(1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
