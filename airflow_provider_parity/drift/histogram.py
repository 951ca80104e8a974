"""A mergeable fine histogram of numeric values, built in one streaming pass.

KS and Wasserstein need the distribution at a finer grain than PSI's ten bins,
and profiles of partitions must merge, so every partition has to bin on the
same edges without seeing the others. The grid used here needs no coordination
beyond a per-column :class:`Grid` (a centre and a floor):

* a value ``x`` is shifted to ``y = x - centre`` (the centre is the reference's
  median, or 0 for skewed one-signed data, so a column such as ``1e9 + noise``
  keeps its resolution);
* ``|y| < floor`` (a power of two far below the spread) is the centre bin, key 0;
* otherwise the bin of ``y`` is the bit pattern of ``|y|`` shifted right to keep
  ``bits`` mantissa bits, counted from the floor and signed like ``y``: a
  log-scale grid whose bins are ``2**-bits`` of ``|y|`` wide (``bits=12``:
  0.024 %), the idea of DDSketch computed with integer operations instead of a
  logarithm. Keys ascend with the values.

Coarsening drops mantissa bits (:func:`coarsen_keys`), which is exactly the
grid with fewer bits, so histograms of different resolutions still merge and
compare: the finer one is coarsened. A finished histogram keeps at most
``max_bins`` non-empty bins (default 8192), bounding profile size whatever the
row count; counting happens in a dense window with ``np.bincount`` (no sort).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

DEFAULT_BITS = 12
"""Mantissa bits kept while streaming: bins 1/4096 of a value's magnitude wide."""
MAX_BINS = 8192
"""Non-empty bins a finished histogram keeps at most (it coarsens to fit)."""
_DENSE_LIMIT = 1 << 22
"""Width of the dense counting window; a wider range coarsens while streaming."""
_FLOOR_BITS = 20
_MAGNITUDE = np.int64(0x7FFFFFFFFFFFFFFF)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """Where a numeric column's fine bins are: shared by every profile that merges or compares.

    Attributes:
        center: subtracted from every value before binning.
        floor: values closer than this to ``center`` fall in the zero bin.
    """

    center: float
    floor: float

    def __post_init__(self) -> None:
        # Binning relies on the floor being a power of two (see centered_keys).
        if not (self.floor > 0 and math.isfinite(self.floor)):
            raise ValueError(f"grid floor must be a positive number, got {self.floor}")
        object.__setattr__(self, "floor", 2.0 ** math.floor(math.log2(self.floor)))

    @classmethod
    def infer(cls, values: FloatArray) -> Grid:
        """A grid for finite ``values`` (typically the reference's first batch).

        The centre is the median rounded to a power of two well below the
        interquartile range (so nearby samples of the same data pick the same
        grid), or 0 for one-signed data whose median is within a few
        interquartile ranges of 0.

        Args:
            values: finite float64 values; may be empty.

        Returns:
            The grid.
        """
        if values.size == 0:
            return cls(center=0.0, floor=2.0**-_FLOOR_BITS)
        q25, median, q75 = (float(v) for v in np.quantile(values, [0.25, 0.5, 0.75]))
        spread = q75 - q25
        one_signed = float(values.min()) >= 0 or float(values.max()) <= 0
        if not spread > 0:
            # (Nearly) constant: centre on the value itself, so the moments stay exact.
            scale = abs(median) if median != 0 else 1.0
            center = median
        elif one_signed and abs(median) <= 4 * spread:
            # Skewed one-signed data (amounts, counts, durations): bins relative
            # to the value itself keep the dense low end resolved.
            scale, center = spread, 0.0
        else:
            scale = spread
            step = 2.0 ** (math.floor(math.log2(scale)) - 8)
            center = round(median / step) * step
        return cls(center=float(center), floor=float(scale * 2.0**-_FLOOR_BITS))

    def to_dict(self) -> dict[str, float]:
        return {"center": self.center, "floor": self.floor}


def _floor_index(grid: Grid, bits: int) -> int:
    return int(np.float64(grid.floor).view(np.int64)) >> (52 - bits)


