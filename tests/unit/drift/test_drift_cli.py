"""``parity drift`` end to end on parquet files, Delta tables and stored profiles."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from airflow_provider_parity.cli import main
from airflow_provider_parity.examples import customer_features


def _write(table: pa.Table, path) -> str:
    pq.write_table(table, path)
    return str(path)


@pytest.fixture
def files(tmp_path):
    ref = customer_features(3000, seed=1)
    same = customer_features(3000, seed=2)
    drifted = same.set_column(same.schema.get_field_index("tenure_days"), "tenure_days",
                              pc.add(same["tenure_days"], 1500))
    return {
        "ref": _write(ref, tmp_path / "ref.parquet"),
        "same": _write(same, tmp_path / "same.parquet"),
        "drifted": _write(drifted, tmp_path / "drifted.parquet"),
    }


def test_no_drift_exits_0_and_writes_the_json(files, tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(["drift", "--reference", files["ref"], "--current", files["same"], "--json", str(out)])
    assert code == 0, capsys.readouterr()
    data = json.loads(out.read_text())
    assert data["verdict"] == "passed"
    names = {f["name"] for f in data["features"]}
    # Without a contract every comparable column is a feature, kinds inferred.
    assert {"tenure_days", "orders_30d", "avg_ticket_30d", "plan", "region", "churned"} <= names
    # A key's distribution means nothing: without a contract it is left out, and said so.
    assert "customer_id" not in names and "identifier-like" in data["skipped_features"]["customer_id"]
    for feat in data["features"]:
        assert {"name", "kind", "metric", "value", "threshold", "drifted",
                "null_rate_reference", "null_rate_current"} <= set(feat)
        assert isinstance(feat["drifted"], bool)
    assert capsys.readouterr().out.startswith("passed: no drift")


def test_drift_exits_1_with_html_plot_per_drifted_feature(files, tmp_path, example_contract_path, capsys):
    out_json, out_html = tmp_path / "r.json", tmp_path / "r.html"
    code = main(["drift", "--reference", files["ref"], "--current", files["drifted"],
                 "--contract", str(example_contract_path), "--json", str(out_json), "--html", str(out_html)])
    assert code == 1
    data = json.loads(out_json.read_text())
    assert data["verdict"] == "failed"
    assert [f["name"] for f in data["features"] if f["drifted"]] == ["tenure_days"]
    # The contract decides the features: keys, metadata and the label are not compared.
    assert {f["name"] for f in data["features"]} == {"tenure_days", "orders_30d", "avg_ticket_30d", "plan"}
    assert data["contract"].startswith("customer_features@1.0.0#")
    html = out_html.read_text()
    assert html.count("<svg") == 1 and "tenure_days: out_of_range" in html
    assert "tenure_days: out_of_range=0.4" in capsys.readouterr().out


def test_stored_profile_as_reference(files, tmp_path):
    profile = tmp_path / "ref.profile.json"
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["drift", "--reference", files["ref"], "--current", files["drifted"], "--save-profile",
                 str(profile), "--json", str(first)]) == 1
    assert main(["drift", "--reference", str(profile), "--current", files["drifted"], "--json", str(second)]) == 1
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert [f["value"] for f in a["features"]] == [f["value"] for f in b["features"]]


def test_delta_tables_with_pinned_versions(tmp_path, capsys):
    from deltalake import write_deltalake

    uri = str(tmp_path / "features")
    rng = np.random.default_rng(0)
    write_deltalake(uri, pa.table({"x": rng.normal(0, 1, 2000), "c": rng.choice(["a", "b"], 2000)}))
    write_deltalake(uri, pa.table({"x": rng.normal(3, 1, 2000), "c": rng.choice(["a", "b"], 2000)}),
                    mode="overwrite")
    assert main(["drift", "--reference", uri, "--reference-version", "0", "--current", uri]) == 1
    assert "x: wasserstein_sd=" in capsys.readouterr().out
    assert main(["drift", "--reference", uri, "--reference-version", "1", "--current", uri]) == 0


@pytest.mark.parametrize("argv, message", [
    (["--reference", "/nonexistent.parquet", "--current", "{same}"], "no such file"),
    (["--reference", "{ref}", "--current", "{schema}"], "no column 'tenure_days'"),
    (["--reference", "{ref}", "--current", "{same}", "--contract", "{bad_contract}"], "does not apply"),
])
def test_bad_input_exits_2_with_one_line(files, tmp_path, capsys, example_contract_path, argv, message):
    schema = _write(customer_features(300, fault="schema"), tmp_path / "schema.parquet")
    bad_contract = tmp_path / "bad.yaml"
    bad_contract.write_text(example_contract_path.read_text().replace(
        "avg_ticket_30d: {metric: psi, threshold: 0.25}", "plan: {metric: wasserstein, threshold: 0.1}"))
    argv = [a.format(same=files["same"], ref=files["ref"], schema=schema, bad_contract=bad_contract) for a in argv]
    code = main(["drift", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_too_few_rows_is_a_warning_or_with_strict_a_failure(files, tmp_path, capsys):
    small = _write(customer_features(20, seed=3), tmp_path / "small.parquet")
    assert main(["drift", "--reference", files["ref"], "--current", small]) == 0
    assert "insufficient data" in capsys.readouterr().err
    assert main(["drift", "--reference", files["ref"], "--current", small, "--strict"]) == 1


def test_segments_and_time_windows_from_the_command_line(files, tmp_path):
    out = tmp_path / "seg.json"
    code = main(["drift", "--reference", files["ref"], "--current", files["same"], "--segment-by", "region",
                 "--time-column", "updated_at", "--time-window", "1d", "--json", str(out)])
    assert code == 0
    segments = json.loads(out.read_text())["segments"]
    assert len(segments) == 4
    for seg in segments:
        assert seg["segment"].startswith("region=") and ",window=" in seg["segment"]
        # Judged against the same region of the reference, whatever the window.
        assert seg["verdict"] == "passed" and 500 < seg["rows_reference"] < 1000


def test_bad_time_window_is_a_usage_error(files, capsys):
    assert main(["drift", "--reference", files["ref"], "--current", files["same"], "--time-column", "updated_at",
                 "--time-window", "soon"]) == 2
