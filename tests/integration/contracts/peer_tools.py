"""datacontract-cli in a throw-away virtualenv, for the ODCS peer test and the validation benchmark.

Its dependencies are not the project's (it must never enter uv.lock), so it gets its own
virtualenv; uv's cache (a stable folder: ``UV_CACHE_DIR`` or ``~/.cache/uv``) makes a rerun's
install take seconds. Importable: pytest puts this folder on ``sys.path``; the benchmark adds it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

DATACONTRACT_CLI = "datacontract-cli[duckdb]==1.2.8"
_OFFLINE = re.compile(r"dns error|failed to connect|connection (refused|reset)|network is unreachable|timed out|"
                      r"failed to fetch", re.IGNORECASE)


class PyPIUnreachable(RuntimeError):
    """The install failed because the package index could not be reached."""


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    return [shutil.which("python3") or sys.executable, "-m", "uv"]


def install_datacontract(venv: Path) -> Path:
    """Create ``venv`` with datacontract-cli; return its ``datacontract`` executable.

    Raises:
        PyPIUnreachable: the index could not be reached (the message says why).
        RuntimeError: the install failed for another reason (its output's tail).
    """
    subprocess.run([*_uv(), "venv", "-q", "--python", "3.11", str(venv)], check=True, capture_output=True)
    install = subprocess.run([*_uv(), "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                              DATACONTRACT_CLI], capture_output=True, text=True, timeout=600)
    if install.returncode != 0:
        if _OFFLINE.search(install.stderr):
            raise PyPIUnreachable(f"cannot install {DATACONTRACT_CLI}: {install.stderr.strip()[-300:]}")
        raise RuntimeError(f"installing {DATACONTRACT_CLI} failed:\n{install.stderr[-2000:]}")
    return venv / "bin" / "datacontract"
