"""Every agreement statistic equals an independent implementation to 1e-9.

References: scikit-learn's ``cohen_kappa_score``, statsmodels' ``fleiss_kappa`` and the ``krippendorff``
package, on seeded random data and on edge cases (perfect agreement, chance agreement, one annotator,
one class, missing ratings). Where no library defines the statistic (Fleiss' kappa with a varying
number of ratings per item) the reference is the textbook formula written out item by item here.
"""

from __future__ import annotations

import itertools
import warnings

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from airflow_provider_parity.labels import agreement as ag

TOL = 1e-9
SEEDS = range(25)


def _random(seed: int, *, missing: float = 0.0) -> tuple[np.ndarray, int]:
    """A ratings matrix whose raters agree more than chance (a true class, then noise), with holes."""
    rng = np.random.default_rng(seed)
    k, items, raters = int(rng.integers(2, 6)), int(rng.integers(8, 80)), int(rng.integers(2, 7))
    truth = rng.integers(0, k, size=items)
    noise = rng.integers(0, k, size=(items, raters))
    ratings = np.where(rng.random((items, raters)) < rng.uniform(0.3, 0.9), truth[:, None], noise)
    if missing:
        ratings = np.where(rng.random(ratings.shape) < missing, ag.MISSING, ratings)
    return ratings.astype(np.int64), k


def _sklearn_kappa(first: np.ndarray, second: np.ndarray) -> float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = float(cohen_kappa_score(first, second))
    return None if np.isnan(value) else value


def _reliability(ratings: np.ndarray) -> np.ndarray:
    """The krippendorff package's layout: raters x items, NaN where missing."""
    return np.where(ratings == ag.MISSING, np.nan, ratings).T.astype(float)


def _close(ours: float | None, reference: float | None) -> bool:
    if ours is None or reference is None:
        return ours is None and reference is None
    return abs(ours - reference) <= TOL


@pytest.mark.parametrize("seed", SEEDS)
def test_cohen_kappa_equals_scikit_learn(seed):
    ratings, k = _random(seed)
    assert _close(ag.cohen_kappa(ratings[:, 0], ratings[:, 1], k), _sklearn_kappa(ratings[:, 0], ratings[:, 1]))


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_and_per_class_kappa_equal_statsmodels(seed):
    ratings, k = _random(seed)
    if ratings.shape[1] < 2:
        pytest.skip("one rater")
    counts = ag.category_counts(ratings, k)
    assert _close(ag.fleiss_kappa(counts), float(sm_fleiss_kappa(counts, method="fleiss")))
    raters = counts.sum(axis=1)
    for j, ours in enumerate(ag.class_kappas(counts)):
        collapsed = np.column_stack([counts[:, j], raters - counts[:, j]])
        if 0 < counts[:, j].sum() < raters.sum():
            assert _close(ours, float(sm_fleiss_kappa(collapsed, method="fleiss"))), j
        else:
            assert ours is None  # a class nobody (or everybody) chose has no kappa


def _fleiss_item_by_item(ratings: np.ndarray, k: int) -> float:
    """Fleiss' kappa with each item's agreement over its own number of ratings, written out plainly."""
    agreements, totals, rated = [], [0.0] * k, 0
    for row in ratings:
        labels = [int(v) for v in row if v != ag.MISSING]
        if len(labels) < 2:
            continue
        pairs = sum(1 for a, b in itertools.permutations(range(len(labels)), 2) if labels[a] == labels[b])
        agreements.append(pairs / (len(labels) * (len(labels) - 1)))
        for label in labels:
            totals[label] += 1
        rated += len(labels)
    chance = sum((t / rated) ** 2 for t in totals)
    return (sum(agreements) / len(agreements) - chance) / (1 - chance)


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_with_missing_ratings_equals_the_formula_item_by_item(seed):
    ratings, k = _random(seed, missing=0.3)
    counts = ag.category_counts(ratings, k)
    if (counts.sum(axis=1) >= 2).sum() == 0:
        pytest.skip("no item rated twice")
    assert _close(ag.fleiss_kappa(counts), _fleiss_item_by_item(ratings, k))


