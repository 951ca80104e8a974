#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine: uv (from PyPI), then the
# locked environment with every extra. Safe to run again: it only syncs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
# `python3 -m uv` works whether or not pip's script folder is on PATH.
if [ "$(python3 -m uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "==> installing uv $UV_VERSION from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
if ! command -v java >/dev/null 2>&1; then
  echo "==> installing a Java runtime for Spark (Debian openjdk-17-jre-headless)"
  (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless) >/dev/null
fi
# The production-like test (tests/deploy/prodlike) starts a throw-away PostgreSQL from Debian's packages.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "==> installing PostgreSQL for the production-like test (Debian postgresql)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
fi
# The CeleryExecutor test (tests/deploy/celery) uses a throw-away Redis from Debian's packages as its broker.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "==> installing Redis for the CeleryExecutor test (Debian redis-server)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null
fi
# The Parity view's test (tests/integration/view) drives Debian's Chromium headless.
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium for the Parity view's browser test (Debian chromium)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
fi
echo "==> syncing the locked environment (uv.lock, all extras)"
python3 -m uv sync --frozen --all-extras --quiet
# The project's own packages are an editable install, which uv does not compile: compile them here
# (compileall writes __pycache__ whatever PYTHONDONTWRITEBYTECODE says) so the CLI and tests start warm.
python3 -m uv run --frozen --all-extras --no-sync python -m compileall -q -j 0 airflow_provider_parity dags >/dev/null
