"""The churn dbt project, built for real (dbt-core + dbt-duckdb) on generated raw data.

A clean day builds, passes every generated test and exports a table that keeps the
contract; each injected fault stops the build with a one-line reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from airflow_provider_parity.contracts.rules import compile_rules
from airflow_provider_parity.exceptions import ConfigurationError, DataError, DbtBuildFailed, DbtTestFailed
from airflow_provider_parity.transform.dbt_build import DbtBuildResult
from churn.datagen import raw_paths
from churn.features import build_features, features_path, ingest_raw, parse_day, write_dbt_contracts

REPO = Path(__file__).resolve().parents[3]
PROJECT = REPO / "dbt_project"
# The dbt freshness test compares with the warehouse's clock, so the data is today's.
DAY = datetime.now(UTC).date().isoformat()
N = 500


def test_committed_dbt_schema_is_what_the_contract_compiles_to(tmp_path):
    written = write_dbt_contracts(REPO / "contracts", tmp_path)
    for path in written:
        relative = path.relative_to(tmp_path)
        assert (PROJECT / relative).read_bytes() == path.read_bytes(), (
            f"dbt_project/{relative} differs from the contract: regenerate it with "
            "churn.features.write_dbt_contracts('contracts', 'dbt_project')")
    shipped = {p.name for p in (PROJECT / "macros" / "parity").iterdir()}
    assert shipped == {p.name for p in written if p.parent.name == "parity"}


@pytest.fixture(scope="module")
def clean_day(tmp_path_factory):  # type: ignore[no-untyped-def]
    lake = str(tmp_path_factory.mktemp("lake"))
    landed = ingest_raw(DAY, lake, n_customers=N)
    return lake, landed, build_features(DAY, lake, str(PROJECT))


@pytest.mark.integration
def test_a_clean_day_builds_and_passes_every_generated_test(clean_day, example_contract):
    lake, landed, result = clean_day
    assert result["dbt"]["success"] and result["dbt"]["failures"] == 0 and result["dbt"]["errors"] == 0
    # One dbt test per compiled rule of the contract: the two gates check the same things.
    assert result["dbt"]["tests"] == len(compile_rules(example_contract, "training"))
    assert result["features_path"] == features_path(lake, parse_day(DAY))
    assert result["rows"] == landed["rows"]["customers"] == pq.read_metadata(result["features_path"]).num_rows
    assert result["inputs"] == [{"uri": uri} for uri in raw_paths(lake, parse_day(DAY)).values()]
    assert result["outputs"] == [{"uri": result["features_path"]}]
    assert not (PROJECT / "target").exists() and not (PROJECT / "logs").exists()  # dbt wrote to a scratch folder


@pytest.mark.integration
def test_the_export_keeps_the_data_contract(clean_day, example_contract):
    from airflow_provider_parity.validation.validate import validate_table

    path = clean_day[2]["features_path"]
    table = pq.read_table(path)
    assert table.column_names == example_contract.column_names
    assert table.schema.field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("feature_date").type == pa.date32()
    result = validate_table(example_contract, table, source=path, engine="arrow")
    assert result.success, result.failures


@pytest.mark.integration
def test_the_mart_computes_the_30_day_window(clean_day):
    lake, _, result = clean_day
    day = parse_day(DAY)
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)  # the 30 days end with DAY
    orders = pq.read_table(raw_paths(lake, day)["orders"])
    ts_type = orders.schema.field("order_ts").type
    window = orders.filter(
        pc.and_(pc.equal(orders["status"], "completed"),
                pc.and_(pc.greater_equal(orders["order_ts"], pa.scalar(end - timedelta(days=30), ts_type)),
                        pc.less(orders["order_ts"], pa.scalar(end, ts_type)))))
    expected = {r["customer_id"]: r for r in window.group_by("customer_id").aggregate(
        [("amount", "count"), ("amount", "mean")]).to_pylist()}
    features = pq.read_table(result["features_path"]).to_pylist()
    for row in features:
        want = expected.get(row["customer_id"])
        assert row["orders_30d"] == (want["amount_count"] if want else 0)
        if want:
            assert row["avg_ticket_30d"] == pytest.approx(want["amount_mean"])
        else:
            assert row["avg_ticket_30d"] is None
    customers = pq.read_table(raw_paths(lake, day)["customers"]).to_pylist()
    signup = {c["customer_id"]: c["signup_date"] for c in customers}
    assert all(row["tenure_days"] == (day - signup[row["customer_id"]]).days for row in features)
    assert {row["feature_date"] for row in features} == {day}


BLOCKED = [
    ("schema_break", DbtBuildFailed, "dbt build churn failed: model stg_customers: ",
     'Binder Error: Table "raw_customers" does not have a column named "signup_date"'),
    ("null_spike", DbtTestFailed, "dbt test not_null on customer_features.plan failed: ", "null rows (expected 0)"),
    ("range_violation", DbtTestFailed, "dbt test parity_between on customer_features.avg_ticket_30d failed: ",
     "non-null values outside [0, 5000] (expected 0)"),
    ("duplicate_keys", DbtTestFailed, "dbt test parity_unique_combination on customer_features failed: ",
     "rows with a repeated key (customer_id, feature_date), e.g. [('C"),
    ("stale", DbtTestFailed, "dbt test parity_max_age on customer_features.updated_at failed: ",
     "(expected within "),  # the contract's max_age, e.g. "12h of now)"
]


@pytest.mark.integration
@pytest.mark.parametrize("fault, error, says, detail", [pytest.param(*case, id=case[0]) for case in BLOCKED])
def test_each_fault_blocks_the_build_with_one_line(tmp_path, fault, error, says, detail):
    lake = str(tmp_path / "lake")
    ingest_raw(DAY, lake, faults=fault, n_customers=N)
    with pytest.raises(error) as info:
        build_features(DAY, lake, str(PROJECT))
    message = str(info.value)
    assert message.startswith(says) and detail in message and "\n" not in message, message
    assert type(info.value) is error  # a model error is not reported as a test failure, nor the reverse
    result = info.value.result
    assert isinstance(result, DbtBuildResult) and not result.success
    if error is DbtTestFailed:
        assert (result.failures, result.errors) == (1, 0), message
        # Every data test becomes a gate check; the failed one carries what dbt observed.
        checks = info.value.checks
        assert len(checks) == sum(n.resource_type == "test" for n in result.nodes) > 1
        [failed] = [c for c in checks if not c.success]
        assert failed.observed and failed.observed in message and failed.expected in message
    else:
        assert result.errors == 1 and result.skipped > 0
    assert not Path(features_path(lake, parse_day(DAY))).exists()  # nothing exported for a blocked day


def test_build_without_the_raw_extract_is_bad_input(tmp_path):
    with pytest.raises(DataError, match=f"no raw extract for {DAY}: run ingest_raw first"):
        build_features(DAY, str(tmp_path), str(PROJECT))


def test_only_duckdb_can_be_exported_here(tmp_path):
    with pytest.raises(ConfigurationError, match="target 'spark'"):
        build_features(DAY, str(tmp_path), str(PROJECT), dbt_target="spark")
    with pytest.raises(ConfigurationError, match="is not a date"):
        build_features("yesterday", str(tmp_path), str(PROJECT))


def test_ingest_takes_the_faults_a_dag_param_renders(tmp_path):
    landed = ingest_raw(DAY, str(tmp_path), faults=" stale, null_spike ,", n_customers=50)
    assert landed["faults"] == ["null_spike", "stale"]
    assert landed["outputs"] == [{"uri": uri} for uri in landed["paths"].values()]
    assert all(Path(uri).is_file() for uri in landed["paths"].values())
    with pytest.raises(ConfigurationError, match="unknown fault 'nulls'"):
        ingest_raw(DAY, str(tmp_path), faults="nulls")
