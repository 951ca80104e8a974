"""Mergeable profiles of a dataset, built in one pass over Arrow record batches.

A reference profile is computed once per training snapshot and stored beside
it (JSON); serving batches are later profiled on the same grids and compared
with it, without reading the reference again. Profiles of partitions merge
(:meth:`DatasetProfile.merge`), so a DAG can map the work over partitions.

Per numeric feature: row, null, NaN and +/-inf counts, finite min/max, sum and
sum of squares around the grid centre (mean and standard deviation), and a
:class:`~airflow_provider_parity.drift.histogram.FineHistogram` (from which
quantiles, PSI bins, KS and Wasserstein are derived). Per categorical feature:
null count and the count of every value, up to ``max_categories`` values; the
rarest beyond that are folded into ``other_count``. Memory depends on the
number of bins and distinct values, never on the row count.

Example:
    >>> import pyarrow.parquet as pq
    >>> ref = profile_batches(pq.ParquetFile("train.parquet").iter_batches())
    >>> ref.save("train.profile.json")
    >>> cur = profile_batches(pq.ParquetFile("serving.parquet").iter_batches(), like=ref)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_parity.drift.histogram import (
    DEFAULT_BITS,
    MAX_BINS,
    FineHistogram,
    Grid,
    bin_midpoints,
)
from airflow_provider_parity.exceptions import DataError, SchemaMismatchError
from airflow_provider_parity.fileio import atomic_write_json

FeatureKind = Literal["numeric", "categorical"]

PROFILE_FORMAT = "parity-drift-profile/1"
MAX_CATEGORIES = 250_000
"""Distinct values a categorical profile keeps; the rarest beyond are counted as ``other``."""
MAX_SEGMENTS = 1_000


def kind_of(dtype: pa.DataType) -> FeatureKind | None:
    """The feature kind inferred from an Arrow type, or None for types drift cannot compare.

    Numbers, dates, times and durations are numeric; strings, booleans and
    dictionaries are categorical; nested types are skipped.
    """
    if pa.types.is_dictionary(dtype):
        return "categorical"
    if (
        pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_decimal(dtype)
        or pa.types.is_temporal(dtype)
    ):
        return "numeric"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or pa.types.is_boolean(dtype):
        return "categorical"
    return None


def infer_kinds(schema: pa.Schema, exclude: Iterable[str] = ()) -> dict[str, FeatureKind]:
    """Feature kinds for every comparable column of ``schema`` not in ``exclude``."""
    skip = set(exclude)
    kinds: dict[str, FeatureKind] = {}
    for fld in schema:
        kind = kind_of(fld.type)
        if kind is not None and fld.name not in skip:
            kinds[fld.name] = kind
    return kinds


def to_float64(array: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Values as float64, nulls as NaN; temporal types as their integer ticks."""
    dtype = array.type
    if pa.types.is_temporal(dtype):
        array = pc.cast(array, pa.int64()) if not pa.types.is_date32(dtype) else pc.cast(array, pa.int32())
    if not pa.types.is_floating(array.type) or array.type != pa.float64():
        array = pc.cast(array, pa.float64())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.null_count:
        array = pc.fill_null(array, np.nan)
    # The values buffer itself: Array.to_numpy imports pandas (a third of a second) on first use.
    data = array.buffers()[1]
    if data is None or len(array) == 0:
        return np.empty(0, dtype=np.float64)
    return np.frombuffer(data, dtype=np.float64, count=len(array), offset=array.offset * 8)


# --- numeric --------------------------------------------------------------------


