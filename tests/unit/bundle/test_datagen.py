"""The synthetic churn data: deterministic, one evolving customer base, learnable churn, faults that bite."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from churn.datagen import FAULTS, ORDER_WINDOW_DAYS, generate_raw, serving_traffic, write_raw

DAY = date(2026, 3, 10)
END = datetime(2026, 3, 11, tzinfo=UTC)  # the extract of DAY closes at the end of DAY
N = 500


def _features(raw, day: date) -> pa.Table:  # type: ignore[no-untyped-def]
    """The mart's features computed independently of dbt, in pandas (what the SQL is meant to do)."""
    customers, orders = raw.customers.to_pandas(), raw.orders.to_pandas()
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    recent = orders[(orders.status == "completed") & (orders.order_ts >= end - timedelta(days=30))
                    & (orders.order_ts < end)]
    stats = recent.groupby("customer_id").amount.agg(orders_30d="count", avg_ticket_30d="mean")
    frame = customers.set_index("customer_id").join(stats)
    frame["orders_30d"] = frame["orders_30d"].fillna(0)
    frame["tenure_days"] = [(day - d).days for d in frame["signup_date"]]
    return pa.Table.from_pandas(frame.reset_index(), preserve_index=False)


def test_same_day_and_seed_give_the_same_tables():
    first, again = generate_raw(DAY, n_customers=N), generate_raw(DAY, n_customers=N)
    assert first.customers.equals(again.customers) and first.orders.equals(again.orders)
    other = generate_raw(DAY, n_customers=N, seed=8)
    assert not other.orders.equals(first.orders)


def test_columns_and_types():
    raw = generate_raw(DAY, n_customers=N)
    assert raw.customers.schema.names == ["customer_id", "signup_date", "plan", "region", "churned", "updated_at"]
    assert raw.customers.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert raw.orders.schema.names == ["order_id", "customer_id", "order_ts", "amount", "status"]
    assert pc.all(pc.match_substring_regex(raw.customers["customer_id"], r"^C\d{6}$")).as_py()
    assert set(raw.customers["plan"].to_pylist()) == {"basic", "plus", "premium"}
    assert set(raw.customers["region"].to_pylist()) == {"north", "south", "east", "west"}
    assert pc.count_distinct(raw.customers["customer_id"]).as_py() == raw.customers.num_rows
    assert pc.count_distinct(raw.orders["order_id"]).as_py() == raw.orders.num_rows
    assert pc.min(raw.orders["amount"]).as_py() > 0


def test_orders_cover_the_window_ending_with_the_day_and_customers_exist():
    raw = generate_raw(DAY, n_customers=N)
    ts = raw.orders["order_ts"]
    assert pc.min(ts).as_py() >= END - timedelta(days=ORDER_WINDOW_DAYS)
    assert pc.max(ts).as_py() < END
    assert pc.max(ts).as_py() > END - timedelta(hours=6)  # the day itself is in its extract
    assert pc.min(ts).as_py() < END - timedelta(days=30)  # the extract holds more than the 30-day window
    known = set(raw.customers["customer_id"].to_pylist())
    assert set(raw.orders["customer_id"].to_pylist()) <= known
    assert all(d <= DAY for d in raw.customers["signup_date"].to_pylist())
    updated = raw.customers["updated_at"]
    assert END - timedelta(hours=6) <= pc.min(updated).as_py() and pc.max(updated).as_py() < END


def test_consecutive_days_describe_the_same_customers_and_orders():
    today, tomorrow = generate_raw(DAY, n_customers=N), generate_raw(DAY + timedelta(days=1), n_customers=N)
    before = {r["customer_id"]: r for r in today.customers.select(["customer_id", "signup_date", "plan", "region"]).to_pylist()}
    after = {r["customer_id"]: r for r in tomorrow.customers.select(["customer_id", "signup_date", "plan", "region"]).to_pylist()}
    assert set(before) <= set(after)
    assert all(after[c] == row for c, row in before.items())
    # An order of a calendar date is the same whichever day's extract holds it.
    ts_type = today.orders.schema.field("order_ts").type
    first_shared = pa.scalar(END - timedelta(days=ORDER_WINDOW_DAYS - 1), ts_type)
    shared_today = today.orders.filter(pc.greater_equal(today.orders["order_ts"], first_shared))
    shared_tomorrow = tomorrow.orders.filter(pc.less(tomorrow.orders["order_ts"], pa.scalar(END, ts_type)))
    assert shared_today.num_rows > 0 and shared_today.equals(shared_tomorrow)