def bin_keys(values: FloatArray, grid: Grid, bits: int) -> IntArray:
    """The fine-bin key of each finite value; keys ascend with the values.

    Key 0 is the centre (``|x - centre| < floor``); key ``+k`` (``-k``) is the
    ``k``-th bin above (below) it. Bins are log-spaced in ``|x - centre|``.

    Args:
        values: finite float64 values.
        grid: the column's grid.
        bits: mantissa bits kept (0..52).

    Returns:
        int64 keys.
    """
    return centered_keys(values - grid.center, grid, bits)


def centered_keys(centered: FloatArray, grid: Grid, bits: int) -> IntArray:
    """:func:`bin_keys` of values already shifted by the grid's centre (the array is not modified)."""
    raw = centered.view(np.int64)
    sign = raw >> 63  # -1 below the centre (and for -0.0), else 0
    index = raw & _MAGNITUDE
    index >>= 52 - bits
    # The floor is a power of two, so "below the floor" is exactly "index <= 0"
    # here, at every resolution; shifting also lets the dense counting window
    # skip the exponents between 0 and the floor.
    index -= _floor_index(grid, bits) - 1
    np.maximum(index, 0, out=index)
    index ^= sign
    index -= sign
    return index


def coarsen_keys(keys: IntArray, grid: Grid, bits: int, dropped: int = 1) -> IntArray:
    """Keys at ``bits`` mapped to the grid with ``dropped`` mantissa bits fewer.

    Equals :func:`bin_keys` computed directly at ``bits - dropped``.
    """
    keys = np.asarray(keys, dtype=np.int64)
    index = np.abs(keys) - 1 + _floor_index(grid, bits)
    coarse = np.right_shift(index, dropped) - _floor_index(grid, bits - dropped) + 1
    coarse = np.maximum(coarse, 1)
    return np.asarray(np.sign(keys) * coarse, dtype=np.int64)


def bin_bounds(keys: IntArray, grid: Grid, bits: int) -> tuple[FloatArray, FloatArray]:
    """Value bounds ``(lower, upper)`` of fine bins, in the original units.

    A bin above the centre holds ``[lower, upper)``, one below it
    ``(lower, upper]``, the centre bin ``(centre - floor, centre + floor)``.
    """
    keys = np.asarray(keys, dtype=np.int64)
    shift = 52 - bits
    index = np.abs(keys) - 1 + _floor_index(grid, bits)
    near = np.maximum(np.left_shift(index, shift).view(np.float64), grid.floor)
    far = np.left_shift(index + 1, shift).view(np.float64)
    lower = np.where(keys > 0, near, -far)
    upper = np.where(keys > 0, far, -near)
    lower = np.where(keys == 0, -grid.floor, lower)
    upper = np.where(keys == 0, grid.floor, upper)
    return lower + grid.center, upper + grid.center


def bin_midpoints(keys: IntArray, grid: Grid, bits: int) -> FloatArray:
    """Each fine bin's representative value: the middle of its bounds (the centre for key 0)."""
    lower, upper = bin_bounds(keys, grid, bits)
    mid = 0.5 * (lower + upper)
    mid = np.where(np.isfinite(mid), mid, np.where(np.isfinite(lower), lower, upper))
    return np.asarray(np.where(np.asarray(keys) == 0, grid.center, mid), dtype=np.float64)


