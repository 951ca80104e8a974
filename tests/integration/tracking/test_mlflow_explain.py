"""``parity explain``: what changed between two model versions, from a real MLflow store and Delta log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_parity.cli import main
from airflow_provider_parity.tracking.explain import explain
from airflow_provider_parity.tracking.registry import register_model

pytestmark = pytest.mark.integration


def _append(uri: str, rows: int, seed: int, shift: float, writer: str) -> None:
    import numpy as np
    import pyarrow as pa
    from deltalake import CommitProperties, write_deltalake

    rng = np.random.default_rng(seed)
    x = rng.normal(loc=shift, size=rows)
    write_deltalake(uri, pa.table({"x": x, "y": (x + rng.normal(scale=0.5, size=rows) > 0).astype("int64")}),
                    mode="append", commit_properties=CommitProperties(custom_metadata={
                        "parity.dag_id": "feature_pipeline", "parity.run_id": writer, "parity.contract": "cf"}))


def test_explain_names_the_data_commits_contract_gates_and_metric_deltas(store: Any, tmp_path: Path,
                                                                         write_table: Any, train_run: Any,
                                                                         example_contract: Any) -> None:
    table = write_table(tmp_path / "features", rows=400, seed=3)
    first = train_run(store, table, metrics={"overall": 0.80, "plan=basic": 0.75},
                      gates={"contract": "passed", "skew": "passed"}, contract=example_contract)
    _append(table, 400, 4, 2.5, "manual__2026-11-29")
    _append(table, 400, 5, 2.5, "manual__2026-11-30")
    newer = example_contract.model_copy(update={"dataset": example_contract.dataset.model_copy(update={"version": "2.0.0"}),
                                                "columns": [c for c in example_contract.columns if c.name != "region"]})
    second = train_run(store, table, metrics={"overall": 0.83, "plan=basic": 0.70},
                       gates={"contract": "passed", "skew": "warned"}, contract=newer)
    name = store.model_name("explain")
    client = store.client()
    register_model(client, run_id=first, name=name)
    register_model(client, run_id=second, name=name)

    report = explain(client, name, None, "2")  # one version: compared with the one before it
    assert (report.old, report.new) == ("1", "2")
    [data] = report.data
    assert (data["old_version"], data["new_version"], data["changed"]) == (0, 2, True)
    assert [(c["version"], c["by"]["run_id"]) for c in report.commits] == [(1, "manual__2026-11-29"),
                                                                          (2, "manual__2026-11-30")]
    assert report.contract["verdict"].startswith("BREAKING") and any("region" in c for c in report.contract["changes"])
    assert report.gates["skew"] == {"old": "passed", "new": "warned"}
    deltas = {m["key"]: m["delta"] for m in report.metrics}
    assert deltas["auc.overall"] == pytest.approx(0.03) and deltas["auc.plan_basic"] == pytest.approx(-0.05)
    assert report.drift is not None and "x" in report.drift["drifted_features"]
    assert report.seconds < 10

    out = tmp_path / "explain.json"
    assert main(["explain", name, "1", "2", "--tracking-uri", store.tracking_uri, "--json", str(out),
                 "--html", str(tmp_path / "explain.html")]) == 0
    assert json.loads(out.read_text())["commits"][0]["version"] == 1
    assert "manual__2026-11-30" in (tmp_path / "explain.html").read_text()
    assert main(["explain", name, "1", "--tracking-uri", store.tracking_uri]) == 2  # nothing before v1