def test_churn_is_learnable_from_the_features():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = _features(generate_raw(DAY, n_customers=2000), DAY).to_pandas()
    assert 0.1 < frame["churned"].mean() < 0.4
    assert frame["avg_ticket_30d"].notna().mean() >= 0.8  # the contract's completeness SLO holds on clean data
    frame["avg_ticket_30d"] = frame["avg_ticket_30d"].fillna(0.0)
    x = np.column_stack([frame.tenure_days, frame.orders_30d, frame.avg_ticket_30d,
                         frame.plan == "plus", frame.plan == "premium"]).astype(float)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    auc = cross_val_score(model, x, frame["churned"], cv=5, scoring="roc_auc").mean()
    assert auc > 0.7, auc


def test_schema_break_renames_a_column_the_models_read():
    raw = generate_raw(DAY, n_customers=N, faults=["schema_break"])
    assert "signup_date" not in raw.customers.column_names and "signup_dt" in raw.customers.column_names


def test_null_spike_nulls_plan_for_a_large_share():
    assert generate_raw(DAY, n_customers=N).customers["plan"].null_count == 0
    plan = generate_raw(DAY, n_customers=N, faults=["null_spike"]).customers["plan"]
    assert 0.3 < plan.null_count / len(plan) < 0.5


def test_range_violation_turns_whole_customers_negative():
    raw = generate_raw(DAY, n_customers=N, faults=["range_violation"])
    features = _features(raw, DAY)
    negative = pc.sum(pc.less(features["avg_ticket_30d"], 0)).as_py()
    assert negative >= 5
    clean = generate_raw(DAY, n_customers=N)
    assert raw.orders["order_id"].equals(clean.orders["order_id"])  # only the amounts changed


def test_duplicate_keys_repeat_customer_rows():
    customers = generate_raw(DAY, n_customers=N, faults=["duplicate_keys"]).customers
    repeated = customers.num_rows - pc.count_distinct(customers["customer_id"]).as_py()
    assert repeated == pc.count_distinct(customers["customer_id"]).as_py() * 3 // 100 > 0


def test_stale_dates_updated_at_beyond_the_freshness_slo(example_contract):
    newest = pc.max(generate_raw(DAY, n_customers=N, faults=["stale"]).customers["updated_at"]).as_py()
    assert END - newest > timedelta(days=4) > example_contract.freshness.max_age_delta


def test_serving_drift_leaves_the_raw_data_alone():
    clean, drifted = generate_raw(DAY, n_customers=N), generate_raw(DAY, n_customers=N, faults=["serving_drift"])
    assert clean.customers.equals(drifted.customers) and clean.orders.equals(drifted.orders)


def test_faults_combine():
    raw = generate_raw(DAY, n_customers=N, faults=["stale", "null_spike"])
    assert raw.customers["plan"].null_count > 0
    assert pc.max(raw.customers["updated_at"]).as_py() < END - timedelta(days=4)


def test_unknown_fault_names_the_allowed_ones():
    with pytest.raises(ValueError, match="unknown fault 'drift'") as info:
        generate_raw(DAY, n_customers=N, faults=["drift"])
    assert all(name in str(info.value) for name in FAULTS)


