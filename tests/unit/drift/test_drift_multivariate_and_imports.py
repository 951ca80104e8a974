"""The multivariate option (a domain classifier) on a correlation flip, and the drift path's imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from airflow_provider_parity.cli import main
from airflow_provider_parity.contracts.loader import contract_from_text
from airflow_provider_parity.drift.compare import DriftSettings
from airflow_provider_parity.drift.gate import run_drift
from airflow_provider_parity.exceptions import ConfigurationError

N = 6_000


def _correlated(seed: int, rho: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, N)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(0, 1, N)
    return pa.table({"x": x, "y": y, "plan": rng.choice(["basic", "premium"], N)})


@pytest.fixture(scope="module")
def flipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mv")
    paths = {}
    for name, seed, rho in (("ref", 1, 0.8), ("same", 2, 0.8), ("flipped", 3, -0.8)):
        paths[name] = str(folder / f"{name}.parquet")
        pq.write_table(_correlated(seed, rho), paths[name])
    return paths


def test_a_correlation_flip_no_single_feature_shows_fails_the_domain_classifier(flipped, tmp_path):
    plain, _ = run_drift(flipped["ref"], flipped["flipped"])
    assert plain.verdict == "passed", plain.message  # every marginal is unchanged
    out = tmp_path / "result.json"
    code = main(["drift", "--reference", flipped["ref"], "--current", flipped["flipped"], "--multivariate", "0.75",
                 "--json", str(out)])
    result = json.loads(out.read_text())
    assert code == 1 and result["verdict"] == "failed"
    assert result["multivariate"]["auc"] > 0.85
    assert result["message"].startswith("drift: multivariate: domain_classifier_auc=")
    # Attribution: the two correlated features tell the sides apart, the plan does not.
    importances = dict(result["multivariate"]["importances"])
    assert sorted(importances, key=importances.get)[-2:] in (["x", "y"], ["y", "x"])
    assert importances["plan"] < 0.02


def test_the_domain_classifier_stays_quiet_on_the_same_distribution(flipped):
    result, _ = run_drift(flipped["ref"], flipped["same"], settings=DriftSettings(multivariate=0.75))
    assert result.verdict == "passed"
    assert result.multivariate is not None and 0.4 < result.multivariate.auc < 0.6


def test_the_option_is_off_by_default_and_read_from_the_contract(example_contract_path):
    assert DriftSettings().multivariate is None
    data = yaml.safe_load(example_contract_path.read_text())
    data["drift"]["multivariate"] = {"threshold": 0.7, "sample_rows": 5000}
    settings = DriftSettings.from_contract(contract_from_text(yaml.safe_dump(data), "c.yaml"))
    assert (settings.multivariate, settings.multivariate_rows) == (0.7, 5000)


def test_a_stored_profile_cannot_feed_the_domain_classifier(flipped, tmp_path):
    _, profile = run_drift(flipped["ref"], flipped["same"])
    assert profile is not None
    profile.save(tmp_path / "ref.json")
    with pytest.raises(ConfigurationError, match="needs the data on both sides"):
        run_drift(str(tmp_path / "ref.json"), flipped["same"], settings=DriftSettings(multivariate=0.75))


def test_the_drift_path_never_imports_pandas(flipped):
    # A fresh interpreter: `parity drift` on parquet files loads neither pandas nor pyarrow.dataset.
    code = ("import sys\nfrom airflow_provider_parity.drift.gate import run_drift\n"
            "result, _ = run_drift(sys.argv[1], sys.argv[2])\n"
            "print(result.verdict, 'pandas' in sys.modules, 'pyarrow.dataset' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, flipped["ref"], flipped["flipped"]], check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == ["passed", "False", "False"]
