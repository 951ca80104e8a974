"""The JSON result and the HTML report (inline SVG, escaped text)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pyarrow as pa
import pytest

from airflow_provider_parity.drift.compare import compare_datasets
from airflow_provider_parity.drift.report import render_html, write_html, write_json
from airflow_provider_parity.reports.plots import bar_chart


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    ref = pa.table({"x": rng.normal(0, 1, 2000), "<b>evil</b>": rng.choice(["a", "<script>"], 2000),
                    "y": rng.normal(0, 1, 2000)})
    cur = pa.table({"x": rng.normal(2, 1, 2000), "<b>evil</b>": rng.choice(["<script>", "z"], 2000),
                    "y": rng.normal(0, 1, 2000)})
    return compare_datasets([ref], [cur])[0]


def test_json_is_strict_and_complete(result, tmp_path):
    path = write_json(result, tmp_path / "r.json")
    data = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert data["verdict"] == "failed"
    assert [f["name"] for f in data["features"]] == ["x", "<b>evil</b>", "y"]
    assert data["features"][0]["bins"]["labels"]


def test_html_has_one_plot_per_drifted_feature_and_escapes_text(result, tmp_path):
    html = write_html(result, tmp_path / "r.html").read_text()
    assert html.count("<svg") == len(result.drifted_features) == 2
    assert "<script>" not in html and "<b>evil</b>" not in html
    assert "&lt;script&gt;" in html


def test_plot_is_well_formed_svg_with_one_bar_per_value():
    svg = bar_chart(["a", "b & c", "d"], [("reference", [0.2, 0.5, 0.3]), ("current", [0.1, 0.1, 0.8])],
                    title="x <drift>")
    root = ET.fromstring(svg)
    rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.find("{http://www.w3.org/2000/svg}title")
             is not None]
    assert len(rects) == 6
    heights = [float(r.get("height")) for r in rects]
    assert heights[5] == max(heights)  # current's 0.8 is the tallest bar
    assert math.isclose(heights[1] / heights[5], 0.1 / 0.8, rel_tol=1e-2)


def test_plot_rejects_mismatched_series():
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart(["a", "b", "c"], [("reference", [1, 2])])


def test_render_without_drift_has_no_plot(tmp_path):
    rng = np.random.default_rng(1)
    same = pa.table({"x": rng.normal(size=500)})
    html = render_html(compare_datasets([same], [same])[0])
    assert "<svg" not in html and "no drift" in html
