"""The checks behind the verdict: each scenario family at small n, thresholds from the contract, noise control."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import yaml
from scipy import stats

from airflow_provider_parity.contracts.loader import contract_from_text
from airflow_provider_parity.contracts.model import DriftChecks
from airflow_provider_parity.contracts.odcs import from_odcs, to_odcs
from airflow_provider_parity.drift.checks import Thresholds, benjamini_hochberg
from airflow_provider_parity.drift.compare import DriftSettings, Rule, compare_datasets
from airflow_provider_parity.exceptions import ContractError

N = 5_000
CATS = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
SHARES = [0.4, 0.3, 0.15, 0.1, 0.05]


def _cat(rng, shares=SHARES, labels=CATS):
    return labels[rng.choice(len(labels), N, p=np.asarray(shares) / np.sum(shares))]


def _with(values, rng, share, value):
    out = np.array(values, dtype=object if isinstance(value, str) else float)
    out[rng.random(N) < share] = value
    return out


def _nulls(values, rng, rate):
    return pa.array(values, mask=rng.random(N) < rate)


# (family, reference, current, the check that must fire or None for no flag)
SCENARIOS = {
    "control normal": (lambda r: r.normal(50, 10, N), lambda r: r.normal(50, 10, N), None),
    "control lognormal": (lambda r: r.lognormal(3, 1, N), lambda r: r.lognormal(3, 1, N), None),
    "control counts": (lambda r: r.poisson(0.7, N), lambda r: r.poisson(0.7, N), None),
    "control category": (_cat, _cat, None),
    "immaterial shift 0.02 sd": (lambda r: r.normal(50, 10, N), lambda r: r.normal(50.2, 10, N), None),
    "immaterial spread 1.03x": (lambda r: r.normal(50, 10, N), lambda r: r.normal(50, 10.3, N), None),
    "immaterial 1% new category": (_cat, lambda r: _with(_cat(r), r, 0.01, "zeta"), None),
    "immaterial nulls +0.5 points": (lambda r: _nulls(r.normal(0, 1, N), r, 0.01),
                                     lambda r: _nulls(r.normal(0, 1, N), r, 0.015), None),
    "location 0.2 sd": (lambda r: r.normal(50, 10, N), lambda r: r.normal(52, 10, N), "location_sd"),
    "spread 1.25x": (lambda r: r.normal(50, 10, N), lambda r: r.normal(50, 12.5, N), "spread_ratio"),
    "shape: mixture weights": (lambda r: np.where(r.random(N) < 0.3, r.normal(4, 1, N), r.normal(0, 1, N)),
                               lambda r: np.where(r.random(N) < 0.45, r.normal(4, 1, N), r.normal(0, 1, N)),
                               "wasserstein_sd"),
    "counts rate +20%": (lambda r: r.poisson(3.0, N), lambda r: r.poisson(3.6, N), "wasserstein_sd"),
    "unit x1000 on 5% of rows": (lambda r: r.lognormal(3, 1, N),
                                 lambda r: r.lognormal(3, 1, N) * np.where(r.random(N) < 0.05, 1000, 1),
                                 "out_of_range"),
    "fill with 0 inside the range": (lambda r: r.normal(0, 1, N), lambda r: _with(r.normal(0, 1, N), r, 0.1, 0.0),
                                     "point_mass"),
    "null rate 1% -> 4%": (lambda r: _nulls(r.normal(0, 1, N), r, 0.01), lambda r: _nulls(r.normal(0, 1, N), r, 0.04),
                           "null_rate_change"),
    "new category 3%": (_cat, lambda r: _with(_cat(r), r, 0.03, "zeta"), "new_value_mass"),
    "category swap": (_cat, lambda r: _cat(r, [0.4, 0.3, 0.05, 0.1, 0.15]), "total_variation"),
    "rare category grows to 3%": (lambda r: _cat(r, [0.5, 0.298, 0.2, 0.002], CATS[:4]),
                                  lambda r: _cat(r, [0.485, 0.288, 0.195, 0.032], CATS[:4]), "point_mass"),
    "label case change": (_cat, lambda r: np.where(_cat(r) == "gamma", "Gamma", _cat(r)), "new_value_mass"),
}


def _compare(ref, cur, settings=None):
    result, _ = compare_datasets([pa.table({"x": ref})], [pa.table({"x": cur})], settings)
    return result.feature("x"), result


@pytest.mark.parametrize("family", list(SCENARIOS))
def test_each_scenario_family_at_small_n(family):
    make_ref, make_cur, expected = SCENARIOS[family]
    feat, result = _compare(make_ref(np.random.default_rng(1)), make_cur(np.random.default_rng(2)))
    fired = [c.check for c in feat.checks if c.fired]
    if expected is None:
        assert fired == [], feat.reasons
        assert result.verdict == "passed"
    else:
        assert expected in fired, feat.reasons
        assert result.verdict == "failed"
        assert f"x: {feat.metric}=" in result.message  # the message names the check that fired


def test_a_flag_says_which_check_with_observed_versus_threshold():
    feat, result = _compare(np.random.default_rng(1).normal(0, 1, N), np.random.default_rng(2).normal(0.3, 1, N))
    check = next(c for c in feat.checks if c.check == "wasserstein_sd")
    assert check.fired and check.value == pytest.approx(0.3, abs=0.05) and check.threshold == 0.1
    assert f"x: wasserstein_sd={check.value:.4g} > 0.1" in feat.reasons
    # Every current metric is still measured and reported.
    assert {"psi", "jensen_shannon", "ks", "wasserstein", "chi_square"} <= set(feat.metrics)


def test_significance_alone_never_flags_at_large_n():
    rng = np.random.default_rng(3)
    feat, _ = _compare(rng.normal(0, 1, 400_000), rng.normal(0.03, 1, 400_000))
    location = next(c for c in feat.checks if c.check == "location_sd")
    assert location.p_value < 1e-10  # certain...
    assert not location.fired  # ...and immaterial


def test_out_of_range_uses_robust_quantiles_so_it_does_not_fade_with_n():
    # 5% of values at 5 sd: inside the min/max of a large reference, outside its widened p0.5..p99.5.
    for n in (5_000, 400_000):
        rng = np.random.default_rng(n)
        cur = rng.normal(0, 1, n)
        cur[: n // 20] = 5.0 + rng.random(n // 20)
        result, _ = compare_datasets([pa.table({"x": rng.normal(0, 1, n)})], [pa.table({"x": cur})])
        check = next(c for c in result.feature("x").checks if c.check == "out_of_range")
        assert check.fired and check.value == pytest.approx(0.05, abs=0.01)


# --- thresholds from the contract ---------------------------------------------------

# A scenario each check fires on at the default threshold, with its observed size.
ONE_CHECK = {
    "wasserstein_sd": ("location 0.2 sd", 0.2),
    "location_sd": ("location 0.2 sd", 0.2),
    "spread_ratio": ("spread 1.25x", 1.25),
    "point_mass": ("fill with 0 inside the range", 0.1),
    "out_of_range": ("unit x1000 on 5% of rows", 0.05),
    "null_rate_change": ("null rate 1% -> 4%", 0.03),
    "total_variation": ("category swap", 0.1),
    "new_value_mass": ("new category 3%", 0.03),
}


def _contract(example_contract_path, **checks):
    data = yaml.safe_load(example_contract_path.read_text())
    data["drift"]["checks"].update(checks)
    return contract_from_text(yaml.safe_dump(data), "c.yaml")


@pytest.mark.parametrize("check", list(ONE_CHECK))
def test_each_check_reads_its_threshold_from_the_contract(check, example_contract_path):
    family, size = ONE_CHECK[check]
    make_ref, make_cur, _ = SCENARIOS[family]
    ref, cur = make_ref(np.random.default_rng(1)), make_cur(np.random.default_rng(2))
    outcomes = {}
    for threshold in (size * 0.5 if check != "spread_ratio" else 1.1, size * 2 if check != "spread_ratio" else 2.0):
        settings = DriftSettings.from_contract(_contract(example_contract_path, **{check: threshold}))
        feat, _ = _compare(ref, cur, settings)
        found = next(c for c in feat.checks if c.check == check)
        assert found.threshold == threshold
        outcomes[threshold] = found.fired
    assert list(outcomes.values()) == [True, False]


def test_check_defaults_are_the_contract_defaults():
    assert Thresholds(**DriftChecks().model_dump()) == Thresholds()
    assert DriftSettings().checks == Thresholds()


def test_a_misspelt_or_misplaced_check_names_file_line_and_field(example_contract_path):
    text = example_contract_path.read_text()
    with pytest.raises(ContractError) as info:
        contract_from_text(text.replace("    location_sd: 0.15", "    locaton_sd: 0.15"), "c.yaml")
    assert str(info.value).startswith("c.yaml:") and "drift.checks.locaton_sd: unknown check; the checks are" in str(
        info.value)
    with pytest.raises(ContractError, match=r"c.yaml:\d+: drift.null_rate_change: a check's threshold goes under "
                                            r"drift.checks"):
        contract_from_text(text.replace("  significance: 0.0001", "  null_rate_change: 0.05"), "c.yaml")
    with pytest.raises(ContractError, match=r"drift.checks.spread_ratio: Input should be greater than 1"):
        contract_from_text(text.replace("spread_ratio: 1.15", "spread_ratio: 0.9"), "c.yaml")


def test_a_contract_for_the_old_policy_still_loads_and_its_rules_are_extra_checks(example_contract_path):
    data = yaml.safe_load(example_contract_path.read_text())
    data["drift"] = {"numeric": {"metric": "psi", "threshold": 0.2},
                     "categorical": {"metric": "jensen_shannon", "threshold": 0.1}, "min_rows": 100}
    contract = contract_from_text(yaml.safe_dump(data), "old.yaml")
    settings = DriftSettings.from_contract(contract)
    assert settings.numeric == Rule("psi", 0.2) and settings.checks == Thresholds()
    rng = np.random.default_rng(4)
    feat, _ = _compare(rng.normal(0, 1, N), rng.normal(2, 1, N), settings)
    assert {"psi", "wasserstein_sd"} <= {c.check for c in feat.checks if c.fired}


def test_odcs_round_trip_keeps_the_drift_policy(example_contract_path):
    contract = _contract(example_contract_path, point_mass=0.05, spread_ratio=1.3)
    back = from_odcs(to_odcs(contract))
    assert back.drift == contract.drift and back.fingerprint == contract.fingerprint


# --- noise control ------------------------------------------------------------------


def test_benjamini_hochberg_equals_scipy():
    p = list(np.random.default_rng(5).random(40) ** 3)
    assert benjamini_hochberg(p) == pytest.approx(list(stats.false_discovery_control(p)), rel=1e-12)


def test_fdr_control_across_features_keeps_a_borderline_check_quiet():
    # Twenty features at 300 rows, one shifted by 0.3 sd: significant alone, not among every check of the run.
    rng = np.random.default_rng(6)
    n = 300
    ref = {f"f{i}": rng.normal(0, 1, n) for i in range(20)}
    cur = {f"f{i}": rng.normal(0, 1, n) for i in range(20)}
    cur["f0"] = rng.normal(0.3, 1, n)
    plain, _ = compare_datasets([pa.table(ref)], [pa.table(cur)], DriftSettings(significance=0.01))
    controlled, _ = compare_datasets([pa.table(ref)], [pa.table(cur)], DriftSettings(significance=0.01, fdr=True))
    location = next(c for c in plain.feature("f0").checks if c.check == "location_sd")
    assert location.fired and location.p_value == pytest.approx(0.0014, rel=0.05)
    assert plain.drifted_features == ["f0"]
    assert controlled.drifted_features == []
