"""A champion's prediction on plain rows, without pandas or scikit-learn's input validation.

``Pipeline.predict_proba`` on a one-row DataFrame spends most of its ~1 ms building and checking
the frame (column names, dtypes, finiteness) before a dot product of a handful of numbers. For the
model shape the reference champion has (an optional ``SimpleImputer`` then a binary
``LogisticRegression``, on numeric features), :func:`linear_scorer` reads the fitted numbers once
(the imputer's fill values, the coefficients, the intercept) and :meth:`LinearScorer.score`
computes the same probabilities with numpy: ``expit(x @ coef + intercept)`` after the fill. Any
other model returns None and is served through its own ``predict_proba``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass(frozen=True)
class LinearScorer:
    """``P(class 1)`` of a fitted imputer + binary logistic regression, on rows given as mappings."""

    names: list[str]
    fill: npt.NDArray[np.float64]
    coef: npt.NDArray[np.float64]
    intercept: float

    def score(self, rows: Sequence[dict[str, Any]]) -> list[float]:
        import numpy as np

        # None (a null feature) becomes NaN, which the imputer's fill replaces, as SimpleImputer does.
        x = np.array([[row.get(n) for n in self.names] for row in rows], dtype=np.float64)
        x = np.where(np.isnan(x), self.fill, x)
        z = x @ self.coef + self.intercept
        return [float(p) for p in 1.0 / (1.0 + np.exp(-z))]


def linear_scorer(model: Any, numeric: Collection[str]) -> LinearScorer | None:
    """The fast scorer for ``model`` when it is an (imputer +) binary logistic regression on ``numeric`` columns."""
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    steps = [step for _, step in model.steps] if isinstance(model, Pipeline) else [model]
    *before, last = steps
    names = [str(n) for n in getattr(model, "feature_names_in_", [])]
    # The imputer is required: without one, scikit-learn refuses a null feature and so must the service.
    if (not isinstance(last, LogisticRegression) or last.coef_.shape[0] != 1 or len(before) != 1
            or not names or not set(names) <= set(numeric)):
        return None
    imputer = before[0]
    if (not isinstance(imputer, SimpleImputer) or imputer.add_indicator
            or not (isinstance(imputer.missing_values, float) and np.isnan(imputer.missing_values))):
        return None
    fill = np.asarray(imputer.statistics_, dtype=np.float64)
    # A column missing everywhere in training is dropped by the imputer: the shapes then differ.
    if fill.shape != (len(names),) or np.isnan(fill).any() or last.coef_.shape[1] != len(names):
        return None
    return LinearScorer(names=names, fill=fill, coef=np.asarray(last.coef_[0], dtype=np.float64),
                        intercept=float(last.intercept_[0]))
