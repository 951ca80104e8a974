"""Building a SparkSession for the ``spark`` engine from a master URL and settings.

Masters: ``local[*]`` (and ``local[N]``), ``spark://host:port`` (standalone),
``k8s://https://host:port`` (Kubernetes), ``yarn``, and ``sc://host:port`` for
Spark Connect, which has no JVM on the client side.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from airflow_provider_parity.exceptions import ConfigurationError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_MASTER_PREFIXES = ("local", "spark://", "k8s://", "yarn", "sc://", "mesos://")

# Settings that keep a small session predictable: UTC timestamps so both engines
# show the same instants, and no UI port opened on shared machines.
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    # Stage progress bars are drawn on stderr: a gate's output is its one-line verdict, and a task
    # log would fill with carriage-return redraws.
    "spark.ui.showConsoleProgress": "false",
}


# Where scripts/setup.sh resolves delta-spark's jars from Maven Central (scripts/delta-jars/pom.xml);
# PARITY_DELTA_JARS names another folder (or a comma-separated list of jar files), e.g. in an image.
JARS_ENV = "PARITY_DELTA_JARS"
DEFAULT_JARS_DIR = Path(__file__).resolve().parents[2] / ".parity" / "jars"


def delta_jars(location: str | os.PathLike[str] | None = None) -> list[str]:
    """The cached delta-spark jar files, or ``[]`` when there are none (the fallback path reads then).

    Args:
        location: a folder of jars, or a comma-separated list of jar files; default
            ``$PARITY_DELTA_JARS``, else the project's ``.parity/jars/``.
    """
    where = str(location if location is not None else os.environ.get(JARS_ENV) or DEFAULT_JARS_DIR)
    if "," in where or where.endswith(".jar"):
        files = [part.strip() for part in where.split(",") if part.strip()]
    else:
        folder = Path(where)
        files = sorted(str(f) for f in folder.glob("*.jar")) if folder.is_dir() else []
    # Without delta-spark itself the other jars are no use: the caller falls back.
    return files if any(Path(f).name.startswith("delta-spark") for f in files) else []


def delta_conf(jars: list[str] | None = None) -> dict[str, str]:
    """Spark settings that put delta-spark on a session from local jar files (no Ivy download).

    Empty when no jars are cached, so a session built with it reads through the
    parquet fallback of :mod:`~airflow_provider_parity.delta.spark_engine`.
    """
    files = delta_jars() if jars is None else jars
    if not files:
        return {}
    return {
        "spark.jars": ",".join(files),
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    }


def master_url(host: str, port: int | None = None) -> str:
    """The master URL from a connection's host (which may carry the scheme) and port.

    Raises:
        ConfigurationError: the host is not a master Spark knows.
    """
    master = (host or "local[*]").strip()
    if not master.startswith(_MASTER_PREFIXES):
        raise ConfigurationError(
            f"Spark master {master!r} is not local[*], spark://, k8s://, yarn or sc:// (Spark Connect)"
        )
    # k8s:// masters wrap an https URL and carry their port in the host.
    if port and master.startswith(("spark://", "sc://", "mesos://")) and urlparse(master).port is None:
        master = f"{master}:{port}"
    return master


def build_session(
    master: str, *, conf: Mapping[str, str] | None = None, app_name: str = "parity"
) -> SparkSession:
    """Get or create a session on ``master`` with ``conf`` over :data:`DEFAULT_CONF`.

    Args:
        master: a master URL (see :func:`master_url`); ``sc://`` uses Spark Connect.
        conf: Spark settings; without ``spark.jars``/``spark.jars.packages`` in them, the
            cached delta-spark jars (:func:`delta_conf`) are added when present.
        app_name: the application name.

    Returns:
        The session.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    settings = {**DEFAULT_CONF, **dict(conf or {})}
    if master.startswith("local"):
        # In local mode the driver is the whole cluster: it listens on loopback only, instead of the
        # address the host name resolves to (which Spark otherwise picks, and warns about).
        settings = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1", **settings}
    # delta-spark from the cached jars unless the caller chose its own jars (or Spark Connect,
    # where the server's classpath decides).
    if not master.startswith("sc://") and not any(k in settings for k in ("spark.jars", "spark.jars.packages")):
        settings.update(delta_conf())
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()
