"""Materialisation into SQLite and a real Redis: newest row per entity, the version kept, retries a no-op."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from serving_support import Lake

from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.exceptions import DataError
from airflow_provider_parity.serving.online_store import materialize, open_store, to_batch
from airflow_provider_parity.validation import check_batch

pytestmark = pytest.mark.integration


def _two_days(path: Path) -> str:
    """Version 0: day 1; version 1: day 1 + day 2 (newer updated_at, other tenure) for every customer."""
    from deltalake import write_deltalake

    now = datetime.now(UTC).replace(microsecond=0)
    write_deltalake(str(path), customer_features(20, now=now - timedelta(days=1)))
    day2 = customer_features(20, now=now)
    day2 = day2.set_column(day2.schema.get_field_index("tenure_days"), "tenure_days",
                           pa.array([7000 + i for i in range(20)], pa.int64()))
    # Day 2 first: the newest row must win by event time, not by position in the file.
    write_deltalake(str(path), pa.concat_tables([day2, customer_features(20, now=now - timedelta(days=1))]),
                    mode="append")
    return str(path)


def test_newest_row_per_entity_with_its_version(lake: Lake, store_uri: str, tmp_path: Path) -> None:
    table = _two_days(tmp_path / "features")
    store = open_store(store_uri)
    try:
        first = materialize(table, 0, lake.contract, store)
        assert (first.entities, first.skipped, store.materialised_version("customer_features")) == (20, False, 0)
        assert store.read("customer_features", [["C000003"]]).rows[0]["tenure_days"] < 7000

        second = materialize(table, 1, lake.contract, store)
        found = store.read("customer_features", [["C000003"], ["C999999"]])
        assert second.entities == 20
        assert found.rows[0]["tenure_days"] == 7003
        assert found.rows[1] is None
        assert found.versions == [1, None]
        # What the store holds is typed back by the contract: the boundary check passes on it.
        batch = to_batch(lake.contract, [("C000003",)], found.rows[:1])
        assert check_batch(lake.contract, batch).success
    finally:
        store.close()


def test_rematerialising_the_same_version_is_a_no_op(lake: Lake, store_uri: str) -> None:
    store = open_store(store_uri)
    try:
        assert not materialize(lake.fresh, 0, lake.contract, store).skipped
        before = store.read("customer_features", [["C000010"]])
        again = materialize(lake.fresh, 0, lake.contract, store)
        assert again.skipped and again.entities == 0
        assert store.read("customer_features", [["C000010"]]) == before
    finally:
        store.close()


def test_entities_a_new_version_drops_become_unknown(lake: Lake, store_uri: str, tmp_path: Path) -> None:
    from deltalake import write_deltalake

    write_deltalake(str(tmp_path / "shrinking"), customer_features(20))
    write_deltalake(str(tmp_path / "shrinking"), customer_features(10), mode="overwrite")
    store = open_store(store_uri)
    try:
        materialize(str(tmp_path / "shrinking"), 0, lake.contract, store)
        materialize(str(tmp_path / "shrinking"), 1, lake.contract, store)
        found = store.read("customer_features", [["C000005"], ["C000015"]])
        assert found.versions == [1, None] and found.rows[1] is None
    finally:
        store.close()


def test_a_version_without_a_served_column_is_bad_input(lake: Lake, store_uri: str, tmp_path: Path) -> None:
    from deltalake import write_deltalake

    write_deltalake(str(tmp_path / "bad"), customer_features(10, fault="schema"))
    store = open_store(store_uri)
    try:
        with pytest.raises(DataError, match="tenure_days"):
            materialize(str(tmp_path / "bad"), 0, lake.contract, store)
        assert store.materialised_version("customer_features") is None
    finally:
        store.close()


def test_materialize_operator_lineage_names_the_version_and_hides_the_password(lake: Lake, redis_url: str) -> None:
    from airflow_provider_parity.operators.materialize import MaterializeOperator

    operator = MaterializeOperator(task_id="materialize", table=lake.fresh, version="0",
                                   contract_path=lake.contract, online_store=f"{redis_url}/15")
    assert operator.execute({})["entities"] == 200  # type: ignore[arg-type]
    assert operator.execute({})["skipped"] is True  # type: ignore[arg-type]
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert lineage.inputs[0].facets["version"].datasetVersion == "0"
    assert lineage.outputs[0].name.endswith("customer_features")
    password = redis_url.split(":")[2].split("@")[0]
    assert password not in repr(lineage)
    # As the OpenLineage listener sends it: valid against the spec's schemas, the version on both sides.
    from lineage_schemas import operator_event

    payload = operator_event(lineage, "feature_pipeline.materialize")
    assert [d["facets"]["version"]["datasetVersion"] for d in payload["inputs"] + payload["outputs"]] == ["0", "0"]
    assert password not in json.dumps(payload)


def test_cli_materializes_the_newest_version_with_the_store_from_the_environment(
        lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """What compose's one-shot runs: no --version (the newest), the store URL from PARITY_ONLINE_STORE
    (a password stays off the command line), and before the first feature table, nothing to do."""
    from airflow_provider_parity.cli import main

    table = _two_days(tmp_path / "features")
    monkeypatch.setenv("PARITY_ONLINE_STORE", f"sqlite:///{tmp_path}/online.db")
    contract = str(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml")
    assert main(["materialize", table, "--contract", contract]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    assert open_store(f"sqlite:///{tmp_path}/online.db").materialised_version("customer_features") == 1
    missing = str(tmp_path / "not-yet")
    assert main(["materialize", missing, "--contract", contract, "--missing-ok"]) == 0
    assert json.loads(capsys.readouterr().out) == {"skipped": True, "reason": "no Delta table yet"}
    assert main(["materialize", missing, "--contract", contract]) == 2
    assert "no Delta table" in capsys.readouterr().err
