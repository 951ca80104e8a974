"""Servers shared by integration tests of several areas."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_servers import free_port, start_moto_server


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on 127.0.0.1, as ``http://127.0.0.1:<port>``; skips without moto.

    The server runs in its own process: delta-rs holds the GIL during I/O, so a server
    thread in the test process could not answer.
    """
    port = free_port()
    process = start_moto_server(port)
    if process is None:
        pytest.skip("moto_server is not installed")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)

