"""A throw-away Prometheus on loopback serving a backfilled series (the demo's KPI, the watch's tests).

The post-promotion watch reads a business KPI through ``/api/v1/query_range`` as it would in
production; a demo or a test has no shop, so the series is written as OpenMetrics, backfilled with
``promtool tsdb create-blocks-from openmetrics`` (an exact history, no waiting for scrapes) and
served by a real Prometheus.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def backfilled_prometheus(folder: Path, openmetrics: str, *, timeout: float = 60) -> Iterator[str]:
    """Prometheus on 127.0.0.1 holding ``openmetrics`` (text ending in ``# EOF``); yields its URL.

    Raises:
        RuntimeError: it did not answer ``/-/ready`` within ``timeout`` seconds (its log is named).
        FileNotFoundError: ``prometheus`` or ``promtool`` is not installed (scripts/setup.sh installs them).
    """
    from airflow_provider_parity.serving.demo import free_port

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "series.om").write_text(openmetrics)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", str(folder / "series.om"),
                    str(folder / "tsdb")], check=True, capture_output=True)
    (folder / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
    port, log_path = free_port(), folder / "prometheus.log"
    with open(log_path, "wb") as log:
        # A long retention: the backfilled history is days old and must not be dropped at start.
        process = subprocess.Popen(["prometheus", f"--config.file={folder / 'prometheus.yml'}",
                                    f"--storage.tsdb.path={folder / 'tsdb'}", "--storage.tsdb.retention.time=3650d",
                                    f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/-/ready", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError(f"Prometheus did not start: see {log_path}") from None
                    time.sleep(0.3)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
