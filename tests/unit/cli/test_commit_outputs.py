"""``fileio.commit_outputs``: every output of a command or none, named as the user gave it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.fileio import check_outputs, commit_outputs, json_text

# Root may write anywhere chmod allows nothing: /sys refuses new files even to root.
READ_ONLY = Path("/sys") if os.geteuid() == 0 else None


def _read_only(tmp_path: Path) -> Path:
    if READ_ONLY is not None:
        return READ_ONLY
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def test_all_outputs_land_together(tmp_path: Path) -> None:
    written = commit_outputs({tmp_path / "a" / "r.json": json_text({"ok": True}), str(tmp_path / "r.html"): "<p>"})
    assert [p.name for p in written] == ["r.json", "r.html"]
    assert (tmp_path / "a" / "r.json").read_text() == '{\n  "ok": true\n}\n'
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_failing_output_leaves_none_behind_and_names_the_given_path(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("previous")
    bad = _read_only(tmp_path) / "sub" / "r.html"
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ConfigurationError) as info:
        # The first output (and the folder made for it) must go when the second cannot be written.
        commit_outputs({tmp_path / "new" / "deep" / "r.json": "{}", tmp_path / "old.json": "next", bad: "<p>"})
    assert str(bad) in str(info.value) and ".tmp" not in str(info.value)
    assert sorted(tmp_path.rglob("*")) == before
    assert (tmp_path / "old.json").read_text() == "previous"


@pytest.mark.parametrize(("make", "needle"), [
    (lambda t: t / "folder", "is a directory"),
    (lambda t: t / "file.txt" / "r.json", "is a file, not a directory"),
    (lambda t: t / "file.txt" / "deeper" / "r.json", "is a file, not a directory"),
])
def test_paths_that_cannot_be_files_are_refused_before_any_work(tmp_path: Path, make, needle: str) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "folder").mkdir()
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ConfigurationError, match=needle):
        check_outputs(make(tmp_path))


def test_outputs_may_not_overwrite_inputs_or_each_other(tmp_path: Path) -> None:
    data = tmp_path / "data.parquet"
    data.write_bytes(b"x")
    table = tmp_path / "table"
    table.mkdir()
    with pytest.raises(ConfigurationError, match="would overwrite the input"):
        check_outputs(str(data), inputs=[str(data)])
    with pytest.raises(ConfigurationError, match="would overwrite the input"):
        check_outputs(table / "r.json", inputs=[str(table)])
    with pytest.raises(ConfigurationError, match="the same file as the output"):
        check_outputs(tmp_path / "r.json", tmp_path / "." / "r.json")
    assert check_outputs(None, "", tmp_path / "r.json", inputs=[None, "s3://bucket/x"]) == [tmp_path / "r.json"]
