"""``parity materialize`` and ``parity serve`` refuse bad input with one line and exit 2, before any port opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_parity.cli import main

CONTRACT = str(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml")


def _serve(tmp_path: Path, *extra: str) -> list[str]:
    return ["serve", "--contract", CONTRACT, "--store", f"sqlite:///{tmp_path}/online.db", "--model", "churn",
            "--log", str(tmp_path / "log"), *extra]


def _empty_store(tmp_path: Path) -> str:
    """An MLflow store that exists and holds no model."""
    from mlflow import MlflowClient

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    MlflowClient(uri).search_registered_models()
    return uri


@pytest.mark.parametrize(("argv", "needle"), [
    (lambda t: ["materialize", str(t / "nope"), "--version", "0", "--contract", CONTRACT, "--store",
                f"sqlite:///{t}/online.db"], "nope"),
    (lambda t: ["materialize", str(t), "--version", "-1", "--contract", CONTRACT, "--store", "x.db"], "at least 0"),
    (lambda t: ["materialize", str(t), "--version", "0", "--contract", CONTRACT, "--store", "memcached://h:1"],
     "memcached:// is not supported"),
    (lambda t: _serve(t, "--tracking-uri", f"sqlite:///{t}/mlflow.db", "--poll-seconds", "0"), "more than 0"),
    (lambda t: _serve(t, "--on-boundary-failure", "ignore"), "invalid choice"),
    (lambda t: _serve(t), "no MLflow tracking server"),
    (lambda t: _serve(t, "--tracking-uri", f"sqlite:///{t}/mlflow.db"), "mlflow.db: the SQLite file does not exist"),
    (lambda t: _serve(t, "--tracking-uri", _empty_store(t)), "has no version with alias 'champion'"),
], ids=["no-table", "negative-version", "unknown-store", "poll-zero", "unknown-policy", "no-tracking-uri",
        "no-store", "no-champion"])
def test_bad_input_is_one_line_and_exit_2(argv: object, needle: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    code = main(argv(tmp_path))  # type: ignore[operator]
    err = capsys.readouterr().err
    assert code == 2, err
    errors = [line for line in err.splitlines() if line.startswith("parity: error:")]
    assert len(errors) == 1 and needle in errors[0], err
    assert "Traceback" not in err
    assert not (tmp_path / "mlruns").exists()
