"""Profiles of tables that outgrow one machine, computed by Spark with the same numbers.

Every partition is profiled by the Arrow engine itself, inside the executors
(``DataFrame.mapInArrow``), and the partition profiles are merged on the
driver. Profiles are mergeable by design (shared grids, exact counts), so the
result equals the single-machine profile of the same rows: counts and
histograms exactly, sums and moments to float rounding.

Numeric features are binned on shared grids. Pass ``like=<reference profile>``
(or ``grids=``) to profile current data comparably, or to reproduce a given
Arrow profile; otherwise grids are inferred from the first ``sample_rows`` rows.

Example:
    >>> ref = profile_spark(spark.read.parquet("s3://lake/training/v12"))
    >>> ref.save("training-v12.profile.json")
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from airflow_provider_parity.delta.spark_engine import arrow_schema
from airflow_provider_parity.drift.histogram import Grid
from airflow_provider_parity.drift.profile import (
    DatasetProfile,
    FeatureKind,
    Profiler,
    infer_kinds,
    to_float64,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def _infer_grids(df: DataFrame, names: list[str], sample_rows: int) -> dict[str, Grid]:
    if not names:
        return {}
    sample = df.select(*names).limit(sample_rows).toArrow()
    grids = {}
    for name in names:
        values = to_float64(sample.column(name))
        grids[name] = Grid.infer(values[np.isfinite(values)])
    return grids


def _partition_profiler(options: dict[str, Any]) -> Any:
    def profile_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        opts = dict(options)
        grids = {name: Grid(**grid) for name, grid in opts.pop("grids").items()}
        profiler = Profiler(opts.pop("kinds"), grids=grids, **opts)
        for batch in batches:
            profiler.update(batch)
        payload = json.dumps(profiler.result().to_dict())
        yield pa.RecordBatch.from_pydict({"profile": [payload]})

    return profile_partition


def profile_spark(
    df: DataFrame,
    kinds: Mapping[str, FeatureKind] | None = None,
    *,
    like: DatasetProfile | None = None,
    grids: Mapping[str, Grid] | None = None,
    sample_rows: int = 65_536,
    source: str | None = None,
    **options: Any,
) -> DatasetProfile:
    """Profile a Spark DataFrame, partition by partition, and merge.

    Args:
        df: the data.
        kinds: features and kinds; from ``like`` or the schema when None.
        like: a reference profile whose features and grids to reuse.
        grids: numeric grids (override ``like``'s).
        sample_rows: rows sampled to infer grids that are still missing.
        source: a description kept in the profile.
        **options: :class:`~airflow_provider_parity.drift.profile.Profiler` options
            (``segment_by``, ``time_column``, ``time_window``, ``bits``, ``max_bins``).

    Returns:
        The merged profile.

    Raises:
        DataError: a feature is missing, or partitions disagree (kinds, grids).
    """
    if kinds is None:
        extra = [c for c in (options.get("segment_by"), options.get("time_column")) if c]
        kinds = like.kinds if like is not None else infer_kinds(arrow_schema(df), exclude=extra)
    shared = dict(like.grids if like is not None else {})
    shared.update(grids or {})
    missing = [n for n, k in kinds.items() if k == "numeric" and n not in shared]
    shared.update(_infer_grids(df, missing, sample_rows))
    payload = {"kinds": dict(kinds), "grids": {n: g.to_dict() for n, g in shared.items()}, **options}
    rows = df.mapInArrow(_partition_profiler(payload), "profile string").toArrow()
    merged = DatasetProfile(source=source)
    for text in rows.column("profile").to_pylist():
        merged.merge(DatasetProfile.from_dict(json.loads(text)))
    # Keep the declared feature order whatever the partitions held.
    merged.features = {name: merged.features[name] for name in kinds if name in merged.features}
    return merged


def frame_of(spark: SparkSession, data: Any) -> DataFrame:
    """What the drift gate resolved (a Delta or parquet ``Source``, an Arrow table or batches) as a DataFrame.

    A Delta version is read by ``read_spark`` (delta-spark with ``versionAsOf`` when its jars
    are on the session), parquet by Spark's own reader: the rows stay where they are.
    """
    import pyarrow as pa

    from airflow_provider_parity.delta.spark_engine import read_spark, spark_path
    from airflow_provider_parity.drift.sources import Source

    if isinstance(data, Source):
        if data.kind == "delta":
            return read_spark(spark, data.uri, data.version, storage_options=data.storage_options)
        return spark.read.parquet(*(spark_path(f) for f in (data.files or [data.uri])))
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches(list(data))
    return spark.createDataFrame(table)


def profile_on_spark(
    spark: SparkSession,
    data: Any,
    kinds: Mapping[str, FeatureKind] | None,
    columns: list[str],
    *,
    like: DatasetProfile | None = None,
    between: tuple[str, datetime, datetime] | None = None,
    source: str | None = None,
    **options: Any,
) -> DatasetProfile:
    """The drift gate's profile of one side, computed by Spark (``run_drift(engine="spark")``).

    Args:
        columns: the columns to profile (features, then segment and time columns).
        between: ``(column, start, end)``: only rows with ``start <= column < end``.
    """
    from pyspark.sql import functions as F

    from airflow_provider_parity.exceptions import DataError

    frame = frame_of(spark, data)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"no column {missing[0]!r}; columns are {', '.join(frame.columns)}",
                        source=source, column=missing[0])
    if columns:
        frame = frame.select(*columns)
    if between is not None:
        column, start, end = between
        frame = frame.where((F.col(column) >= F.lit(start)) & (F.col(column) < F.lit(end)))
    return profile_spark(frame, kinds, like=like, source=source, **options)
