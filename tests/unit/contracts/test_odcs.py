"""Open Data Contract Standard v3: export validates against the ODCS model and round-trips."""

from __future__ import annotations

import pytest
from open_data_contract_standard.model import OpenDataContractStandard

from airflow_provider_parity.contracts.odcs import from_odcs, to_odcs
from airflow_provider_parity.exceptions import ContractError


def test_round_trip_keeps_the_contract(example_contract):
    document = to_odcs(example_contract)
    OpenDataContractStandard.model_validate(document)
    assert from_odcs(document).fingerprint == example_contract.fingerprint


def test_native_fields_carry_the_schema(example_contract):
    props = {p["name"]: p for p in to_odcs(example_contract)["schema"][0]["properties"]}
    assert props["tenure_days"]["logicalType"] == "integer"
    assert props["tenure_days"]["required"] is True
    assert props["tenure_days"]["logicalTypeOptions"] == {"minimum": 0, "maximum": 10000}
    assert props["customer_id"]["primaryKeyPosition"] == 1
    assert props["plan"]["quality"][0]["arguments"] == {"validValues": ["basic", "plus", "premium"]}


def test_a_foreign_document_imports_from_native_fields():
    contract = from_odcs({
        "apiVersion": "v3.0.2", "kind": "DataContract", "id": "orders", "version": "2.1.0", "status": "active",
        "schema": [{"name": "orders", "properties": [
            {"name": "order_id", "logicalType": "string", "required": True, "primaryKey": True},
            {"name": "amount", "logicalType": "number", "logicalTypeOptions": {"minimum": 0}},
        ]}],
    })
    assert contract.dataset.version == "2.1.0"
    assert contract.primary_key == ["order_id"]
    assert contract.column("amount").type == "float" and contract.column("amount").constraints.min == 0


def test_invalid_documents_are_rejected():
    with pytest.raises(ContractError, match="not a valid ODCS document"):
        from_odcs({"apiVersion": "v3.0.2", "kind": "DataContract", "bogus": 1})
    with pytest.raises(ContractError, match="one schema object per contract"):
        from_odcs({"apiVersion": "v3.0.2", "kind": "DataContract", "id": "x", "version": "1.0.0"})


def test_cli_export_then_import_round_trips(tmp_path, example_contract_path, example_contract):
    from airflow_provider_parity.cli import main
    from airflow_provider_parity.contracts import load_contract

    odcs, back = tmp_path / "odcs.yaml", tmp_path / "back.yaml"
    assert main(["contract", "odcs-export", str(example_contract_path), "--out", str(odcs)]) == 0
    assert main(["contract", "odcs-import", str(odcs), "--out", str(back)]) == 0
    assert load_contract(back).fingerprint == example_contract.fingerprint


def test_data_becomes_a_local_server_and_the_schema_names_the_table(example_contract, tmp_path):
    from deltalake import write_deltalake

    from airflow_provider_parity.examples import customer_features

    (tmp_path / "parts").mkdir()
    write_deltalake(str(tmp_path / "delta"), customer_features(10))
    folder = to_odcs(example_contract, data=str(tmp_path / "parts"))
    assert folder["servers"] == [{"server": "local", "type": "local", "path": str(tmp_path / "parts" / "**" / "*.parquet"),
                                  "format": "parquet"}]
    assert to_odcs(example_contract, data=str(tmp_path / "delta"))["servers"][0]["format"] == "delta"
    assert folder["schema"][0]["physicalName"] == folder["schema"][0]["name"] == "customer_features"
    assert from_odcs(folder).fingerprint == example_contract.fingerprint  # servers are not part of the contract
    assert "servers" not in to_odcs(example_contract)
