"""Building a SparkSession for the ``spark`` engine from a master URL and settings.

Masters: ``local[*]`` (and ``local[N]``), ``spark://host:port`` (standalone),
``k8s://https://host:port`` (Kubernetes), ``yarn``, and ``sc://host:port`` for
Spark Connect, which has no JVM on the client side.
"""

from __future__ import annotations

from collections.abc import Mapping
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
        conf: Spark settings, e.g. ``spark.jars.packages`` for delta-spark.
        app_name: the application name.

    Returns:
        The session.
    """
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    for key, value in {**DEFAULT_CONF, **dict(conf or {})}.items():
        builder = builder.config(key, str(value))
    return builder.getOrCreate()
