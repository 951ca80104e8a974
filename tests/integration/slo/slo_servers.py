"""Start a server process on loopback for a test, and stop it (by its own handle) afterwards."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
    """Answer ``handler``'s request with ``body`` (one place for the loopback stand-ins' responses)."""
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running, its output in ``log``; terminated and waited for on exit."""
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def prometheus(folder: Path, *, exporter: str, rules: str, alertmanager: str | None = None) -> Iterator[str]:
    """A real Prometheus on loopback scraping ``exporter`` every second, with ``rules``; yields its URL."""
    import yaml

    (folder / "rules.yaml").write_text(rules)
    config: dict[str, object] = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(folder / "rules.yaml")],
        "scrape_configs": [{"job_name": "parity", "metrics_path": "/parity/metrics",
                            "static_configs": [{"targets": [exporter]}]}],
    }
    if alertmanager:
        config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]}
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    with running(["prometheus", f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'tsdb'}",
                  f"--web.listen-address=127.0.0.1:{port}"], folder / "prometheus.log"):
        yield f"http://127.0.0.1:{port}"