class FineHistogram:
    """Counts per fine bin of one column, streamed batch by batch, mergeable.

    Counting happens in a dense window ``counts[key - offset]`` (``np.bincount``
    per batch, no sort); :meth:`sparse` gives the non-empty bins. The grid is
    set by the owning profile before the first value arrives.
    """

    def __init__(self, bits: int = DEFAULT_BITS, max_bins: int = MAX_BINS, grid: Grid | None = None) -> None:
        self.bits = bits
        self.max_bins = max_bins
        self.grid = grid
        self.offset = 0
        self.counts: IntArray = np.zeros(0, dtype=np.int64)

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def _grid(self) -> Grid:
        if self.grid is None:
            raise ValueError("the histogram has no grid yet")
        return self.grid

    def add_values(self, values: FloatArray) -> None:
        """Count finite float64 values."""
        center = self._grid().center
        self.add_centered(values - center if center else values)

    def add_centered(self, centered: FloatArray, extremes: tuple[float, float] | None = None) -> None:
        """Count finite values already shifted by the grid's centre.

        Args:
            centered: the shifted values.
            extremes: their min and max when the caller knows them (keys ascend with the
                values, so the extreme keys follow without two more passes over the keys).
        """
        if centered.size == 0:
            return
        keys = centered_keys(centered, self._grid(), self.bits)
        if extremes is None:
            kmin, kmax = int(keys.min()), int(keys.max())
        else:
            kmin, kmax = (int(k) for k in centered_keys(np.array(extremes, dtype=np.float64), self._grid(), self.bits))
        lo, hi = kmin, kmax
        if self.counts.size:
            lo, hi = min(lo, self.offset), max(hi, self.offset + self.counts.size - 1)
        while hi - lo + 1 > _DENSE_LIMIT and self.bits > 0:
            keys = coarsen_keys(keys, self._grid(), self.bits)
            lo, hi, kmin = (int(k) for k in coarsen_keys(np.array([lo, hi, kmin]), self._grid(), self.bits))
            self.coarsen(self.bits - 1)
        self._widen(lo, hi)
        block = np.bincount(keys - kmin)
        start = kmin - self.offset
        self.counts[start : start + block.size] += block

    def _widen(self, lo: int, hi: int) -> None:
        if self.counts.size and lo >= self.offset and hi < self.offset + self.counts.size:
            return
        if self.counts.size:
            lo, hi = min(lo, self.offset), max(hi, self.offset + self.counts.size - 1)
        grown = np.zeros(hi - lo + 1, dtype=np.int64)
        if self.counts.size:
            start = self.offset - lo
            grown[start : start + self.counts.size] = self.counts
        self.offset, self.counts = lo, grown

    def coarsen(self, bits: int) -> None:
        """Drop mantissa bits down to ``bits`` (no-op when already that coarse)."""
        if bits >= self.bits:
            return
        keys, counts = self.at_bits(bits)
        self.bits = bits
        self.offset, self.counts = 0, np.zeros(0, dtype=np.int64)
        if keys.size:
            self._widen(int(keys[0]), int(keys[-1]))
            self.counts[keys - self.offset] = counts  # keys are distinct: no accumulation needed

    def add_counts(self, keys: IntArray, counts: IntArray) -> None:
        """Add ``counts`` at ``keys`` (already at this histogram's ``bits``)."""
        if keys.size == 0:
            return
        self._widen(int(keys.min()), int(keys.max()))
        np.add.at(self.counts, keys - self.offset, counts)

    def sparse(self) -> tuple[IntArray, IntArray]:
        """Non-empty bins: ``(keys, counts)``, keys ascending."""
        nonzero = np.flatnonzero(self.counts)
        return (nonzero + self.offset).astype(np.int64), self.counts[nonzero].copy()

    def compact(self) -> None:
        """Coarsen to the finest resolution with at most ``max_bins`` non-empty bins."""
        keys, _ = self.sparse()
        if keys.size <= self.max_bins:
            return
        bits = self.bits
        # Coarsening keeps keys sorted, so distinct keys are counted without a sort.
        while bits > 0:
            bits -= 1
            coarse = coarsen_keys(keys, self._grid(), self.bits, self.bits - bits)
            if 1 + np.count_nonzero(np.diff(coarse)) <= self.max_bins:
                break
        self.coarsen(bits)

    def merge(self, other: FineHistogram) -> None:
        """Add ``other``'s counts (same grid), coarsening to the common resolution."""
        if other.total == 0:
            return
        if self.grid is None:
            self.grid = other.grid
        bits = min(self.bits, other.bits)
        self.coarsen(bits)
        self.add_counts(*other.at_bits(bits))

    def at_bits(self, bits: int) -> tuple[IntArray, IntArray]:
        """Non-empty bins as they would be at the coarser resolution ``bits``."""
        keys, counts = self.sparse()
        if bits >= self.bits or keys.size == 0:
            return keys, counts
        coarse = coarsen_keys(keys, self._grid(), self.bits, self.bits - bits)
        starts = np.concatenate([[0], np.flatnonzero(np.diff(coarse)) + 1])
        return coarse[starts], np.add.reduceat(counts, starts).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        keys, counts = self.sparse()
        return {"bits": self.bits, "keys": keys.tolist(), "counts": counts.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], grid: Grid | None, max_bins: int = MAX_BINS) -> FineHistogram:
        hist = cls(bits=int(data["bits"]), max_bins=max_bins, grid=grid)
        hist.add_counts(np.asarray(data["keys"], dtype=np.int64), np.asarray(data["counts"], dtype=np.int64))
        return hist
