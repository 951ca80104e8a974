"""``run_dbt_build`` on a small real dbt project (duckdb): what it returns, where it writes, how it fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_parity.exceptions import ConfigurationError, DbtBuildFailed
from airflow_provider_parity.transform.dbt_build import run_dbt_build

pytestmark = pytest.mark.integration

PROJECT = """name: toy
version: "1.0"
config-version: 2
profile: toy
"""
PROFILE = """toy:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ var('db') }}"
      threads: 1
"""
SCHEMA = """version: 2
models:
  - name: numbers
    config:
      contract: {enforced: true}
    columns:
      - name: n
        data_type: %s
        data_tests: [not_null]
"""


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    project = tmp_path / "toy"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text(PROJECT)
    (project / "profiles.yml").write_text(PROFILE)
    (project / "models" / "numbers.sql").write_text(
        "{{ config(materialized='table') }}\nselect cast(range as bigint) as n from range({{ var('rows', 3) }})")
    (project / "models" / "other.sql").write_text("select 1 as one")
    (project / "models" / "schema.yml").write_text(SCHEMA % "bigint")
    return project


def test_builds_into_a_work_folder_and_leaves_the_project_clean(toy, tmp_path):
    work = tmp_path / "work"
    result = run_dbt_build(toy, vars={"db": str(tmp_path / "toy.duckdb"), "rows": 5}, work_dir=work,
                           select="numbers")
    assert result.success and result.project == "toy" and result.vars["rows"] == 5
    assert [(n.name, n.resource_type, n.status) for n in result.nodes] == [
        ("numbers", "model", "success"), ("not_null_numbers_n", "test", "pass")]  # "other" was not selected
    assert result.node("numbers").relation == '"toy"."main"."numbers"'
    assert result.node("not_null_numbers_n").column == "n"
    assert json.loads((work / "target" / "run_results.json").read_text())["results"]
    assert not (toy / "target").exists() and not (toy / "logs").exists()


def test_a_model_that_breaks_its_contract_fails_naming_the_column(toy, tmp_path):
    (toy / "models" / "schema.yml").write_text(SCHEMA % "varchar")
    with pytest.raises(DbtBuildFailed) as info:
        run_dbt_build(toy, vars={"db": str(tmp_path / "toy.duckdb")})
    assert str(info.value).startswith(
        "dbt build toy failed: model numbers: model contract mismatch: n: model BIGINT vs contract VARCHAR "
        "(data type mismatch)"), str(info.value)
    assert info.value.result.skipped == 1  # its test


def test_a_project_dbt_cannot_parse_is_bad_input(toy, tmp_path):
    (toy / "models" / "schema.yml").write_text("version: 2\nmodels: [\n")
    with pytest.raises(ConfigurationError, match="dbt could not run the project in .*toy: "):
        run_dbt_build(toy, vars={"db": str(tmp_path / "toy.duckdb")})
