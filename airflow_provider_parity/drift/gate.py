"""The drift gate's whole job, independent of who runs it (the CLI or the Airflow operator).

Resolve the features (from the contract, or inferred), get the reference
profile (a stored profile, or profile the reference data once), profile the
current data on the reference's grids, compare.

Example:
    >>> result, ref_profile = run_drift("lake/train@v12.profile.json", "serving/2026-01-02.parquet",
    ...                                 contract=load_contract("contracts/customers.yaml"))
    >>> result.verdict
    'passed'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import pyarrow as pa

from airflow_provider_parity.drift.compare import (
    DriftSettings,
    compare_profiles,
    kinds_from_contract,
)
from airflow_provider_parity.drift.profile import (
    DatasetProfile,
    FeatureKind,
    infer_kinds,
    profile_batches,
)
from airflow_provider_parity.drift.result import DriftResult
from airflow_provider_parity.drift.sources import Source, SourceKind, open_source

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from airflow_provider_parity.contracts.model import Contract

DataInput: TypeAlias = str | pa.Table | Iterable[pa.RecordBatch]
"""A URI (parquet, Delta, or a profile ``.json``), an Arrow table, or a stream of record batches."""


def profile_path_for(table_uri: str, version: int) -> str:
    """Where a Delta snapshot's reference profile is stored: beside it, in the table's ``_parity`` folder.

    Delta readers and VACUUM leave folders whose names start with ``_`` alone, so the
    profile lives (and goes) with the table.

    Example:
        >>> profile_path_for("/lake/customers", 12)
        '/lake/customers/_parity/drift-profile-v12.json'
    """
    return f"{table_uri.rstrip('/')}/_parity/drift-profile-v{int(version)}.json"


def _resolve(data: DataInput | DatasetProfile, version: int | None, kind: SourceKind,
             storage_options: Mapping[str, str] | None) -> Source | DatasetProfile | pa.Table | Iterable[pa.RecordBatch]:
    if isinstance(data, str):
        return open_source(data, kind=kind, version=version, storage_options=storage_options)
    return data


def _describe(data: Any) -> str | None:
    if isinstance(data, Source):
        return data.description
    return None


def _schema_of(data: Any) -> pa.Schema | None:
    if isinstance(data, Source | pa.Table):
        return data.schema
    return None


def _batches(data: Any, kinds: Mapping[str, FeatureKind] | None, extra: list[str]) -> Iterable[pa.RecordBatch | pa.Table]:
    if isinstance(data, Source):
        columns = None if kinds is None else [*kinds, *[c for c in extra if c not in kinds]]
        if columns is not None:
            missing = [c for c in columns if c not in data.schema.names]
            if missing:
                from airflow_provider_parity.exceptions import DataError

                raise DataError(f"no column {missing[0]!r}; columns are {', '.join(data.schema.names)}",
                                source=data.description, column=missing[0])
        return data.batches(columns)
    if isinstance(data, pa.Table):
        return data.to_batches(max_chunksize=256 * 1024) or [data]
    return data  # type: ignore[no-any-return]


def _check_time_column(data: Any, column: str | None, *, dates: bool) -> None:
    """Refuse a time column that is missing or holds no times, before any data is read."""
    from airflow_provider_parity.exceptions import ConfigurationError, DataError

    if not column:
        raise ConfigurationError("a time window needs a time column")
    if isinstance(data, DatasetProfile):
        raise ConfigurationError("a time window applies to data, not to a stored profile of the current data")
    schema = _schema_of(data)
    if schema is None:  # a stream of batches: the profiler checks as it reads
        return
    if column not in schema.names:
        raise DataError(f"no time column {column!r}", source=_describe(data), column=column)
    kind = schema.field(column).type
    if pa.types.is_dictionary(kind):  # strings are read dictionary-encoded
        kind = kind.value_type
    if not (pa.types.is_timestamp(kind) or (dates and pa.types.is_date(kind))):
        expected = "a timestamp or a date" if dates else "a timestamp"
        raise DataError(f"column {column!r} is {kind}, not {expected}", source=_describe(data), column=column)


def _between(data: Any, column: str | None, bounds: tuple[datetime, datetime]) -> Any:
    """Only the rows of ``data`` with ``bounds[0] <= column < bounds[1]``."""
    import pyarrow.compute as pc

    from airflow_provider_parity.exceptions import ConfigurationError, DataError

    if not column:
        raise ConfigurationError("a time filter on the current data needs time_column")
    schema = _schema_of(data)
    if schema is None or column not in schema.names:
        raise DataError(f"no column {column!r} to filter by time", source=_describe(data), column=column)
    _check_time_column(data, column, dates=False)
    kind = schema.field(column).type
    if kind.tz is None:  # naive timestamps are taken as UTC, as everywhere in the provider
        bounds = tuple(b.astimezone(UTC).replace(tzinfo=None) if b.tzinfo else b for b in bounds)  # type: ignore[assignment]
    start, end = (pa.scalar(b, type=kind) for b in bounds)
    if isinstance(data, Source):
        data.where = (pc.field(column) >= start) & (pc.field(column) < end)
        return data
    if isinstance(data, pa.Table):
        values = data.column(column)
        return data.filter(pc.and_(pc.greater_equal(values, start), pc.less(values, end)))
    raise ConfigurationError("a time filter applies to a table or a Delta/parquet source, not a stored profile")


def run_drift(
    reference: DataInput | DatasetProfile | None,
    current: DataInput | DatasetProfile,
    *,
    contract: Contract | None = None,
    settings: DriftSettings | None = None,
    reference_version: int | None = None,
    current_version: int | None = None,
    reference_kind: SourceKind = "auto",
    current_kind: SourceKind = "auto",
    storage_options: Mapping[str, str] | None = None,
    segment_by: str | None = None,
    time_column: str | None = None,
    time_window: timedelta | None = None,
    current_between: tuple[datetime, datetime] | None = None,
    engine: Literal["arrow", "spark"] = "arrow",
    spark: SparkSession | None = None,
) -> tuple[DriftResult, DatasetProfile | None]:
    """Compare ``current`` with ``reference`` feature by feature.

    Args:
        reference: the reference data or its stored profile; None means no baseline.
        current: the current data (or a profile built on the reference's grids).
        contract: the data contract: features, kinds and drift policy; without it
            kinds are inferred and default thresholds apply.
        settings: explicit settings; default from the contract (or built-in defaults).
        reference_version: Delta version of the reference.
        current_version: Delta version of the current data.
        reference_kind: what ``reference`` is when it is a URI (``auto`` guesses).
        current_kind: what ``current`` is when it is a URI.
        storage_options: object-store options for Delta URIs.
        segment_by: also compare per value of this column.
        time_column: with ``time_window``, also compare per time window of the current data.
        time_window: width of the time windows.
        current_between: keep only current rows whose ``time_column`` is in ``[start, end)``
            (e.g. the last day of a serving log that keeps growing); needs ``time_column``.
        engine: ``arrow`` profiles in this process; ``spark`` profiles on ``spark`` (default: the
            active session, else a local one), partition by partition, with the same numbers.
        spark: the session for ``engine="spark"``.

    Returns:
        ``(result, reference_profile)``; store the profile beside the reference to skip re-reading it.

    Raises:
        DataError: unreadable input, a missing feature, mismatched kinds.
        SnapshotError: a Delta version that does not exist.
        ConfigurationError: a drift rule that does not fit its feature.
    """
    if settings is None:
        settings = DriftSettings.from_contract(contract) if contract is not None else DriftSettings()
    kinds: dict[str, FeatureKind] | None = kinds_from_contract(contract) if contract is not None else None
    extra = [c for c in (segment_by, time_column) if c]
    options: dict[str, Any] = {"segment_by": segment_by, "time_column": time_column, "time_window": time_window}
    ref_data = None if reference is None else _resolve(reference, reference_version, reference_kind, storage_options)
    ref_profile: DatasetProfile | None
    if ref_data is None or isinstance(ref_data, DatasetProfile):
        ref_profile = ref_data
    else:
        schema = _schema_of(ref_data)
        if kinds is None and schema is not None:
            kinds = infer_kinds(schema, exclude=[*extra, *settings.exclude])
        # The reference is split by the segment column only: each current time
        # window is judged against the whole reference (or its segment).
        ref_profile = _profile(ref_data, kinds, [segment_by] if segment_by else [], engine, spark,
                               segment_by=segment_by)
    if kinds is None and ref_profile is not None:
        kinds = ref_profile.kinds
    if kinds is not None:
        kinds = {k: v for k, v in kinds.items() if k not in settings.exclude}
    cur_data = _resolve(current, current_version, current_kind, storage_options)
    if time_window is not None:
        _check_time_column(cur_data, time_column, dates=True)
    between = None
    if current_between is not None:
        cur_data = _between(cur_data, time_column, current_between)  # checks the column on either engine
        between = (str(time_column), *current_between)
    if isinstance(cur_data, DatasetProfile):
        cur_profile = cur_data
    else:
        if kinds is None:
            schema = _schema_of(cur_data)
            kinds = infer_kinds(schema, exclude=extra) if schema is not None else None
        cur_profile = _profile(cur_data, kinds, extra, engine, spark, like=ref_profile, between=between, **options)
    result = compare_profiles(ref_profile, cur_profile, settings, kinds=kinds,
                              contract=None if contract is None else contract.ref, skip_identifiers=contract is None)
    if settings.multivariate is not None and result.verdict in ("passed", "failed"):
        result.add_multivariate(_multivariate(ref_data, cur_data, result, settings))
    return result, ref_profile


def _profile(data: Any, kinds: Mapping[str, FeatureKind] | None, extra: list[str], engine: str,
             spark: SparkSession | None, *, between: tuple[str, datetime, datetime] | None = None,
             **options: Any) -> DatasetProfile:
    """One side's profile by the chosen engine (Spark gets the filter ``between``; Arrow's is on the source)."""
    if engine != "spark":
        return profile_batches(_batches(data, kinds, extra), kinds, source=_describe(data), **options)
    from airflow_provider_parity.drift.spark import profile_on_spark
    from airflow_provider_parity.validation.spark_sql import default_session

    columns = [] if kinds is None else [*kinds, *[c for c in extra if c not in kinds]]
    return profile_on_spark(spark or default_session(), data, kinds, columns, between=between,
                            source=_describe(data), **options)


def _row_total(data: Any) -> int | None:
    if isinstance(data, Source) and data.where is None:
        return int(data.count_rows())
    if isinstance(data, pa.Table):
        return int(data.num_rows)
    return None


def _multivariate(ref_data: Any, cur_data: Any, result: DriftResult, settings: DriftSettings) -> Any:
    """The domain classifier on a sample of each side's compared features (a second read of the data)."""
    from airflow_provider_parity.drift.multivariate import domain_classifier, sample_rows
    from airflow_provider_parity.exceptions import ConfigurationError

    if not isinstance(ref_data, Source | pa.Table) or not isinstance(cur_data, Source | pa.Table):
        raise ConfigurationError("the multivariate drift check needs the data on both sides, not a stored profile")
    kinds = {f.name: f.kind for f in result.features}
    samples = [sample_rows(_batches(data, kinds, []), _row_total(data), settings.multivariate_rows, seed)
               for seed, data in enumerate((ref_data, cur_data))]
    assert settings.multivariate is not None
    return domain_classifier(samples[0], samples[1], kinds, threshold=settings.multivariate)
