"""SparkSessionHook: a SparkSession whose master comes from an Airflow connection.

Connection type ``parity_spark``: ``host`` is the master (``local[*]``,
``spark://host``, ``k8s://https://host``, ``yarn`` or ``sc://host`` for Spark
Connect) and ``port`` its port; ``extra.conf`` holds Spark settings (e.g.
``spark.jars.packages`` for delta-spark) and ``extra.app_name`` the application name.
A Spark Connect token goes in ``password`` and is masked in logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import BaseHook

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SparkSessionHook(BaseHook):
    """Get or create the session described by a ``parity_spark`` connection.

    Args:
        spark_conn_id: the connection.
    """

    conn_name_attr = "spark_conn_id"
    default_conn_name = "parity_spark_default"
    conn_type = "parity_spark"
    hook_name = "Spark session (parity)"

    def __init__(self, spark_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spark_conn_id = spark_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "login"],
            "relabeling": {"host": "Master (local[*], spark://, k8s://, sc://)", "password": "Spark Connect token"},
            "placeholders": {"host": "local[*]", "extra": '{"conf": {"spark.sql.shuffle.partitions": "8"}}'},
        }

    def get_conn(self) -> SparkSession:
        from airflow.sdk.log import mask_secret

        from airflow_provider_parity.delta.spark_session import (
            build_session,
            master_url,
        )

        conn = self.get_connection(self.spark_conn_id)
        extra = conn.extra_dejson or {}
        master = master_url(conn.host or "local[*]", conn.port)
        if master.startswith("sc://") and conn.password:
            mask_secret(conn.password)
            master = f"{master.rstrip('/')}/;token={conn.password}"
        conf = {str(k): str(v) for k, v in (extra.get("conf") or {}).items()}
        return build_session(master, conf=conf, app_name=str(extra.get("app_name") or "parity"))
