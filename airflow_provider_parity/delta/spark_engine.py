"""The ``spark`` engine: read a pinned version with pyspark, for tables that outgrow one machine.

Two paths, chosen per session:

* ``delta``: delta-spark's reader with ``versionAsOf`` when its jars are on the
  session (``spark.jars`` / ``spark.jars.packages`` naming delta, or the Delta SQL
  extension configured).
* ``parquet``: where the jars are not available (offline machines, where Maven is
  unreachable), delta-rs resolves the version's file list from the log and Spark
  reads exactly those files with ``spark.read.parquet`` under the version's schema.
  Partition values come from the hive-style paths (``basePath``) and columns added by
  schema evolution read as null in older files, as Delta specifies. Features that
  change what a file means (deletion vectors, column mapping, type widening, ...)
  cannot be honoured that way, and the read is refused with the feature named.

Both paths take a version number, never a timestamp: "as of" is resolved once by
:mod:`airflow_provider_parity.delta.asof`, so both engines read the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from airflow_provider_parity.delta.snapshot import open_table, uses_column_mapping
from airflow_provider_parity.delta.storage import normalize_table_uri, redact_uri
from airflow_provider_parity.exceptions import DataError, EngineError

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable
    from pyspark.sql import DataFrame, SparkSession

SparkReadPath = Literal["auto", "delta", "parquet"]

# Reader features the parquet path reads correctly: they change how the log is
# stored or checked, not what a data file's rows mean.
PARQUET_SAFE_READER_FEATURES = frozenset({"timestampNtz", "v2Checkpoint", "vacuumProtocolCheck"})


def has_delta_jars(spark: SparkSession) -> bool:
    """True when the session is configured with delta-spark's jars or SQL extension."""
    conf = spark.conf
    for key in ("spark.jars.packages", "spark.jars", "spark.sql.extensions"):
        value = conf.get(key, "") or ""
        if "delta" in value.lower():
            return True
    return False


def unsupported_features(table: DeltaTable) -> list[str]:
    """The version's table features that the parquet path cannot honour, by name."""
    found = sorted(set(table.protocol().reader_features or ()) - PARQUET_SAFE_READER_FEATURES)
    if uses_column_mapping(table) and "columnMapping" not in found:
        found.append("columnMapping")
    return found


def read_spark(
    spark: SparkSession,
    table_uri: str,
    version: int | None = None,
    *,
    storage_options: Mapping[str, str] | None = None,
    columns: list[str] | None = None,
    path: SparkReadPath = "auto",
) -> DataFrame:
    """One version of a Delta table as a Spark DataFrame.

    Args:
        spark: the session (local, standalone, Kubernetes or Spark Connect).
        table_uri: the table root.
        version: the version to read; the latest when None.
        storage_options: delta-rs storage options, used to resolve the file list on
            the parquet path (Spark's own access to the store is the session's config).
        columns: the columns to select; all when None.
        path: ``auto`` uses delta-spark when its jars are configured, else parquet.

    Returns:
        A lazy DataFrame with the version's schema (or ``columns``).

    Raises:
        EngineError: ``delta`` requested without the jars, or the parquet path cannot
            honour a feature of the version.
        SnapshotError: no such table or version.
        DataError: an unknown column.
    """
    uri = normalize_table_uri(table_uri)
    use_delta = path == "delta" or (path == "auto" and has_delta_jars(spark))
    if path == "delta" and not has_delta_jars(spark):
        raise EngineError(
            "the Spark session has no delta-spark jars: set spark.jars.packages or spark.jars, "
            "or read with path='parquet'"
        )
    if use_delta:
        reader = spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        frame = reader.load(spark_path(uri))
    else:
        frame = _read_files(spark, uri, version, storage_options)
    if columns is None:
        return frame
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise DataError(f"no column {unknown[0]!r}; columns are {', '.join(frame.columns)}",
                        source=redact_uri(uri), column=unknown[0])
    return frame.select(*columns)


def _read_files(
    spark: SparkSession, uri: str, version: int | None, storage_options: Mapping[str, str] | None
) -> DataFrame:
    from pyspark.sql.types import StructType

    table = open_table(uri, version, storage_options=storage_options)
    blocked = unsupported_features(table)
    if blocked:
        raise EngineError(
            f"{redact_uri(uri)} version {table.version()} uses {', '.join(blocked)}, which reading its "
            "parquet files directly cannot honour; configure delta-spark jars (spark.jars.packages) "
            "or use the deltalake engine"
        )
    schema = StructType.fromJson(json.loads(table.schema().to_json()))
    files = [spark_path(f) for f in table.file_uris()]
    if not files:
        return spark.createDataFrame([], schema)
    frame = (
        spark.read.schema(schema)
        .option("basePath", spark_path(uri))
        .option("mergeSchema", "false")
        .parquet(*files)
    )
    # Partition columns come last from the reader; put columns in the table's order.
    return frame.select(*[f.name for f in schema.fields])


def spark_path(uri: str) -> str:
    """A table or file URI as Hadoop file systems name it (``s3://`` is ``s3a://`` there)."""
    if uri.startswith("s3://"):
        return "s3a://" + uri[len("s3://"):]
    return uri


def arrow_schema(frame: DataFrame) -> pa.Schema:
    """A frame's schema as Arrow types; Spark's timestamps (instants) are UTC ones, as its rows come back."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema, timezone="UTC")
