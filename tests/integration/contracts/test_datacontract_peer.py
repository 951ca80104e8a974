"""The ODCS export runs unchanged in datacontract-cli, whose verdicts and counts match the gate's.

datacontract-cli runs from a throw-away virtualenv (``peer_tools.py``); skipped only when PyPI is unreachable.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from peer_tools import PyPIUnreachable, install_datacontract

from airflow_provider_parity.contracts.odcs import to_odcs
from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.validation.validate import open_data, validate_data

pytestmark = pytest.mark.integration

ROWS = 400


@pytest.fixture(scope="module")
def datacontract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``datacontract`` executable of a fresh virtualenv."""
    try:
        return install_datacontract(tmp_path_factory.mktemp("datacontract") / "venv")
    except PyPIUnreachable as exc:
        pytest.skip(f"PyPI unreachable: {exc}")


def _faulty() -> pa.Table:
    """One table breaking six rules at once: each fault's column taken from the example's faulty variant."""
    table = customer_features(ROWS)
    for fault, column in (("nulls", "tenure_days"), ("range", "orders_30d"), ("category", "plan"),
                          ("stale", "updated_at")):
        table = table.set_column(table.schema.get_field_index(column), column,
                                 customer_features(ROWS, fault=fault)[column])  # type: ignore[arg-type]
    ids = table["customer_id"].to_pylist()
    ids[:3] = ["bad-1", "bad-2", ids[5]]  # two break the pattern, one repeats a key (same feature date)
    table = table.set_column(0, "customer_id", pa.array(ids))
    mask = pa.array([i % 10 < 3 for i in range(ROWS)])  # 30% missing where the contract wants 80% filled
    return table.set_column(table.schema.get_field_index("avg_ticket_30d"), "avg_ticket_30d",
                            pc.if_else(mask, pa.scalar(None, pa.float64()), table["avg_ticket_30d"]))


def _run(datacontract: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(datacontract), *args], capture_output=True, text=True, timeout=300)


# datacontract-cli's check types for each of the gate's rule kinds.
_PEER_CHECK = {"not_null": "field_required", "between": "field_minimum", "in_set": "field_invalid_values",
               "regex": "field_regex", "compound_unique": "primary_key_unique", "freshness": "servicelevel_freshness",
               "completeness": "field_null_values"}


def test_datacontract_cli_lints_and_tests_the_export_as_the_gate_does(datacontract, example_contract, tmp_path):
    verdicts = {}
    for name, table in (("clean", customer_features(ROWS)), ("faulty", _faulty())):
        data = tmp_path / f"{name}.parquet"
        pq.write_table(table, data)
        document = tmp_path / f"{name}.odcs.yaml"
        document.write_text(yaml.safe_dump(to_odcs(example_contract, data=str(data)), sort_keys=False))
        gate = validate_data(example_contract, open_data(str(data)))
        if name == "clean":  # lint once: the document differs only by its server path
            lint = _run(datacontract, "lint", str(document))
            assert lint.returncode == 0, lint.stdout[-2000:]
        out = tmp_path / f"{name}.json"
        peer = _run(datacontract, "test", str(document), "--output", str(out), "--output-format", "json")
        report = json.loads(out.read_text())
        assert peer.returncode == (0 if gate.success else 1), peer.stdout[-2000:]
        failed = [c for c in report["checks"] if c["result"] == "failed"]
        verdicts[name] = (gate, failed)
    gate, failed = verdicts["clean"]
    assert gate.success and failed == []
    gate, failed = verdicts["faulty"]
    assert sorted(_PEER_CHECK[r.kind] for r in gate.failures) == sorted(c["type"] for c in failed)
    counts = {c["type"]: c["diagnostics"].get("failed_rows", c["diagnostics"].get("value")) for c in failed}
    for rule in gate.failures:
        if rule.kind in ("not_null", "between", "in_set", "regex", "compound_unique"):  # same rows counted
            assert counts[_PEER_CHECK[rule.kind]] == rule.unexpected_count, rule.rule
