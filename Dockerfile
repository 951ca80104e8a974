# syntax=docker/dockerfile:1
# The bundle's image: the official Airflow image of the locked Airflow version, a Java runtime
# for Spark, the provider with every extra at the versions in uv.lock, and the reference DAG
# bundle (dags/, dbt_project/, contracts/) baked into /opt/airflow.
#
#   docker build -t airflow-provider-parity:local .
#
# The base tag must name the apache-airflow version uv.lock resolves for this Python
# (tests/deploy/static/test_image.py checks it).

# Stage 1: the exact requirement pins and the provider's wheel, both from the committed lock.
# Nothing is resolved here: `uv export --frozen` only writes out what uv.lock already holds.
FROM python:3.11-slim AS lock-export
# The uv release scripts/setup.sh installs, so the lock format is one this uv reads.
ARG UV_VERSION=0.13.8
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
COPY airflow_provider_parity ./airflow_provider_parity
RUN uv export --frozen --all-extras --no-dev --no-hashes --no-emit-project --output-file /dist/requirements.txt \
    && uv build --wheel --out-dir /dist

# Stage 2: delta-spark's jars from Maven Central, by the pom and the command scripts/setup.sh
# uses (tests/deploy/static/test_image.py keeps the two alike), so engine="spark" reads and
# writes Delta through delta-spark in the image as it does in CI.
FROM maven:3.9-eclipse-temurin-17 AS delta-jars
WORKDIR /src
COPY scripts/delta-jars/pom.xml scripts/delta-jars/pom.xml
RUN mvn -q -B -f scripts/delta-jars/pom.xml dependency:copy-dependencies -DincludeScope=runtime \
    -DincludeGroupIds=io.delta -DoutputDirectory=/jars

# Stage 3: the runtime image.
FROM apache/airflow:3.3.2-python3.11

# apt needs root; the image's own user takes over again right after (the official image
# refuses pip installs as root, and the containers must not run as root).
USER root
# default-jre-headless is the Debian release's supported JDK (17 on bookworm, 21 on trixie),
# either of which pyspark 4 accepts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends default-jre-headless \
    && apt-get autoremove -yqq --purge \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/default-java
USER airflow

# Pinning apache-airflow to the image's own version (AIRFLOW_VERSION is set by the base image)
# makes the install fail instead of silently replacing Airflow if uv.lock ever disagrees with
# the base tag. The wheel goes in without dependencies: every one of them is pinned above.
COPY --from=lock-export --chown=airflow:0 /dist /tmp/parity-dist
RUN uv pip install --no-cache "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/parity-dist/requirements.txt \
    && uv pip install --no-cache --no-deps /tmp/parity-dist/*.whl \
    && rm -rf /tmp/parity-dist

# delta-spark on every Spark session the provider builds (airflow_provider_parity.delta.spark_session).
COPY --from=delta-jars --chown=airflow:0 /jars /opt/parity/jars
ENV PARITY_DELTA_JARS=/opt/parity/jars

# The bundle. dbt writes target/ and logs/ into its project folder, so the folders belong to
# the airflow user (group 0, as the official image does for arbitrary-uid platforms).
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 dbt_project /opt/airflow/dbt_project
COPY --chown=airflow:0 contracts /opt/airflow/contracts

# Where the bundle finds its parts; the Helm chart mounts the contracts ConfigMap over
# /opt/airflow/contracts, so a contract change does not need a new image there.
ENV AIRFLOW__PARITY__CONTRACTS_DIR=/opt/airflow/contracts \
    AIRFLOW__PARITY__DBT_PROJECT_DIR=/opt/airflow/dbt_project
