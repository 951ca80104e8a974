"""Multivariate drift: can a classifier tell current rows from reference rows? (off by default)

Per-feature checks miss a change in how features move together (a correlation
that flips keeps every marginal distribution). A domain classifier sees it: a
gradient-boosted model is trained on a sample of both sides to tell them apart;
its ROC AUC on held-out rows is 0.5 when it cannot, 1.0 when it always can. The
attribution is each feature's permutation importance (the AUC lost when that
feature is shuffled). sklearn is imported here only, when the option is on
(``pip install airflow-provider-parity[bundle]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_parity.drift.profile import FeatureKind, to_float64
from airflow_provider_parity.drift.result import MultivariateDrift
from airflow_provider_parity.exceptions import ConfigurationError, DataError

DEFAULT_SAMPLE_ROWS = 20_000


def _encode(reference: pa.Table, current: pa.Table, kinds: Mapping[str, FeatureKind]) -> tuple[Any, list[bool]]:
    """One float matrix for both sides: numeric as values (NaN for null), categorical as codes shared by both."""
    columns, categorical = [], []
    for name, kind in kinds.items():
        both = pa.chunked_array([*reference.column(name).chunks, *current.column(name).chunks])
        if kind == "numeric":
            columns.append(to_float64(both))
            categorical.append(False)
        else:
            strings = pc.cast(both, pa.string())
            encoded = pc.dictionary_encode(strings).combine_chunks()
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.float64)
            # Beyond the classifier's 255 categories, rare codes share one bin.
            codes = np.where(np.isnan(codes), np.nan, np.minimum(codes, 250))
            columns.append(codes)
            categorical.append(True)
    return np.column_stack(columns), categorical


def domain_classifier(reference: pa.Table, current: pa.Table, kinds: Mapping[str, FeatureKind], *,
                      threshold: float, seed: int = 0) -> MultivariateDrift:
    """Train a classifier to tell ``current`` rows from ``reference`` rows; its held-out AUC is the drift.

    Args:
        reference: a sample of the reference rows (the caller bounds its size).
        current: a sample of the current rows.
        kinds: the features and their kinds.
        threshold: an AUC above this fires.
        seed: the split's and the model's seed.

    Raises:
        ConfigurationError: sklearn is not installed.
        DataError: a side has too few rows to split.
    """
    try:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.inspection import permutation_importance
        from sklearn.metrics import roc_auc_score
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ConfigurationError("the multivariate drift check needs scikit-learn: "
                                 "pip install 'airflow-provider-parity[bundle]'") from None
    if min(reference.num_rows, current.num_rows) < 50:
        raise DataError("the multivariate drift check needs at least 50 rows on each side")
    names = list(kinds)
    x, categorical = _encode(reference.select(names), current.select(names), kinds)
    y = np.concatenate([np.zeros(reference.num_rows), np.ones(current.num_rows)])
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.5, random_state=seed, stratify=y)
    model = HistGradientBoostingClassifier(max_iter=100, categorical_features=np.array(categorical),
                                           random_state=seed)
    model.fit(x_train, y_train)
    auc = float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))
    shuffled = permutation_importance(model, x_test, y_test, scoring="roc_auc", n_repeats=3, random_state=seed)
    ranked = sorted(zip(names, (float(v) for v in shuffled.importances_mean), strict=True), key=lambda kv: -kv[1])
    return MultivariateDrift("domain_classifier", auc, threshold, auc > threshold, reference.num_rows,
                             current.num_rows, ranked)


def sample_rows(batches: Any, total: int | None, rows: int, seed: int) -> pa.Table:
    """About ``rows`` rows drawn uniformly from a stream of record batches of ``total`` rows (in one pass).

    Without ``total`` the first ``rows`` rows are taken.
    """
    rng = np.random.default_rng(seed)
    rate = 1.0 if not total else min(1.0, rows / total)
    kept: list[pa.RecordBatch | pa.Table] = []
    count = 0
    for batch in batches:
        if rate < 1.0:
            batch = batch.filter(pa.array(rng.random(batch.num_rows) < rate))
        kept.append(batch)
        count += batch.num_rows
        if total is None and count >= rows:
            break
    if not kept:
        raise DataError("no rows to sample for the multivariate drift check")
    table = pa.Table.from_batches(kept) if isinstance(kept[0], pa.RecordBatch) else pa.concat_tables(kept)
    return table.slice(0, rows)
