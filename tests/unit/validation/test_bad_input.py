"""Bad input: one clear line and exit code 2, and nothing half-written."""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa
import pytest

from airflow_provider_parity.cli import main
from airflow_provider_parity.examples import customer_features, write_parquet


def _parquet(tmp_path: Path, table: pa.Table, name: str = "data.parquet") -> str:
    return write_parquet(table, str(tmp_path / name))


def _set(table: pa.Table, name: str, values: list) -> pa.Table:  # type: ignore[type-arg]
    return table.set_column(table.column_names.index(name), name, pa.array(values))


def _cases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    base = customer_features(200)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(Path(_parquet(tmp_path, base, "whole.parquet")).read_bytes()[:-100])
    floats = [1.0] * 199
    return {
        "missing column": (_parquet(tmp_path, base.drop_columns(["plan"]), "a.parquet"),
                           "exists(plan): observed column missing from the data, expected column present"),
        "wrong dtype": (_parquet(tmp_path, _set(base, "tenure_days", [str(i) for i in range(200)]), "b.parquet"),
                        "type(tenure_days): observed type string (string), expected type integer"),
        "empty": (_parquet(tmp_path, base.slice(0, 0), "c.parquet"), "the dataset is empty (0 rows)"),
        "all null": (_parquet(tmp_path, _set(base, "avg_ticket_30d", pa.nulls(200, pa.float64())), "d.parquet"),
                     "column 'avg_ticket_30d' is entirely null (200 rows)"),
        "nan": (_parquet(tmp_path, _set(base, "avg_ticket_30d", pa.array([math.nan] + floats, from_pandas=False)),
                         "e.parquet"), "column 'avg_ticket_30d' holds 1 NaN and 0 infinite value(s)"),
        "inf": (_parquet(tmp_path, _set(base, "avg_ticket_30d", [math.inf] + floats), "f.parquet"),
                "column 'avg_ticket_30d' holds 0 NaN and 1 infinite value(s)"),
        "no such path": (str(tmp_path / "nope.parquet"), "path does not exist"),
        "not parquet": (str(broken), "cannot read as parquet"),
        "truncated": (str(truncated), "cannot read as parquet"),
    }


CASES = ["missing column", "wrong dtype", "empty", "all null", "nan", "inf", "no such path", "not parquet",
         "truncated"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("engine", ["gx", "arrow"])
def test_bad_data_exits_2_with_one_line(tmp_path, capsys, example_contract_path, case, engine):
    data, reason = _cases(tmp_path)[case]
    out = tmp_path / "out"
    code = main(["validate", "--contract", str(example_contract_path), "--data", data, "--engine", engine,
                 "--json", str(out / "r.json"), "--html", str(out / "r.html")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("parity: error: ")
    assert reason in err
    assert not out.exists()


def test_malformed_contract_exits_2(tmp_path, capsys):
    contract = tmp_path / "c.yaml"
    contract.write_text("dataset: {name: x\n")
    code = main(["validate", "--contract", str(contract), "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "c.yaml:2: malformed YAML" in err and err.count("\n") == 1


def test_a_column_missing_from_the_contract_is_bad_input_when_forbidden(tmp_path, capsys, example_contract_path):
    text = example_contract_path.read_text().replace("extra_columns: allow", "extra_columns: forbid")
    contract = tmp_path / "strict.yaml"
    contract.write_text(text)
    data = _parquet(tmp_path, customer_features(200).append_column("surprise", pa.array([1] * 200)))
    assert main(["validate", "--contract", str(contract), "--data", data]) == 2
    assert "undeclared(surprise): observed column in the data, expected no undeclared columns" in capsys.readouterr().err


def test_violation_exits_1_and_writes_both_reports(tmp_path, capsys, example_contract_path):
    data = _parquet(tmp_path, customer_features(200, fault="category"))
    code = main(["validate", "--contract", str(example_contract_path), "--data", data, "--engine", "arrow",
                 "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html")])
    assert code == 1
    assert "in_set(plan): observed 2 offending values" in capsys.readouterr().err
    assert '"status": "failed"' in (tmp_path / "r.json").read_text()
    assert "in_set(plan)" in (tmp_path / "r.html").read_text()
    assert not list(tmp_path.glob(".r.*.tmp"))