@pytest.mark.parametrize("level", ["nominal", "ordinal"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("missing", [0.0, 0.35])
def test_krippendorff_alpha_equals_the_krippendorff_package(seed, level, missing):
    ratings, k = _random(seed, missing=missing)
    counts = ag.category_counts(ratings, k)
    ours = ag.krippendorff_alpha(counts, level)
    try:
        reference = float(krippendorff.alpha(reliability_data=_reliability(ratings), level_of_measurement=level))
    except (ValueError, ZeroDivisionError):
        reference = None  # the package refuses one value in the domain
    assert _close(ours, reference)


@pytest.mark.parametrize("seed", SEEDS)
def test_annotator_and_pairwise_kappas_equal_scikit_learn_on_the_pairs(seed):
    ratings, k = _random(seed, missing=0.2)
    for j in range(ratings.shape[1]):
        # The annotator's label against each other annotator's label of the same item, listed plainly.
        theirs, others = [], []
        for row in ratings:
            if row[j] == ag.MISSING:
                continue
            for o, label in enumerate(row):
                if o != j and label != ag.MISSING:
                    theirs.append(row[j])
                    others.append(label)
        mine, with_others, _ = ag.annotator_pairs(ratings, j)
        ours = ag.cohen_kappa(mine, with_others, k)
        assert _close(ours, _sklearn_kappa(np.array(theirs), np.array(others)) if theirs else None)
    for pair in ag.pairwise_kappas(ratings, k, min_items=2):
        both = (ratings[:, pair.first] != ag.MISSING) & (ratings[:, pair.second] != ag.MISSING)
        assert pair.items == both.sum() >= 2
        assert _close(pair.kappa, _sklearn_kappa(ratings[both, pair.first], ratings[both, pair.second]))


# --- edge cases -------------------------------------------------------------------------------


def test_perfect_agreement_is_one_everywhere():
    ratings = np.repeat(np.array([[0], [1], [2], [1], [0], [2]]), 3, axis=1)
    counts = ag.category_counts(ratings, 3)
    assert ag.cohen_kappa(ratings[:, 0], ratings[:, 1], 3) == pytest.approx(1.0, abs=TOL)
    assert _sklearn_kappa(ratings[:, 0], ratings[:, 1]) == pytest.approx(1.0, abs=TOL)
    assert ag.fleiss_kappa(counts) == pytest.approx(float(sm_fleiss_kappa(counts)), abs=TOL) == pytest.approx(1.0)
    for level in ("nominal", "ordinal"):
        expected = krippendorff.alpha(reliability_data=_reliability(ratings), level_of_measurement=level)
        assert ag.krippendorff_alpha(counts, level) == pytest.approx(expected, abs=TOL) == pytest.approx(1.0)
    assert not ag.conflicting(counts).any()


def test_chance_agreement_is_zero():
    # Each rater says 0 half the time, independently of the other: observed agreement = chance agreement.
    first, second = np.array([0, 0, 1, 1] * 5), np.array([0, 1, 0, 1] * 5)
    assert ag.cohen_kappa(first, second, 2) == pytest.approx(0.0, abs=TOL)
    assert _sklearn_kappa(first, second) == pytest.approx(0.0, abs=TOL)
    counts = ag.category_counts(np.column_stack([first, second]), 2)
    assert ag.fleiss_kappa(counts) == pytest.approx(float(sm_fleiss_kappa(counts)), abs=TOL)
    alpha = krippendorff.alpha(reliability_data=np.vstack([first, second]).astype(float), level_of_measurement="nominal")
    assert ag.krippendorff_alpha(counts) == pytest.approx(alpha, abs=TOL)


def test_one_annotator_leaves_every_agreement_undefined():
    ratings = np.array([[0], [1], [1], [0]])
    counts = ag.category_counts(ratings, 2)
    assert ag.fleiss_kappa(counts) is None and ag.krippendorff_alpha(counts) is None
    assert ag.class_kappas(counts) == [None, None]
    assert ag.pairwise_kappas(ratings, 2, min_items=2) == []
    mine, others, shared = ag.annotator_pairs(ratings, 0)
    assert ag.cohen_kappa(mine, others, 2) is None and shared == 0
    with pytest.raises((ValueError, ZeroDivisionError)):  # the package has no answer either
        krippendorff.alpha(reliability_data=_reliability(ratings), level_of_measurement="nominal")


def test_one_class_leaves_every_agreement_undefined():
    ratings = np.zeros((6, 3), dtype=np.int64)
    counts = ag.category_counts(ratings, 2)
    assert ag.cohen_kappa(ratings[:, 0], ratings[:, 1], 2) is None and _sklearn_kappa(ratings[:, 0], ratings[:, 1]) is None
    assert ag.fleiss_kappa(counts) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(sm_fleiss_kappa(counts))
    assert ag.krippendorff_alpha(counts) is None
    with pytest.raises(ValueError):
        krippendorff.alpha(reliability_data=_reliability(ratings), level_of_measurement="nominal")


def test_missing_ratings_are_left_out_not_counted_as_a_class():
    full = np.array([[0, 0, 1], [1, 1, 1], [2, 2, 2], [0, 1, 0], [2, 2, 1]])
    holes = full.copy()
    holes[0, 2] = holes[3, 1] = ag.MISSING
    for level in ("nominal", "ordinal"):
        ours = ag.krippendorff_alpha(ag.category_counts(holes, 3), level)
        assert ours == pytest.approx(krippendorff.alpha(reliability_data=_reliability(holes),
                                                        level_of_measurement=level), abs=TOL)
    # An item left with one rating drops out of every pairwise statistic.
    single = np.array([[0, ag.MISSING], [1, 1], [0, 0], [1, 0]])
    assert ag.krippendorff_alpha(ag.category_counts(single, 2)) == pytest.approx(
        ag.krippendorff_alpha(ag.category_counts(single[1:], 2)), abs=TOL)


def test_ordinal_alpha_forgives_near_misses_more_than_nominal():
    # Disagreements one rank apart: ordinal alpha sees them as small, nominal as full disagreements.
    ratings = np.array([[0, 1], [1, 2], [2, 3], [3, 3], [0, 0], [1, 1], [2, 2], [3, 2]])
    counts = ag.category_counts(ratings, 4)
    nominal, ordinal = ag.krippendorff_alpha(counts, "nominal"), ag.krippendorff_alpha(counts, "ordinal")
    assert nominal is not None and ordinal is not None and ordinal > nominal


def test_total_variation_and_consensus():
    assert ag.total_variation(np.array([3.0, 1.0]), np.array([1.0, 1.0])) == pytest.approx(0.25)
    counts = ag.category_counts(np.array([[0, 1], [1, 1], [ag.MISSING, ag.MISSING]]), 2)
    assert ag.consensus(counts).tolist() == [0, 1, ag.MISSING]  # a tie goes to the first class
