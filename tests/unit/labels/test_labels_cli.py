"""``parity labels``: exit 0 pass, 1 blocked, 2 bad input; one-line errors; both reports or neither."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from items_contract import items_contract

from airflow_provider_parity.cli import main
from airflow_provider_parity.labels.examples import synthetic_annotations

CONTRACT = items_contract("{min_krippendorff_alpha: 0.667, min_annotator_kappa: 0.6}")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "items.yaml").write_text(CONTRACT)
    paths = {"contract": str(tmp_path / "items.yaml")}
    for name, flip in (("clean", None), ("flipped", ("ann_4", "low", "mid"))):
        paths[name] = str(tmp_path / f"{name}.parquet")
        pq.write_table(synthetic_annotations(200, seed=5, flip=flip), paths[name])
    return paths


def test_clean_annotations_exit_0_with_both_reports(files, tmp_path, capsys):
    out_json, out_html = tmp_path / "out" / "labels.json", tmp_path / "out" / "labels.html"
    code = main(["labels", "--contract", files["contract"], "--annotations", files["clean"],
                 "--json", str(out_json), "--html", str(out_html)])
    assert code == 0, capsys.readouterr()
    assert capsys.readouterr().out.startswith("passed: ")
    report = json.loads(out_json.read_text())
    assert report["status"] == "passed" and report["krippendorff_alpha"] > 0.667
    assert "<table>" in out_html.read_text()


def test_a_flipped_class_exits_1_naming_the_annotator_and_class(files, capsys):
    assert main(["labels", "--contract", files["contract"], "--annotations", files["flipped"]]) == 1
    err = capsys.readouterr().err
    assert err.startswith("failed: ") and "worst annotator 'ann_4'" in err and "labelled 'low' as 'mid'" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--annotations", "{tmp}/missing.parquet"], "path does not exist"),
    (["--contract", "{tmp}/nope.yaml"], "contract file does not exist"),
    (["--json", "{clean}"], "--json {clean} would overwrite the --annotations input"),
    (["--features-where", "feature_date"], "expected COLUMN=VALUE"),
])
def test_bad_input_exits_2_with_one_line(files, tmp_path, capsys, args, message):
    given = {"--contract": files["contract"], "--annotations": files["clean"]}
    filled = [a.format(tmp=tmp_path, clean=files["clean"]) for a in args]
    given.update(dict(zip(filled[::2], filled[1::2], strict=True)))
    assert main(["labels", *[x for pair in given.items() for x in pair]]) == 2
    err = capsys.readouterr().err
    assert message.format(clean=files["clean"]) in err and err.count("\n") == 1 and "Traceback" not in err


def test_features_where_judges_one_day_of_a_features_table(tmp_path, capsys):
    import pyarrow as pa

    (tmp_path / "items.yaml").write_text(items_contract("{max_feature_conflict_share: 0.05}",
                                                        features="  - {name: x, type: integer}\n"))
    annotations = synthetic_annotations(100, seed=3)
    pq.write_table(annotations, tmp_path / "labels.parquet")
    items = sorted(set(annotations.column("item_id").to_pylist()))
    # Day d0: every item has the same features (their different labels conflict); day d1: each its own.
    pq.write_table(pa.table({"item_id": items * 2, "day": ["d0"] * len(items) + ["d1"] * len(items),
                             "x": [0] * len(items) + list(range(len(items)))}), tmp_path / "features.parquet")
    argv = ["labels", "--contract", str(tmp_path / "items.yaml"), "--annotations", str(tmp_path / "labels.parquet"),
            "--features", str(tmp_path / "features.parquet")]
    assert main([*argv, "--features-where", "day=d1"]) == 0, capsys.readouterr()
    assert main([*argv, "--features-where", "day=d0"]) == 1
    assert "feature_conflict_share(label): observed 1.0000" in capsys.readouterr().err


def test_a_contract_without_labels_exits_2(files, example_contract_path, capsys):
    assert main(["labels", "--contract", str(example_contract_path), "--annotations", files["clean"]]) == 2
    assert "has no labels section" in capsys.readouterr().err


def test_reports_are_written_together_or_not_at_all(files, tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the HTML report's folder should be")
    out_json = tmp_path / "ok" / "labels.json"
    code = main(["labels", "--contract", files["contract"], "--annotations", files["clean"],
                 "--json", str(out_json), "--html", str(blocker / "labels.html")])
    err = capsys.readouterr().err
    assert code == 2 and ("cannot write" in err or "is a file, not a directory" in err), err
    assert not out_json.exists()
