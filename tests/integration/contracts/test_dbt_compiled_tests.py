"""The compiled dbt schema runs in a real dbt project (duckdb) and blocks on the same faults as the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_parity.contracts.dbt import write_dbt
from airflow_provider_parity.examples import customer_features, write_parquet

pytestmark = pytest.mark.integration

PROJECT = """name: parity_contract_check
version: "1.0"
profile: parity
model-paths: ["models"]
macro-paths: ["macros"]
"""
PROFILE = """parity:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: {db}
      threads: 1
"""


def _build(tmp_path: Path, contract, fault: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from dbt.cli.main import dbtRunner

    project = tmp_path / fault
    (project / "models").mkdir(parents=True)
    data = write_parquet(customer_features(300, fault=fault), str(tmp_path / f"{fault}.parquet"))
    (project / "dbt_project.yml").write_text(PROJECT)
    (project / "profiles.yml").write_text(PROFILE.format(db=project / "dev.duckdb"))
    columns = ", ".join(c.name for c in contract.columns)
    (project / "models" / "customer_features.sql").write_text(f"select {columns} from read_parquet('{data}')")
    write_dbt([contract], project)
    result = dbtRunner().invoke(["build", "--project-dir", str(project), "--profiles-dir", str(project),
                                 "--quiet", "--no-use-colors", "--log-path", str(project / "logs"),
                                 "--target-path", str(project / "target")])
    assert result.result is not None, result.exception
    return {r.node.name: str(r.status) for r in result.result}


def test_compiled_tests_pass_on_clean_data(tmp_path, example_contract):
    statuses = _build(tmp_path, example_contract, "none")
    assert statuses.pop("customer_features") == "success"
    assert statuses and set(statuses.values()) == {"pass"}


@pytest.mark.parametrize("fault, failing", [
    ("range", "parity_between_customer_features_orders_30d"),
    ("category", "accepted_values_customer_features_plan"),
    ("duplicates", "parity_unique_combination_customer_features"),
])
def test_compiled_tests_fail_on_the_fault(tmp_path, example_contract, fault, failing):
    statuses = _build(tmp_path, example_contract, fault)
    failed = sorted(name for name, status in statuses.items() if status == "fail")
    assert len(failed) == 1 and failed[0].startswith(failing), statuses
