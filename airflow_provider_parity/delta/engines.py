"""Reading a pin through either engine, behind one call.

``deltalake`` (default, no JVM) returns a pyarrow Table; ``spark`` returns a lazy
Spark DataFrame. Both read exactly the pinned version, and before reading the pin is
checked against the log: a table recreated or rewritten at the same path (same
version number, different files) fails instead of silently feeding other data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.delta.snapshot import Snapshot, resolve_snapshot
from airflow_provider_parity.delta.storage import redact_uri
from airflow_provider_parity.exceptions import ConfigurationError, ReproducibilityMismatch

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Engine = Literal["deltalake", "spark"]


def verify_pin(pin: Snapshot, *, storage_options: Mapping[str, str] | None = None) -> Snapshot:
    """Recompute the pin's fingerprint from the log and compare.

    Raises:
        ReproducibilityMismatch: the version's files or schema are not the recorded ones.
        SnapshotError: the version is gone (vacuumed, expired log).
    """
    current = resolve_snapshot(pin.uri, pin.version, storage_options=storage_options)
    if current.fingerprint != pin.fingerprint:
        raise ReproducibilityMismatch(
            f"{redact_uri(pin.uri)} version {pin.version}: fingerprint {current.fingerprint[:12]} in the log, "
            f"{pin.fingerprint[:12]} recorded; the table was rewritten since it was pinned",
            result={"recorded": pin.to_dict(), "current": current.to_dict()},
        )
    return current


def read_pin(
    pin: Snapshot | Mapping[str, Any],
    *,
    engine: Engine = "deltalake",
    spark: SparkSession | None = None,
    columns: list[str] | None = None,
    storage_options: Mapping[str, str] | None = None,
    verify: bool = True,
) -> Any:
    """Read a pinned version with the chosen engine.

    Args:
        pin: a :class:`Snapshot` or its dict (e.g. the snapshot operator's XCom).
        engine: ``deltalake`` (pyarrow Table) or ``spark`` (Spark DataFrame).
        spark: the session for ``spark`` (see ``hooks.spark.SparkSessionHook``).
        columns: the columns to read; all when None.
        storage_options: delta-rs storage options.
        verify: check the fingerprint against the log first.

    Returns:
        A ``pyarrow.Table`` or a ``pyspark.sql.DataFrame``.

    Raises:
        ConfigurationError: ``spark`` without a session, or an unknown engine.
        ReproducibilityMismatch: the version no longer matches its fingerprint.
    """
    snapshot = pin if isinstance(pin, Snapshot) else Snapshot.from_dict(pin)
    if engine not in ("deltalake", "spark"):
        raise ConfigurationError(f"unknown engine {engine!r}: expected 'deltalake' or 'spark'")
    if engine == "spark" and spark is None:
        raise ConfigurationError("engine 'spark' needs a SparkSession (spark=)")
    if verify:
        verify_pin(snapshot, storage_options=storage_options)
    if engine == "spark":
        from airflow_provider_parity.delta.spark_engine import read_spark

        return read_spark(spark, snapshot.uri, snapshot.version,  # type: ignore[arg-type]
                          storage_options=storage_options, columns=columns)
    from airflow_provider_parity.delta.readers import read_arrow

    return read_arrow(snapshot.uri, snapshot.version, storage_options=storage_options, columns=columns)