def test_write_raw_lays_out_date_partitions(tmp_path):
    raw = generate_raw(DAY, n_customers=N)
    paths = write_raw(str(tmp_path / "lake"), DAY, raw)
    assert paths == {
        "customers": f"{tmp_path}/lake/raw/customers/date=2026-03-10/part-0.parquet",
        "orders": f"{tmp_path}/lake/raw/orders/date=2026-03-10/part-0.parquet",
    }
    assert pq.read_table(paths["customers"]).equals(raw.customers)
    assert pq.read_table(paths["orders"]).equals(raw.orders)
    leftovers = [p.name for p in (tmp_path / "lake").rglob("*") if p.is_file() and not p.name.endswith(".parquet")]
    assert leftovers == []


def _example_features() -> pa.Table:
    from airflow_provider_parity.examples import customer_features

    return customer_features(2000, now=datetime(2026, 3, 10, tzinfo=UTC))


def test_serving_traffic_logs_features_without_the_label():
    features = _example_features()
    traffic = serving_traffic(features, day=DAY, n_requests=300, model_version="3")
    assert "churned" not in traffic.column_names
    assert traffic.column_names[-3:] == ["request_id", "served_at", "model_version"]
    assert traffic.num_rows == 300 and pc.count_distinct(traffic["request_id"]).as_py() == 300
    served = traffic["served_at"]
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    assert start <= pc.min(served).as_py() and pc.max(served).as_py() < start + timedelta(days=1)
    assert set(traffic["model_version"].to_pylist()) == {"3"}
    assert serving_traffic(features, day=DAY, n_requests=5)["model_version"].null_count == 5
    assert traffic.equals(serving_traffic(features, day=DAY, n_requests=300, model_version="3"))
    with pytest.raises(ValueError, match="cannot sample"):
        serving_traffic(features.slice(0, 0), day=DAY)


@pytest.mark.parametrize("drift", [False, True])
def test_serving_drift_breaches_the_contract_drift_policy(example_contract, drift):
    from airflow_provider_parity.drift.gate import run_drift

    features = _example_features()
    traffic = serving_traffic(features, day=DAY, n_requests=1000, drift=drift)
    result, _ = run_drift(features.drop_columns(["churned"]), traffic, contract=example_contract)
    ticket = next(f for f in result.features if f.name == "avg_ticket_30d")
    psi = ticket.metrics["psi"]
    if drift:
        assert result.verdict == "failed" and psi > 0.25, (psi, result.message)
        assert set(result.drifted_features) >= {"avg_ticket_30d", "orders_30d", "plan"}
    else:
        assert result.verdict == "passed" and psi < 0.1, (psi, result.message)


def test_annotations_follow_the_labels_and_the_flip_fault_turns_one_annotators_churners():
    from churn.datagen import ANNOTATORS, FLIPPING_ANNOTATOR, day_annotations

    customers = generate_raw(DAY, n_customers=N).customers
    clean = day_annotations(customers, DAY, n_items=200)
    flipped = day_annotations(customers, DAY, n_items=200, faults=["annotator_flip"])
    assert clean.num_rows == 200 * 3 and set(clean["annotator_id"].to_pylist()) <= set(ANNOTATORS)
    truth = dict(zip(customers["customer_id"].to_pylist(), customers["churned"].to_pylist(), strict=True))
    agree = [truth[c] == v for c, v in zip(clean["customer_id"].to_pylist(), clean["churned"].to_pylist(), strict=True)]
    assert 0.9 < sum(agree) / len(agree) < 1.0
    # The same items and annotators; only the flipping annotator's churned customers change.
    assert flipped.drop_columns(["churned"]).equals(clean.drop_columns(["churned"]))
    changed = {(c, a) for c, a, x, y in zip(*(clean[k].to_pylist() for k in ("customer_id", "annotator_id", "churned")),
                                             flipped["churned"].to_pylist(), strict=True) if x != y}
    assert changed and {a for _, a in changed} == {FLIPPING_ANNOTATOR}
    rows = flipped.filter(pc.equal(flipped["annotator_id"], FLIPPING_ANNOTATOR)).to_pylist()
    assert not any(r["churned"] for r in rows if truth[r["customer_id"]])
