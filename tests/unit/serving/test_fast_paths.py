"""The service's per-request fast paths give the same answers as the general ones they skip.

``RowCheck`` (compiled single-row rules) must never pass a row ``check_batch`` fails, and passes
exactly the single rows ``check_batch`` passes; ``LinearScorer`` (numpy) must give
``predict_proba``'s numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_parity.contracts.loader import load_contract
from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.serving.online_store import entity_keys, newest_rows, served_columns, to_batch
from airflow_provider_parity.serving.rowcheck import RowCheck
from airflow_provider_parity.serving.scorer import linear_scorer
from airflow_provider_parity.validation import check_batch

CONTRACT = load_contract(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml")
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _stored(fault: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(entity, stored row) pairs as the online store holds them (duplicated keys: the newest row wins)."""
    import json

    table = customer_features(300, fault=fault, now=NOW - timedelta(hours=1))  # type: ignore[arg-type]
    rows = newest_rows(table, entity_keys(CONTRACT), "updated_at", served_columns(CONTRACT))
    return [(tuple(json.loads(key)), row) for key, row in rows.items()]


@pytest.mark.parametrize("fault", ["none", "nulls", "range", "category", "stale", "duplicates"])
def test_the_row_check_passes_exactly_the_rows_check_batch_passes(fault: str) -> None:
    check = RowCheck(CONTRACT)
    assert check.exact
    keys = entity_keys(CONTRACT)
    verdicts = []
    for entity, row in _stored(fault):
        fast = check.passes({**dict(zip(keys, entity, strict=True)), **row}, NOW)
        slow = check_batch(CONTRACT, to_batch(CONTRACT, [entity], [row]), now=NOW).success
        assert fast == slow, (fault, entity, row)
        verdicts.append(fast)
    # Each fault makes some rows fail (all of them for stale), the clean table none.
    assert all(verdicts) if fault in ("none", "duplicates") else not all(verdicts)
    assert not check.passes(None, NOW)  # an unknown entity: check_batch fails its not-null rules


def test_freshness_is_exact_to_the_microsecond() -> None:
    check = RowCheck(CONTRACT)
    keys = entity_keys(CONTRACT)
    entity, row = _stored("none")[0]
    newest = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=row["updated_at"])
    for now in (newest + timedelta(hours=12), newest + timedelta(hours=12, microseconds=1)):
        slow = check_batch(CONTRACT, to_batch(CONTRACT, [entity], [row]), now=now).success
        assert check.passes({**dict(zip(keys, entity, strict=True)), **row}, now) == slow
    assert check.passes({**dict(zip(keys, entity, strict=True)), **row}, newest + timedelta(hours=12))


def test_the_linear_scorer_gives_predict_proba_s_numbers() -> None:
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    numeric = ["tenure_days", "orders_30d", "avg_ticket_30d"]
    train = customer_features(500, fault="nulls")
    model = Pipeline([("impute", SimpleImputer()), ("classify", LogisticRegression(max_iter=500))])
    model.fit(train.select(numeric).to_pandas(), train.column("churned").to_numpy(zero_copy_only=False))
    scorer = linear_scorer(model, numeric)
    assert scorer is not None
    rows = [row for _, row in _stored("nulls")]
    assert any(row["tenure_days"] is None for row in rows)  # the imputer's fill is exercised
    import pandas as pd

    expected = model.predict_proba(pd.DataFrame({n: [r[n] for r in rows] for n in numeric}, dtype=float))[:, 1]
    np.testing.assert_allclose(scorer.score(rows), expected, rtol=0, atol=1e-12)


def test_other_models_are_left_to_their_own_predict_proba() -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = customer_features(200)
    frame, label = train.to_pandas(), train.column("churned").to_numpy(zero_copy_only=False)
    numeric = ["tenure_days", "orders_30d", "avg_ticket_30d"]
    bare = LogisticRegression().fit(frame[numeric].fillna(0), label)  # no imputer: a null must still fail
    encoded = Pipeline([("encode", ColumnTransformer([("plan", OneHotEncoder(), ["plan"])], remainder="passthrough")),
                        ("classify", LogisticRegression(max_iter=500))]).fit(frame[["plan", "orders_30d"]], label)
    imputed = Pipeline([("impute", SimpleImputer()), ("classify", LogisticRegression())]).fit(frame[numeric], label)
    assert linear_scorer(bare, numeric) is None
    assert linear_scorer(encoded, [*numeric, "plan"]) is None
    assert linear_scorer(imputed, ["tenure_days"]) is None  # fitted on columns the contract does not call numeric
