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
# What the tests start as real processes, from Debian's packages, installed in one apt run when missing:
#   a Java runtime for Spark; PostgreSQL for the production-like and deploy tests (tests/deploy);
#   Redis as the CeleryExecutor test's broker and the online store; Prometheus, promtool and
#   Alertmanager for the SLO tests; Chromium for the Parity view's browser test (tests/integration/view).
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
{ command -v promtool >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1; } || missing+=(prometheus prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing from Debian's packages: ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >/dev/null
fi
# delta-spark's jars for the Spark engine, from Maven Central into .parity/jars/ (gitignored; Maven
# keeps its own cache in ~/.m2), so sessions load them with spark.jars and never download at run time.
DELTA_JAR=.parity/jars/delta-spark_4.2_2.13-4.4.0.jar  # the version scripts/delta-jars/pom.xml names
if [ -f "$DELTA_JAR" ]; then
  :
elif command -v mvn >/dev/null 2>&1; then
  echo "==> resolving delta-spark jars from Maven Central into .parity/jars/"
  rm -rf .parity/jars
  mvn -q -B -f scripts/delta-jars/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
    -DincludeGroupIds=io.delta -DoutputDirectory="$PWD/.parity/jars" >/dev/null
else
  echo "==> Maven (mvn) is not installed: no delta-spark jars; the Spark engine reads Delta through its parquet fallback"
fi
echo "==> syncing the locked environment (uv.lock, all extras)"
python3 -m uv sync --frozen --all-extras --quiet
# The project's own packages are an editable install, which uv does not compile: compile them here
# (compileall writes __pycache__ whatever PYTHONDONTWRITEBYTECODE says) so the CLI and tests start warm.
python3 -m uv run --frozen --all-extras --no-sync python -m compileall -q -j 0 airflow_provider_parity dags >/dev/null
