"""Inter-annotator agreement, computed here from counts (numpy only, no statistics library).

The input is a ratings matrix: one row per item, one column per annotator, the class code of the
label (``0..k-1``) or ``-1`` where the annotator did not label the item. Every statistic returns
``None`` when it is undefined (one class only, no item rated twice, ...): a number there would be
a division by zero dressed up as a verdict.

Definitions (each equals an independent implementation to 1e-9, see tests/unit/labels):

* Cohen's kappa (two raters): ``1 - (1 - p_o) / (1 - p_e)``, ``p_e`` from each rater's own marginals
  (scikit-learn's ``cohen_kappa_score``).
* Fleiss' kappa (several raters): ``(P - P_e) / (1 - P_e)`` over the items rated at least twice, each
  item's agreement ``P_i`` over its own number of ratings (Fleiss 1971 when every item has the same
  number, statsmodels' ``fleiss_kappa``).
* Per-class kappa: Fleiss' kappa of one class against all others (Fleiss 1971, eq. 12).
* Krippendorff's alpha: ``1 - D_o / D_e`` from the coincidence matrix, nominal or ordinal distance,
  missing ratings allowed (Krippendorff 2011; the ``krippendorff`` package).

Example:
    >>> import numpy as np
    >>> ratings = np.array([[0, 0], [1, 1], [0, 1], [1, 1]])
    >>> round(cohen_kappa(ratings[:, 0], ratings[:, 1], 2), 3)
    0.5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Level = Literal["nominal", "ordinal"]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
MISSING = -1


def category_counts(ratings: IntArray, n_classes: int) -> FloatArray:
    """Items x classes: how many annotators gave each item each class."""
    counts = np.zeros((ratings.shape[0], n_classes), dtype=np.float64)
    rows, cols = np.nonzero(ratings != MISSING)
    np.add.at(counts, (rows, ratings[rows, cols]), 1.0)
    return counts


def _kappa(observed: float, expected: float) -> float | None:
    if expected >= 1.0 - 1e-15:
        return None  # chance agreement is certain (one class only): kappa is 0/0
    return float(1.0 - (1.0 - observed) / (1.0 - expected))


def cohen_kappa(first: IntArray, second: IntArray, n_classes: int) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (codes ``0..n_classes-1``)."""
    if len(first) == 0:
        return None
    confusion = np.bincount(first * n_classes + second, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    total = confusion.sum()
    observed = np.trace(confusion) / total
    expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0)) / total**2
    return _kappa(float(observed), expected)


def fleiss_kappa(counts: FloatArray) -> float | None:
    """Fleiss' kappa of an items x classes count table (items rated fewer than twice are left out)."""
    raters = counts.sum(axis=1)
    counts, raters = counts[raters >= 2], raters[raters >= 2]
    if len(raters) == 0:
        return None
    per_item = ((counts**2).sum(axis=1) - raters) / (raters * (raters - 1))
    shares = counts.sum(axis=0) / raters.sum()
    return _kappa(float(per_item.mean()), float((shares**2).sum()))


def class_kappas(counts: FloatArray) -> list[float | None]:
    """Per class, Fleiss' kappa of that class against all the others together."""
    raters = counts.sum(axis=1)
    return [fleiss_kappa(np.column_stack([counts[:, j], raters - counts[:, j]])) for j in range(counts.shape[1])]


def _squared_distances(marginals: FloatArray, level: Level) -> FloatArray:
    k = len(marginals)
    if level == "nominal":
        return 1.0 - np.eye(k)
    # Ordinal: the distance between two ranks is the mass of the values between them (both halves at the ends).
    cumulative = np.concatenate([[0.0], np.cumsum(marginals)])
    low, high = np.minimum.outer(np.arange(k), np.arange(k)), np.maximum.outer(np.arange(k), np.arange(k))
    between = cumulative[high + 1] - cumulative[low] - (marginals[low] + marginals[high]) / 2.0
    return np.asarray(between**2, dtype=np.float64)


def krippendorff_alpha(counts: FloatArray, level: Level = "nominal") -> float | None:
    """Krippendorff's alpha of an items x classes count table; classes in rank order for ``ordinal``."""
    raters = counts.sum(axis=1)
    counts, raters = counts[raters >= 2], raters[raters >= 2]
    if len(raters) == 0:
        return None
    weighted = counts / (raters - 1)[:, None]
    coincidences = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    marginals = coincidences.sum(axis=1)
    pairable = marginals.sum()
    delta = _squared_distances(marginals, level)
    expected = float((np.outer(marginals, marginals) * delta).sum()) / (pairable - 1)
    if expected <= 0.0:
        return None  # one value only: no disagreement is possible, alpha is 0/0
    return float(1.0 - float((coincidences * delta).sum()) / expected)


@dataclass(frozen=True)
class PairKappa:
    first: int
    second: int
    items: int
    kappa: float | None


def pairwise_kappas(ratings: IntArray, n_classes: int, min_items: int) -> list[PairKappa]:
    """Cohen's kappa of every pair of annotators sharing at least ``min_items`` items."""
    rated = ratings != MISSING
    shared = rated.T.astype(np.int64) @ rated.astype(np.int64)
    pairs = []
    for a, b in zip(*np.nonzero(np.triu(shared >= min_items, k=1)), strict=True):
        both = rated[:, a] & rated[:, b]
        pairs.append(PairKappa(int(a), int(b), int(both.sum()),
                               cohen_kappa(ratings[both, a], ratings[both, b], n_classes)))
    return pairs


def annotator_pairs(ratings: IntArray, annotator: int) -> tuple[IntArray, IntArray, int]:
    """The annotator's label and another annotator's label, once per other rating of the same item:
    Cohen's kappa of these two lists is the annotator's agreement with the others.

    Returns (theirs, others', items they share with anyone).
    """
    mine = ratings[:, annotator]
    others = np.delete(ratings, annotator, axis=1)
    both = (mine != MISSING)[:, None] & (others != MISSING)
    rows, cols = np.nonzero(both)
    return mine[rows], others[rows, cols], int(both.any(axis=1).sum())


def conflicting(counts: FloatArray) -> npt.NDArray[np.bool_]:
    """Items rated at least twice whose labels are not all the same."""
    raters = counts.sum(axis=1)
    return np.asarray((raters >= 2) & (counts.max(axis=1) < raters), dtype=np.bool_)


def consensus(counts: FloatArray) -> IntArray:
    """Each item's most frequent class (a tie goes to the first class); ``-1`` for an unrated item."""
    winner = counts.argmax(axis=1).astype(np.int64)
    winner[counts.sum(axis=1) == 0] = MISSING
    return np.asarray(winner, dtype=np.int64)


def total_variation(current: FloatArray, reference: FloatArray) -> float:
    """Total variation distance of two distributions over the same classes (each normalised here)."""
    return float(0.5 * np.abs(current / current.sum() - reference / reference.sum()).sum())
