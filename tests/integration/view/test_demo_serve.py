"""``python scripts/demo.py --serve-only``: the api-server starts on loopback, prints the view's URL, and the
view answers behind the login it prints; Ctrl-C stops it. (``--serve`` runs the same after the demo's days.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from live_servers import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


def test_serve_prints_the_url_of_a_view_that_answers(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW_TRACKING"))}
    proc = subprocess.Popen([sys.executable, str(REPO / "scripts" / "demo.py"), "--serve-only", "--out",
                             str(tmp_path), "--port", str(port)], env=env, stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:  # until the login is printed: the server answers by then
            lines.append(line)
            if line.strip().startswith("login:"):
                break
        printed = "".join(lines)
        assert f"view:     http://127.0.0.1:{port}/plugin/parity" in printed, printed
        password = printed.split("login:    admin / ", 1)[1].split()[0]
        login = urllib.request.Request(f"http://127.0.0.1:{port}/auth/token", method="POST",
                                       headers={"Content-Type": "application/json"},
                                       data=json.dumps({"username": "admin", "password": password}).encode())
        with urllib.request.urlopen(login, timeout=60) as answer:
            token = json.loads(answer.read())["access_token"]
        page = urllib.request.Request(f"http://127.0.0.1:{port}/parity/", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(page, timeout=60) as answer:
            assert answer.status == 200 and "No gate outcome in the ledger yet" in answer.read().decode()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
