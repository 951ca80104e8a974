"""``parity contract feast``: the contract compiled into a Feast feature repository (no Feast needed here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from airflow_provider_parity.cli import main
from airflow_provider_parity.contracts.feast import (
    REDIS_ENV,
    definitions_py,
    feast_repo,
    render_feast_repo,
    write_feast_repo,
)
from airflow_provider_parity.exceptions import ConfigurationError, ContractError

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "feature_repo"


def test_the_repository_follows_the_contract(example_contract):
    repo = feast_repo(example_contract)
    # The entity is the key without its date (feature_date is time, which Feast handles itself).
    assert repo.entities == (("customer_id", "STRING"),)
    assert repo.fields == (("tenure_days", "Int64"), ("orders_30d", "Int64"), ("avg_ticket_30d", "Float64"),
                           ("plan", "String"), ("region", "String"))
    assert "churned" not in dict(repo.fields)  # training_only: never served
    assert repo.ttl_seconds == 12 * 3600  # freshness: max_age 12h
    assert repo.timestamp_field == "updated_at"
    assert dict(repo.tags) == {"parity_contract": example_contract.ref,
                               "parity_contract_hash": example_contract.fingerprint}


def test_definitions_are_valid_python_naming_every_field(example_contract):
    source = definitions_py(feast_repo(example_contract), header="h")
    tree = ast.parse(source)
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                if isinstance(t, ast.Name)}
    assert assigned == {"customer_id_entity", "customer_features_source", "customer_features"}
    assert 'Field(name="avg_ticket_30d", dtype=Float64)' in source
    assert "ttl=timedelta(seconds=43200)" in source
    assert f'"parity_contract_hash": "{example_contract.fingerprint}"' in source


def test_redis_reads_its_connection_string_from_the_environment(example_contract):
    files = render_feast_repo(example_contract, online_store="redis", redis_env="FEATURES_REDIS")
    config = files["feature_store.yaml"]
    assert "connection_string: ${FEATURES_REDIS}" in config
    assert "type: redis" in config and "sqlite" not in config
    assert "--online-store redis --redis-env FEATURES_REDIS" in config  # the header regenerates it
    default = render_feast_repo(example_contract, online_store="redis")["feature_store.yaml"]
    assert f"${{{REDIS_ENV}}}" in default


def test_a_compound_key_is_one_entity_per_column(example_contract):
    columns = [c.model_copy(update={"role": "key"}) if c.name == "region" else c for c in example_contract.columns]
    contract = example_contract.model_copy(update={"columns": columns,
                                                   "primary_key": ["customer_id", "region", "feature_date"]})
    repo = feast_repo(contract)
    assert [k for k, _ in repo.entities] == ["customer_id", "region"]
    assert "region" not in dict(repo.fields)
    assert "entities=[customer_id_entity, region_entity]" in definitions_py(repo)


def test_no_freshness_slo_means_no_expiry(example_contract):
    repo = feast_repo(example_contract.model_copy(update={"freshness": None}))
    assert repo.ttl_seconds == 0
    assert "values never expire" in definitions_py(repo)


@pytest.mark.parametrize(("update", "message"), [
    ({"primary_key": ["feature_date"]}, "no entity key"),
    ({"primary_key": []}, "no entity key"),
])
def test_a_contract_without_an_entity_is_refused(example_contract, update, message):
    with pytest.raises(ContractError, match=message):
        feast_repo(example_contract.model_copy(update=update))


def test_a_served_date_feature_is_refused(example_contract):
    columns = [c.model_copy(update={"type": "date", "constraints": c.constraints.model_copy(update={
        "min": None, "max": None})}) if c.name == "tenure_days" else c for c in example_contract.columns]
    with pytest.raises(ContractError, match="Feast has no date type"):
        feast_repo(example_contract.model_copy(update={"columns": columns}))


@pytest.mark.parametrize(("options", "message"), [
    ({"redis_env": "NOT-A-NAME"}, "not an environment variable name"),
    ({"source": 'data/x".parquet'}, "without quotes"),
    ({"source": " "}, "without quotes"),
])
def test_bad_options_are_refused(example_contract, options, message):
    with pytest.raises(ConfigurationError, match=message):
        render_feast_repo(example_contract, **options)


def test_cli_writes_the_repository(example_contract_path, tmp_path, capsys):
    assert main(["contract", "feast", str(example_contract_path), "--repo", str(tmp_path / "repo"),
                 "--source", "s3://lake/exports/customer_features.parquet"]) == 0
    written = capsys.readouterr().out.split()
    assert sorted(Path(p).name for p in written) == [".gitignore", "definitions.py", "feature_store.yaml"]
    assert 'path="s3://lake/exports/customer_features.parquet"' in (tmp_path / "repo" / "definitions.py").read_text()


def test_cli_bad_input_is_one_line_exit_2_and_nothing_written(example_contract_path, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(example_contract_path.read_text().replace("primary_key: [customer_id, feature_date]",
                                                             "primary_key: [feature_date]"))
    assert main(["contract", "feast", str(bad), "--repo", str(tmp_path / "repo")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no entity key" in err
    assert not (tmp_path / "repo").exists()
    # A repository folder that is a file: refused before anything is written.
    (tmp_path / "file").write_text("x")
    assert main(["contract", "feast", str(example_contract_path), "--repo", str(tmp_path / "file")]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_committed_feature_repo_is_what_the_contract_compiles_to(example_contract, tmp_path):
    written = write_feast_repo(example_contract, tmp_path)
    for path in written:
        committed = COMMITTED / path.name
        assert committed.is_file() and committed.read_bytes() == path.read_bytes(), (
            f"feature_repo/{path.name} differs from the contract: regenerate it with "
            "`parity contract feast contracts/customer_features.yaml --repo feature_repo`")


def _delta(path: Path) -> str:
    from deltalake import write_deltalake

    from airflow_provider_parity.examples import customer_features

    write_deltalake(str(path), customer_features(30))
    return str(path)


def test_cli_exports_the_pinned_version_with_the_repository(example_contract_path, tmp_path, capsys):
    import pyarrow.parquet as pq

    table = _delta(tmp_path / "features")
    assert main(["contract", "feast", str(example_contract_path), "--repo", str(tmp_path / "repo"),
                 "--export-from", table, "--version", "0"]) == 0
    written = [Path(p) for p in capsys.readouterr().out.split()]
    assert tmp_path / "repo" / "data" / "customer_features.parquet" in written
    exported = pq.read_table(tmp_path / "repo" / "data" / "customer_features.parquet")
    # What Feast reads, nothing more: the label and the feature date stay out.
    assert exported.column_names == ["customer_id", "updated_at", "tenure_days", "orders_30d", "avg_ticket_30d",
                                     "plan", "region"]
    assert exported.num_rows == 30


@pytest.mark.parametrize(("extra", "message"), [
    (["--version", "7"], "version"),  # no such version: the repository is not written either
    (["--version", "0", "--source", "s3://lake/x.parquet"], "not a local path"),
    ([], "--export-from and --version go together"),
])
def test_cli_export_problems_leave_nothing(example_contract_path, tmp_path, capsys, extra, message):
    table = _delta(tmp_path / "features")
    argv = ["contract", "feast", str(example_contract_path), "--repo", str(tmp_path / "repo"), "--export-from", table]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not (tmp_path / "repo").exists()
