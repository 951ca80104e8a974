"""Heavy steps: the same function in the worker, in a pod's command line, or through the CLI."""

from __future__ import annotations

import json
import textwrap

import pytest

from airflow_provider_parity.cli import main
from airflow_provider_parity.compat import AirflowFailException
from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.operators.step import ParityStepOperator, parity_step
from airflow_provider_parity.steps import lineage_datasets, run_step

STEPS = textwrap.dedent("""
    from airflow_provider_parity.exceptions import ContractViolation

    def build(day, rows=3):
        return {"day": day, "rows": rows, "inputs": [{"uri": "/lake/raw", "version": 4}],
                "outputs": [{"uri": "/lake/features"}]}

    def nothing():
        return None

    def blocked():
        raise ContractViolation("rule not_null on plan: 12 nulls (expected 0)")

    def not_json():
        return {"when": object()}
""")


@pytest.fixture(autouse=True)
def step_module(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    (tmp_path / "demo_steps.py").write_text(STEPS)
    monkeypatch.syspath_prepend(str(tmp_path))


def test_run_step_calls_the_function_and_returns_json() -> None:
    assert run_step("demo_steps:build", {"day": "2026-11-20"})["rows"] == 3
    assert run_step("demo_steps:nothing") == {}


@pytest.mark.parametrize(("name", "message"), [
    ("demo_steps.build", "must be 'package.module:function'"),
    ("missing_module_x:f", "module 'missing_module_x' not found"),
    ("demo_steps:absent", "has no function 'absent'"),
    ("demo_steps:not_json", "not JSON"),
])
def test_bad_step_names_and_results_are_configuration_errors(name: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        run_step(name)


def test_lineage_datasets_come_from_the_result() -> None:
    result = run_step("demo_steps:build", {"day": "d"})
    assert lineage_datasets(result, "inputs") == [("/lake/raw", "4")]
    assert lineage_datasets(result, "outputs") == [("/lake/features", None)]
    assert lineage_datasets(None, "inputs") == []


def test_operator_runs_the_step_and_reports_its_datasets() -> None:
    op = ParityStepOperator(task_id="build", step="demo_steps:build", op_kwargs={"day": "2026-11-20"})
    assert op.execute({}) == {"day": "2026-11-20", "rows": 3, "inputs": [{"uri": "/lake/raw", "version": 4}],
                              "outputs": [{"uri": "/lake/features"}]}
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [(d.name, d.facets["version"].datasetVersion) for d in lineage.inputs] == [("/lake/raw", "4")]
    assert [d.name for d in lineage.outputs] == ["/lake/features"]


def test_a_gate_inside_a_step_fails_the_task_without_retry_and_says_why() -> None:
    op = ParityStepOperator(task_id="gate", step="demo_steps:blocked")
    with pytest.raises(AirflowFailException, match=r"rule not_null on plan: 12 nulls \(expected 0\)"):
        op.execute({})
    assert "not_null" in op.get_openlineage_facets_on_failure(None).run_facets["errorMessage"].message


def test_local_mode_is_the_default(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("AIRFLOW__PARITY__EXECUTION_MODE", raising=False)
    assert isinstance(parity_step(task_id="t", step="demo_steps:build"), ParityStepOperator)


def test_kubernetes_mode_builds_a_pod_running_the_same_step(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    monkeypatch.setenv("AIRFLOW__PARITY__EXECUTION_MODE", "kubernetes")
    monkeypatch.setenv("AIRFLOW__PARITY__POD_IMAGE", "registry.example.com/parity:1")
    monkeypatch.setenv("AIRFLOW__PARITY__POD_NAMESPACE", "ml")
    op = parity_step(task_id="dbt_build", step="demo_steps:build", retries=3,
                     op_kwargs={"day": "{{ ds }}", "path": "/lake/date={{ ds }}/x.parquet", "gates": {"contract": "{{ o }}"}})
    assert isinstance(op, KubernetesPodOperator)
    assert (op.image, op.namespace, op.retries, op.do_xcom_push) == ("registry.example.com/parity:1", "ml", 3, True)
    assert op.cmds == ["parity", "step", "run"]
    step, kwargs, xcom = op.arguments
    assert step == "demo_steps:build" and xcom == "--xcom-file=/airflow/xcom/return.json"
    # Rendered as Airflow renders `arguments`, the kwargs stay JSON even when a value renders to a dict
    # (a gate outcome from XCom) holding quotes.
    import jinja2

    outcome = {"status": "passed", "reason": 'it\'s "fine" <ok>', "version": 3}
    rendered = jinja2.Environment().from_string(kwargs).render(ds="2026-11-20", o=outcome)
    assert json.loads(rendered.removeprefix("--kwargs=")) == {
        "day": "2026-11-20", "path": "/lake/date=2026-11-20/x.parquet", "gates": {"contract": outcome}}


def test_kubernetes_mode_without_an_image_or_template_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AIRFLOW__PARITY__EXECUTION_MODE", "kubernetes")
    with pytest.raises(ConfigurationError, match="pod_image or pod_template_file"):
        parity_step(task_id="t", step="demo_steps:build")
    monkeypatch.setenv("AIRFLOW__PARITY__EXECUTION_MODE", "cloud")
    with pytest.raises(ConfigurationError, match="'local' or 'kubernetes'"):
        parity_step(task_id="t", step="demo_steps:build")


def test_cli_runs_a_step_and_writes_the_pod_xcom_file(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    xcom = tmp_path / "airflow" / "xcom" / "return.json"
    code = main(["step", "run", "demo_steps:build", '--kwargs={"day": "2026-11-20", "rows": 5}',
                 f"--xcom-file={xcom}"])
    assert code == 0
    assert json.loads(xcom.read_text())["rows"] == 5
    assert json.loads(capsys.readouterr().out)["day"] == "2026-11-20"


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["step", "run", "demo_steps:build", "--kwargs={nope"], 2, "--kwargs is not JSON"),
    (["step", "run", "demo_steps:build", "--kwargs=[1]"], 2, "must be a JSON object"),
    (["step", "run", "demo_steps:blocked"], 1, "12 nulls"),
])
def test_cli_errors_are_one_line_with_distinct_exit_codes(argv, code, message, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


RUN = '--run={"dag_id": "features", "run_id": "scheduled__2026-11-20", "task_id": "dbt_build", "map_index": -1, ' \
      '"try_number": 2}'


@pytest.mark.parametrize(("step", "code", "status"), [
    ("demo_steps:build", 0, "passed"),
    ("demo_steps:blocked", 1, "failed"),
])
def test_a_gate_step_in_a_pod_appends_its_outcome_to_the_ledger(tmp_path, capsys, step, code, status) -> None:  # type: ignore[no-untyped-def]
    # What a KubernetesPodOperator runs: the pod, not the worker that started it, records the outcome.
    from airflow_provider_parity.outcomes.ledger import read_outcomes

    ledger, xcom = tmp_path / "ledger", tmp_path / "return.json"
    argv = ["step", "run", step, '--kwargs={"day": "2026-11-20"}' if step.endswith("build") else "--kwargs={}",
            "--gate=dbt", "--dataset=/lake/features", f"--ledger={ledger}", RUN, f"--xcom-file={xcom}"]
    assert main(argv) == code
    assert main(argv) == code  # the pod retried with the same try: still one row
    [outcome] = read_outcomes(str(ledger))
    assert (outcome.gate, outcome.status, outcome.dataset, outcome.blocking) == ("dbt", status, "/lake/features", code == 1)
    assert outcome.run is not None and (outcome.run.run_id, outcome.run.task_id, outcome.run.try_number) == (
        "scheduled__2026-11-20", "dbt_build", 2)
    if code == 0:
        assert json.loads(xcom.read_text())["parity_outcome"]["status"] == "passed"
    else:
        assert "12 nulls" in outcome.reason and not xcom.exists()
        assert "12 nulls" in capsys.readouterr().err


def test_a_gate_step_pod_carries_the_task_try_and_the_ledger(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import jinja2

    monkeypatch.setenv("AIRFLOW__PARITY__EXECUTION_MODE", "kubernetes")
    monkeypatch.setenv("AIRFLOW__PARITY__POD_IMAGE", "registry.example.com/parity:1")
    monkeypatch.setenv("AIRFLOW__PARITY__LEDGER_URI", "s3://lake/parity/ledger")
    op = parity_step(task_id="dbt_build", step="demo_steps:build", gate="dbt", outputs=["s3://lake/features"])
    args = op.arguments
    assert "--gate=dbt" in args and "--dataset=s3://lake/features" in args and "--ledger=s3://lake/parity/ledger" in args

    class TI:
        dag_id, task_id, map_index, try_number = "features", "dbt_build", -1, 3

    [run] = [a for a in args if a.startswith("--run=")]
    rendered = jinja2.Environment().from_string(run).render(ti=TI, run_id='manual__"quoted"')
    assert json.loads(rendered.removeprefix("--run=")) == {
        "dag_id": "features", "run_id": 'manual__"quoted"', "task_id": "dbt_build", "map_index": -1, "try_number": 3}


def test_a_gate_step_with_a_malformed_run_is_bad_input(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["step", "run", "demo_steps:nothing", "--gate=dbt", "--run={\"dag_id\": 1}"]) == 2
    assert "--run must be a JSON object" in capsys.readouterr().err
