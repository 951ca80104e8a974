"""``parity skew`` end to end on real Delta tables: the injected rounding, exact copies, point in time,
missing offline rows, contract tolerances, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pyarrow as pa
import pytest
from skew_data import DAY1, DAY2, STAMP, offline_days, replace, round_ticket, served, write_delta

from airflow_provider_parity.cli import main
from airflow_provider_parity.contracts.loader import load_contract

CUSTOMERS = 5000


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    """The offline table (v0: day 1, v1: day 1 + day 2) and what serving logged the morning after day 2."""
    root = tmp_path_factory.mktemp("lake")
    day1, day2 = offline_days(CUSTOMERS)
    offline = write_delta(root / "customer_features", day1, day2)
    morning = served(day2, DAY2 + timedelta(hours=10))
    return {"root": root, "offline": offline, "day1": day1, "day2": day2, "morning": morning}


def _log(lake, table: pa.Table, name: str) -> str:
    return write_delta(lake["root"] / name, table)


def _contract(tmp_path, example_contract_path, extra: str, column_extra: dict[str, str] | None = None) -> str:
    text = example_contract_path.read_text()
    for column, addition in (column_extra or {}).items():
        anchor = f"  - name: {column}\n"
        text = text.replace(anchor, anchor + addition)
    path = tmp_path / "contract.yaml"
    path.write_text(text + extra)
    return str(path)


def test_rounding_on_2_percent_of_entities_is_caught_naming_feature_and_entities(lake, tmp_path,
                                                                                  example_contract_path, capsys):
    log, rounded = round_ticket(lake["morning"], 0.02)
    out_json, out_html = tmp_path / "skew.json", tmp_path / "skew.html"
    code = main(["skew", "--log", _log(lake, log, "rounded_log"), "--offline", lake["offline"], "--version", "1",
                 "--contract", str(example_contract_path), "--json", str(out_json), "--html", str(out_html)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "avg_ticket_30d" in err and "2.00% of entities" in err
    data = json.loads(out_json.read_text())
    assert data["verdict"] == "failed"
    features = {f["name"]: f for f in data["features"]}
    ticket = features["avg_ticket_30d"]
    assert ticket["mismatched_entities"] == len(rounded) == 100 and ticket["entities"] == CUSTOMERS
    assert 0 < ticket["max_difference"] <= 0.05 + 1e-9
    assert {e["entity"]["customer_id"] for e in ticket["examples"]} <= rounded and len(ticket["examples"]) == 10
    example = ticket["examples"][0]
    assert round(example["offline"], 1) == example["served"] != example["offline"]
    assert all(features[n]["mismatched_entities"] == 0 for n in ("tenure_days", "orders_30d", "plan"))
    html = out_html.read_text()
    assert "avg_ticket_30d" in html and example["entity"]["customer_id"] in html


def test_an_exact_copy_passes(lake, tmp_path, example_contract_path, capsys):
    out = tmp_path / "skew.json"
    code = main(["skew", "--log", _log(lake, lake["morning"], "copy_log"), "--offline", lake["offline"],
                 "--contract", str(example_contract_path), "--json", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["verdict"] == "passed" and data["matched"] == CUSTOMERS and data["offline_version"] == 1
    assert [f["mismatched_requests"] for f in data["features"]] == [0, 0, 0, 0]


def test_a_request_before_the_days_update_compares_with_the_previous_day(lake, tmp_path, example_contract_path):
    # Served at 10:00 on day 2, before day 2's update at 20:00: the truth then was day 1's row.
    early = DAY2 - timedelta(hours=10)
    from_day1 = served(lake["day1"], early)
    assert main(["skew", "--log", _log(lake, from_day1, "early_day1"), "--offline", lake["offline"],
                 "--contract", str(example_contract_path)]) == 0
    out = tmp_path / "future.json"
    # Day 2's values served before they existed: skew in every feature that changed between the days.
    from_day2 = served(lake["day2"], early)
    assert main(["skew", "--log", _log(lake, from_day2, "early_day2"), "--offline", lake["offline"],
                 "--contract", str(example_contract_path), "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    assert {f["name"] for f in data["features"] if not f["passed"]} == {"tenure_days", "orders_30d",
                                                                          "avg_ticket_30d", "plan"}
    # A request stamped exactly at the update reads the new row (event time <= served_at).
    at_update = served(lake["day2"], DAY2)
    assert main(["skew", "--log", _log(lake, at_update, "at_update"), "--offline", lake["offline"],
                 "--contract", str(example_contract_path)]) == 0


def test_requests_without_an_offline_row_are_missing_and_a_policy_threshold(lake, tmp_path, example_contract_path):
    rows = lake["day2"].slice(0, 8)
    unknown = replace(rows.slice(0, 1), "customer_id", pa.array(["C999999"]))
    log = served(pa.concat_tables([rows, unknown, rows.slice(1, 1)]),
                 [DAY2 + timedelta(hours=1)] * 9 + [DAY1 - timedelta(days=1)])  # the last: before any update
    uri = _log(lake, log, "missing_log")
    out = tmp_path / "missing.json"
    assert main(["skew", "--log", uri, "--offline", lake["offline"], "--contract", str(example_contract_path),
                 "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    assert (data["requests"], data["matched"], data["missing"], data["missing_entities"]) == (10, 8, 2, 2)
    assert {e["entity"]["customer_id"] for e in data["missing_examples"]} == {"C999999", "C000001"}
    assert "missing offline: 20.00% of requests" in data["message"]
    allowing = _contract(tmp_path, example_contract_path, "skew:\n  max_missing_rate: 0.25\n")
    assert main(["skew", "--log", uri, "--offline", lake["offline"], "--contract", allowing]) == 0


def test_tolerance_and_policy_come_from_the_contract(lake, tmp_path, example_contract_path):
    log, _ = round_ticket(lake["morning"], 0.02)
    uri = _log(lake, log, "tolerance_log")
    base = ["skew", "--log", uri, "--offline", lake["offline"], "--contract"]
    # One decimal of rounding is at most 0.05 away: an absolute tolerance just above it accepts it.
    loose = _contract(tmp_path, example_contract_path, "",
                      {"avg_ticket_30d": "    skew_tolerance: {absolute: 0.0501}\n"})
    assert load_contract(loose).column("avg_ticket_30d").skew_tolerance is not None
    assert main([*base, loose]) == 0
    assert main([*base, _contract(tmp_path, example_contract_path, "skew: {max_mismatch_rate: 0.03}\n")]) == 0
    assert main([*base, _contract(tmp_path, example_contract_path, "skew: {max_mismatch_rate: 0.01}\n")]) == 1
    # A relative tolerance of 1e-3 is far tighter than 0.05 on tickets of tens of euros.
    tight = _contract(tmp_path, example_contract_path, "", {"avg_ticket_30d": "    skew_tolerance: {relative: 0.001}\n"})
    assert main([*base, tight]) == 1


def test_without_a_contract_keys_are_given_and_features_inferred(lake, tmp_path):
    out = tmp_path / "inferred.json"
    log, _ = round_ticket(lake["morning"], 0.02)
    assert main(["skew", "--log", _log(lake, log, "inferred_log"), "--offline", lake["offline"], "--key",
                 "customer_id", "--as-of-column", "updated_at", "--json", str(out)]) == 1
    data = json.loads(out.read_text())
    names = {f["name"] for f in data["features"]}
    # feature_date is compared too (served from the right day), region as well; request columns are not.
    assert {"avg_ticket_30d", "plan", "region", "feature_date"} <= names and "request_id" not in names
    assert [f["name"] for f in data["features"] if not f["passed"]] == ["avg_ticket_30d"]


@pytest.mark.parametrize("case", ["missing_key", "text_served_at", "naive_served_at", "missing_file", "no_version",
                                  "bad_contract"])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, lake, tmp_path, example_contract_path, capsys):
    log = lake["morning"]
    contract = str(example_contract_path)
    version = "1"
    if case == "missing_key":
        log = log.drop_columns(["customer_id"])
    elif case == "text_served_at":
        log = replace(log, "served_at", log["served_at"].cast(pa.string()))
    elif case == "naive_served_at":
        log = replace(log, "served_at", log["served_at"].cast(pa.timestamp("us")))
    elif case == "no_version":
        version = "7"
    elif case == "bad_contract":
        contract = _contract(tmp_path, example_contract_path, "", {"plan": "    skew_tolerance: {absolute: 1}\n"})
    uri = str(tmp_path / "nothing_here") if case == "missing_file" else _log(lake, log, f"bad_{case}")
    out_json, out_html = tmp_path / "out.json", tmp_path / "out.html"
    code = main(["skew", "--log", uri, "--offline", lake["offline"], "--contract", contract, "--version", version,
                 "--json", str(out_json), "--html", str(out_html)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("parity: error: ") and err.count("\n") == 1
    expected = {"missing_key": "no column 'customer_id'", "text_served_at": "not a timestamp",
                "naive_served_at": "without a time zone", "missing_file": "does not exist",
                "no_version": "version", "bad_contract": "skew_tolerance needs a numeric column"}[case]
    assert expected in err
    assert not out_json.exists() and not out_html.exists()


def test_served_at_stamped_in_another_zone_is_the_same_instant(lake, example_contract_path):
    morning = lake["morning"]
    shifted = replace(morning, "served_at", morning["served_at"].cast(pa.timestamp("us", tz="Asia/Tokyo")))
    assert shifted.schema.field("served_at").type != STAMP
    assert main(["skew", "--log", _log(lake, shifted, "tokyo"), "--offline", lake["offline"],
                 "--contract", str(example_contract_path)]) == 0


def test_a_report_that_cannot_be_written_leaves_neither(lake, tmp_path, example_contract_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out_json = tmp_path / "skew.json"
    code = main(["skew", "--log", _log(lake, lake["morning"], "unwritable"), "--offline", lake["offline"],
                 "--contract", str(example_contract_path), "--json", str(out_json),
                 "--html", str(blocker / "skew.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("parity: error: ") and err.count("\n") == 1, err
    assert not out_json.exists()