@dataclass
class NumericProfile:
    """Counts, moments and a fine histogram of one numeric feature."""

    rows: int = 0
    nulls: int = 0
    nans: int = 0
    pos_inf: int = 0
    neg_inf: int = 0
    min: float | None = None
    max: float | None = None
    sum_centered: float = 0.0
    sumsq_centered: float = 0.0
    grid: Grid | None = None
    hist: FineHistogram = field(default_factory=FineHistogram)

    kind: FeatureKind = "numeric"

    @property
    def finite(self) -> int:
        return self.rows - self.nulls - self.nans - self.pos_inf - self.neg_inf

    @property
    def missing(self) -> int:
        """Nulls and NaNs: both mean "no value" to a model."""
        return self.nulls + self.nans

    @property
    def mean(self) -> float | None:
        if self.finite == 0 or self.grid is None:
            return None
        return self.grid.center + self.sum_centered / self.finite

    @property
    def std(self) -> float | None:
        """Population standard deviation of the finite values."""
        if self.finite == 0:
            return None
        mean_c = self.sum_centered / self.finite
        return float(np.sqrt(max(0.0, self.sumsq_centered / self.finite - mean_c * mean_c)))

    def update(self, values: np.ndarray[Any, np.dtype[np.float64]], nulls: int) -> Grid | None:
        """Add one batch: ``values`` as float64 (nulls are NaN), ``nulls`` of them Arrow nulls.

        Returns:
            The grid, inferred from this batch when the profile had none.
        """
        self.rows += values.size
        self.nulls += nulls
        if self.grid is None:
            finite = values[np.isfinite(values)]
            if finite.size == 0:
                self._count_non_finite(values, nulls)
                return None
            self.grid = Grid.infer(finite)
        if self.hist.grid is None:
            self.hist.grid = self.grid
        centered = values - self.grid.center if self.grid.center else values
        total = float(centered.sum())
        if not np.isfinite(total):
            # Only a NaN or an infinity makes the sum non-finite: take the slow path.
            mask = np.isfinite(values)
            self._count_non_finite(values, nulls, int(values.size - np.count_nonzero(mask)))
            values, centered = values[mask], centered[mask]
            if values.size == 0:
                return self.grid
            total = float(centered.sum())
        lo, hi = float(values.min()), float(values.max())
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)
        self.sum_centered += total
        # einsum, not np.dot: BLAS threads fight the profiling threads for the cores.
        self.sumsq_centered += float(np.einsum("i,i->", centered, centered))
        shift = self.grid.center if self.grid.center else 0.0
        self.hist.add_centered(centered, (lo - shift, hi - shift))
        return self.grid

    def _count_non_finite(self, values: np.ndarray[Any, np.dtype[np.float64]], nulls: int,
                          non_finite: int | None = None) -> None:
        if non_finite == 0:
            return
        self.nans += int(np.count_nonzero(np.isnan(values))) - nulls
        self.pos_inf += int(np.count_nonzero(values == np.inf))
        self.neg_inf += int(np.count_nonzero(values == -np.inf))

    def merge(self, other: NumericProfile) -> None:
        """Add ``other`` (a profile on the same grid) into this one.

        Raises:
            DataError: the two profiles were binned on different grids.
        """
        if other.finite and self.finite and self.grid != other.grid:
            raise DataError(
                f"cannot merge numeric profiles on different grids ({self.grid} vs {other.grid}): "
                "profile every partition with the reference's grids (like=...)"
            )
        if other.finite and other.min is not None and other.max is not None:
            if self.grid is None or not self.finite:
                self.grid = other.grid
            self.min = other.min if self.min is None else min(self.min, other.min)
            self.max = other.max if self.max is None else max(self.max, other.max)
        self.rows += other.rows
        self.nulls += other.nulls
        self.nans += other.nans
        self.pos_inf += other.pos_inf
        self.neg_inf += other.neg_inf
        self.sum_centered += other.sum_centered
        self.sumsq_centered += other.sumsq_centered
        self.hist.merge(other.hist)

    def quantiles(self, probs: Iterable[float]) -> list[float | None]:
        """Approximate quantiles of the finite values: the midpoint of the fine bin
        where the cumulative count first reaches ``p * finite``."""
        keys, counts = self.hist.sparse()
        if keys.size == 0 or self.grid is None:
            return [None for _ in probs]
        cum = np.cumsum(counts)
        mids = bin_midpoints(keys, self.grid, self.hist.bits)
        out: list[float | None] = []
        for p in probs:
            idx = int(np.searchsorted(cum, max(1e-12, p * cum[-1]), side="left"))
            out.append(float(mids[min(idx, keys.size - 1)]))
        return out

    def to_dict(self) -> dict[str, Any]:
        self.hist.compact()
        q = self.quantiles([0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
        return {
            "kind": "numeric",
            "rows": self.rows,
            "nulls": self.nulls,
            "nans": self.nans,
            "pos_inf": self.pos_inf,
            "neg_inf": self.neg_inf,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "std": self.std,
            "quantiles": dict(zip(["p01", "p05", "p25", "p50", "p75", "p95", "p99"], q, strict=True)),
            "sum_centered": self.sum_centered,
            "sumsq_centered": self.sumsq_centered,
            "grid": None if self.grid is None else self.grid.to_dict(),
            "histogram": self.hist.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NumericProfile:
        grid = data.get("grid")
        return cls(
            rows=int(data["rows"]),
            nulls=int(data["nulls"]),
            nans=int(data["nans"]),
            pos_inf=int(data["pos_inf"]),
            neg_inf=int(data["neg_inf"]),
            min=data.get("min"),
            max=data.get("max"),
            sum_centered=float(data["sum_centered"]),
            sumsq_centered=float(data["sumsq_centered"]),
            grid=None if grid is None else Grid(center=float(grid["center"]), floor=float(grid["floor"])),
            hist=FineHistogram.from_dict(data["histogram"], grid=None if grid is None else Grid(**grid)),
        )


# --- categorical ----------------------------------------------------------------


def _category_label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class CategoricalProfile:
    """Null count and the count of every value (up to ``max_categories``) of one categorical feature."""

    rows: int = 0
    nulls: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    other_count: int = 0
    """Values dropped because the profile held more than ``max_categories`` distinct values."""
    max_categories: int = MAX_CATEGORIES

    kind: FeatureKind = "categorical"

    @property
    def missing(self) -> int:
        return self.nulls

    def update(self, array: pa.Array | pa.ChunkedArray) -> None:
        """Add one batch's column."""
        self.rows += len(array)
        self.nulls += array.null_count
        vc = pc.value_counts(array)
        values = vc.field("values").to_pylist()
        freq = vc.field("counts").to_pylist()
        counts = self.counts
        for value, n in zip(values, freq, strict=True):
            if value is None:
                continue
            label = _category_label(value)
            counts[label] = counts.get(label, 0) + n
        if len(counts) > 2 * self.max_categories:
            self._prune()

    def _prune(self) -> None:
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        kept = dict(ranked[: self.max_categories])
        self.other_count += sum(n for _, n in ranked[self.max_categories :])
        self.counts = kept

    def merge(self, other: CategoricalProfile) -> None:
        """Add ``other``'s counts into this profile."""
        self.rows += other.rows
        self.nulls += other.nulls
        self.other_count += other.other_count
        for value, n in other.counts.items():
            self.counts[value] = self.counts.get(value, 0) + n
        if len(self.counts) > self.max_categories:
            self._prune()

    def top(self, k: int = 20) -> list[tuple[str, int]]:
        """The ``k`` most frequent values with their counts."""
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]

    def to_dict(self) -> dict[str, Any]:
        if len(self.counts) > self.max_categories:
            self._prune()
        return {
            "kind": "categorical",
            "rows": self.rows,
            "nulls": self.nulls,
            "distinct": len(self.counts),
            "top": [list(item) for item in self.top(10)],
            "counts": dict(sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            "other_count": self.other_count,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CategoricalProfile:
        return cls(
            rows=int(data["rows"]),
            nulls=int(data["nulls"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            other_count=int(data.get("other_count", 0)),
        )


FeatureProfile = NumericProfile | CategoricalProfile


# --- dataset --------------------------------------------------------------------


@dataclass
class DatasetProfile:
    """Profiles of every feature of a dataset, optionally per segment.

    Attributes:
        rows: rows seen.
        features: one profile per feature, by name.
        segments: the same per segment, keyed ``"column=value"`` or ``"window=<ISO start>"``.
        source: what was profiled (a URI, a Delta version), for the report.
    """

    rows: int = 0
    features: dict[str, FeatureProfile] = field(default_factory=dict)
    segments: dict[str, DatasetProfile] = field(default_factory=dict)
    source: str | None = None

    @property
    def kinds(self) -> dict[str, FeatureKind]:
        return {name: prof.kind for name, prof in self.features.items()}

    @property
    def grids(self) -> dict[str, Grid]:
        """The numeric grids, to profile another dataset comparably."""
        return {
            name: prof.grid
            for name, prof in self.features.items()
            if isinstance(prof, NumericProfile) and prof.grid is not None
        }

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """Add ``other`` (e.g. another partition's profile) into this one and return self.

        Raises:
            DataError: the profiles disagree on a feature's kind or grid.
        """
        self.rows += other.rows
        for name, prof in other.features.items():
            mine = self.features.get(name)
            if mine is None:
                self.features[name] = _copy(prof)
            elif mine.kind != prof.kind:
                raise DataError(f"cannot merge profiles: feature {name!r} is {mine.kind} in one, {prof.kind} in the other")
            else:
                mine.merge(prof)  # type: ignore[arg-type]
        for label, seg in other.segments.items():
            if label in self.segments:
                self.segments[label].merge(seg)
            else:
                self.segments[label] = DatasetProfile().merge(seg)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT,
            "source": self.source,
            "rows": self.rows,
            # JSON writers sort keys; the order keeps reports in the data's column order.
            "order": list(self.features),
            "features": {name: prof.to_dict() for name, prof in self.features.items()},
            "segments": {label: seg.to_dict() for label, seg in self.segments.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises:
            DataError: not a profile of this format.
        """
        if data.get("format") != PROFILE_FORMAT:
            raise DataError(f"not a drift profile (format {data.get('format')!r}, expected {PROFILE_FORMAT!r})")
        features: dict[str, FeatureProfile] = {}
        order = list(data.get("order") or data["features"])
        for name in order:
            prof = data["features"][name]
            features[name] = NumericProfile.from_dict(prof) if prof["kind"] == "numeric" else CategoricalProfile.from_dict(prof)
        segments = {label: cls.from_dict(seg) for label, seg in data.get("segments", {}).items()}
        return cls(rows=int(data["rows"]), features=features, segments=segments, source=data.get("source"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the profile as JSON, atomically."""
        atomic_write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DatasetProfile:
        """Read a profile written by :meth:`save`.

        Raises:
            DataError: the file is missing, not JSON, or not a profile.
        """
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            raise DataError("profile file not found", source=str(path)) from None
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read profile: {exc}", source=str(path)) from None
        if not isinstance(data, dict):
            raise DataError("not a drift profile", source=str(path))
        try:
            return cls.from_dict(data)
        except DataError as exc:
            raise DataError(str(exc), source=str(path)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"malformed profile: {exc!r}", source=str(path)) from None


def _copy(prof: FeatureProfile) -> FeatureProfile:
    fresh: FeatureProfile = NumericProfile() if isinstance(prof, NumericProfile) else CategoricalProfile()
    fresh.merge(prof)  # type: ignore[arg-type]
    return fresh


# --- the streaming profiler -------------------------------------------------------


class Profiler:
    """Streams record batches into a :class:`DatasetProfile`.

    Args:
        kinds: features to profile and their kinds; inferred from the first
            batch's schema when None (segment and time columns excluded).
        grids: numeric grids to bin on, normally ``reference.grids``; a
            feature without one gets a grid inferred from its first batch.
        segment_by: a column whose values split the data into segments.
        time_column: a timestamp or date column for time-window segments.
        time_window: the width of a time window (requires ``time_column``).
        bits: mantissa bits of the fine histograms.
        max_bins: non-empty fine bins kept per feature.
        source: a description of the input, kept in the profile.
        threads: features profiled in parallel (default: the CPU count).
    """

    def __init__(
        self,
        kinds: Mapping[str, FeatureKind] | None = None,
        *,
        grids: Mapping[str, Grid] | None = None,
        segment_by: str | None = None,
        time_column: str | None = None,
        time_window: timedelta | None = None,
        bits: int = DEFAULT_BITS,
        max_bins: int = MAX_BINS,
        source: str | None = None,
        threads: int | None = None,
    ) -> None:
        if time_window is not None and time_column is None:
            raise DataError("a time window needs a time column")
        self.kinds = dict(kinds) if kinds is not None else None
        self.grids: dict[str, Grid] = dict(grids or {})
        self.segment_by = segment_by
        self.time_column = time_column
        self.time_window = time_window
        self.bits = bits
        self.max_bins = max_bins
        self.profile = DatasetProfile(source=source)
        self.threads = threads
        self._children: dict[str, Profiler] = {}
        self._started = False
        self._executor: ThreadPoolExecutor | None = None

    def _start(self, schema: pa.Schema) -> None:
        if self.kinds is None:
            self.kinds = infer_kinds(schema, exclude=[c for c in (self.segment_by, self.time_column) if c])
        missing = [name for name in self.kinds if name not in schema.names]
        if missing:
            raise DataError(f"no column {missing[0]!r}; columns are {', '.join(schema.names)}", column=missing[0])
        self._init_features()

    def _init_features(self) -> None:
        for name, kind in (self.kinds or {}).items():
            if name not in self.profile.features:
                self.profile.features[name] = (
                    NumericProfile(hist=FineHistogram(self.bits, self.max_bins))
                    if kind == "numeric"
                    else CategoricalProfile()
                )
                grid = self.grids.get(name)
                if grid is not None and kind == "numeric":
                    self.profile.features[name].grid = grid  # type: ignore[union-attr]
                    self.profile.features[name].hist.grid = grid  # type: ignore[union-attr]

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add one batch.

        Raises:
            DataError: a feature, segment or time column is missing from the batch.
        """
        if not self._started:
            self._start(batch.schema)
            self._started = True
        assert self.kinds is not None
        self.profile.rows += batch.num_rows
        if batch.num_rows == 0:
            return
        columns = [(name, kind, batch.column(name)) for name, kind in self.kinds.items()]
        # numpy and Arrow compute release the GIL: features are profiled in parallel.
        for _ in self._pool().map(lambda item: self._update_feature(*item), columns):
            pass
        if self.segment_by or self.time_column:
            self._update_segments(batch)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            workers = max(1, min(self.threads or os.cpu_count() or 1, len(self.kinds or ())))
            self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parity-profile")
        return self._executor

    def _update_feature(self, name: str, kind: FeatureKind, column: pa.Array | pa.ChunkedArray) -> None:
        try:
            self._update_column(name, kind, column)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise SchemaMismatchError(
                f"column {name!r} of type {column.type} cannot be compared as a {kind} feature", column=name
            ) from None

    def _update_column(self, name: str, kind: FeatureKind, column: pa.Array | pa.ChunkedArray) -> None:
        prof = self.profile.features[name]
        if kind == "numeric":
            assert isinstance(prof, NumericProfile)
            grid = prof.update(to_float64(column), column.null_count)
            if grid is not None:
                self.grids.setdefault(name, grid)
        else:
            assert isinstance(prof, CategoricalProfile)
            prof.update(column)

    def _update_segments(self, batch: pa.RecordBatch | pa.Table) -> None:
        for label, part in _split(batch, self.segment_by, self.time_column, self.time_window):
            child = self._children.get(label)
            if child is None:
                if len(self._children) >= MAX_SEGMENTS:
                    raise DataError(f"more than {MAX_SEGMENTS} segments; segment by a coarser column or window")
                child = Profiler(self.kinds, grids=self.grids, bits=self.bits, max_bins=self.max_bins, threads=1)
                self._children[label] = child
            child.update(part)

    def result(self) -> DatasetProfile:
        """The profile of everything seen so far (and the end of the worker threads)."""
        self._init_features()
        for prof in self.profile.features.values():
            if isinstance(prof, NumericProfile):
                prof.hist.compact()
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None
        self.profile.segments = {label: child.result() for label, child in sorted(self._children.items())}
        return self.profile


def _split(
    batch: pa.RecordBatch | pa.Table, segment_by: str | None, time_column: str | None, window: timedelta | None
) -> list[tuple[str, pa.RecordBatch | pa.Table]]:
    names = batch.schema.names
    labels: list[pa.Array] = []
    if segment_by:
        if segment_by not in names:
            raise DataError(f"no segment column {segment_by!r}", column=segment_by)
        seg = pc.cast(batch.column(segment_by), pa.string())
        labels.append(pc.binary_join_element_wise(segment_by, pc.fill_null(seg, "<null>"), "="))
    if time_column and window is not None:
        if time_column not in names:
            raise DataError(f"no time column {time_column!r}", column=time_column)
        labels.append(_window_labels(batch.column(time_column), window))
    if not labels:
        return []
    key = labels[0] if len(labels) == 1 else pc.binary_join_element_wise(labels[0], labels[1], ",")
    encoded = pc.dictionary_encode(key)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    out = []
    for index, label in enumerate(encoded.dictionary.to_pylist()):
        mask = pc.equal(encoded.indices, index)
        out.append((str(label), batch.filter(mask)))
    return out


def _window_labels(column: pa.Array | pa.ChunkedArray, window: timedelta) -> pa.Array:
    """``window=<start>`` per row. Integer arithmetic on the timestamps' own unit: a float64 of
    microseconds loses whole units after about year 2255, and windows start on exact multiples."""
    stamps = column if pa.types.is_timestamp(column.type) else pc.cast(column, pa.timestamp("us"))
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[stamps.type.unit]
    width = max(1, int(window / timedelta(seconds=1) * per_second))
    valid = np.asarray(pc.is_valid(stamps).to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(pc.fill_null(pc.cast(stamps, pa.int64()), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    starts = values // width * width  # floor division: windows before 1970 start on the multiple below
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    names = {int(s): "window=" + (epoch + timedelta(seconds=int(s) // per_second,
                                                     microseconds=int(s) % per_second * 1_000_000 // per_second)).isoformat()
             for s in np.unique(starts[valid])}
    return pa.array([names[s] if ok else "window=<null>" for s, ok in zip(starts.tolist(), valid.tolist(), strict=True)],
                    pa.string())


def profile_batches(
    batches: Iterable[pa.RecordBatch | pa.Table],
    kinds: Mapping[str, FeatureKind] | None = None,
    *,
    like: DatasetProfile | None = None,
    **options: Any,
) -> DatasetProfile:
    """Profile a stream of record batches in one pass.

    Args:
        batches: the data, batch by batch (a ``pa.Table`` counts as one batch).
        kinds: features and their kinds; defaults to ``like.kinds`` or the schema.
        like: a reference profile whose features and grids to reuse, so the
            result compares with (and merges into) it.
        **options: passed to :class:`Profiler` (segment_by, time_column, ...).

    Returns:
        The profile.

    Raises:
        DataError: a feature is missing from the data.
    """
    if like is not None:
        kinds = kinds if kinds is not None else like.kinds
        options.setdefault("grids", like.grids)
    profiler = Profiler(kinds, **options)
    for batch in batches:
        profiler.update(batch)
    return profiler.result()

