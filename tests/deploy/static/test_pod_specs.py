"""The pods the reference DAGs start in `kubernetes` mode, validated as Kubernetes Pods.

The DAG files of dags/ are parsed the way the chart configures Airflow: every variable of the
chart's settings ConfigMap in the environment and its pod template file on disk. Each
KubernetesPodOperator then builds the pod it would submit (KubernetesPodOperator's own dry-run
path: no cluster is contacted), which must pass the strict Kubernetes Pod schema and keep what
the chart put in the template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    NAMESPACE,
    REPO,
    S3_EXAMPLE_VALUES,
    Render,
    find,
    kubernetes_versions,
    step_pod,
    validate_kubernetes_object,
)

DAGS = REPO / "dags"


@pytest.fixture
def kubernetes_dagbag(chart_render: Render, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """dags/ parsed with the chart's settings (S3 example values: a production-like cluster)."""
    from airflow.dag_processing.dagbag import DagBag

    objects = chart_render(yaml.safe_load(S3_EXAMPLE_VALUES.read_text()))
    settings = find(objects, "ConfigMap", "parity-env")["data"]
    template = tmp_path / "step.yaml"
    template.write_text(find(objects, "ConfigMap", "parity-pod-template")["data"]["step.yaml"])
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    # The mounted paths of a cluster, here on disk.
    monkeypatch.setenv("AIRFLOW__PARITY__POD_TEMPLATE_FILE", str(template))
    monkeypatch.setenv("AIRFLOW__PARITY__CONTRACTS_DIR", str(REPO / "contracts"))
    # Airflow puts the DAG folder on sys.path; the bundle's own package (dags/churn) needs it.
    monkeypatch.syspath_prepend(str(DAGS))
    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag


def _pod_operators(bag: Any) -> list[Any]:
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    return [task for dag in bag.dags.values() for task in dag.tasks if isinstance(task, KubernetesPodOperator)]


def test_every_step_pod_is_a_valid_pod_built_from_the_chart_template(
    kubernetes_dagbag: Any, chart_render: Render
) -> None:
    import yaml
    from deploy_support import S3_EXAMPLE_VALUES
    from kubernetes.client import ApiClient

    template = step_pod(chart_render(yaml.safe_load(S3_EXAMPLE_VALUES.read_text())))
    base_template = template["spec"]["containers"][0]
    operators = _pod_operators(kubernetes_dagbag)
    assert {"feature_pipeline", "daily_retraining"} <= {op.dag_id for op in operators}
    for operator in operators:
        pod = ApiClient().sanitize_for_serialization(operator.build_pod_request_obj(dry_run=True))
        for version in kubernetes_versions():
            validate_kubernetes_object(pod, version)
        where = f"{operator.dag_id}.{operator.task_id}"
        assert pod["metadata"]["namespace"] == NAMESPACE, where
        spec = pod["spec"]
        base = next(c for c in spec["containers"] if c["name"] == "base")
        # What the chart's template gives every step survives the operator's own settings.
        assert base["image"] == base_template["image"], where
        assert base["envFrom"] == base_template["envFrom"], where
        assert base["resources"] == base_template["resources"], where
        assert {"name": "contracts", "mountPath": "/opt/airflow/contracts", "readOnly": True} in base["volumeMounts"]
        assert spec["serviceAccountName"] == template["spec"]["serviceAccountName"], where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert pod["metadata"]["annotations"]["parity.io/contracts-checksum"], where
        # The step runs through the provider's CLI and hands its result to the xcom sidecar.
        assert base["command"] == ["parity", "step", "run"], where
        assert base["args"][0].count(":") == 1, where
        assert any(arg.startswith("--xcom-file") for arg in base["args"]), where
        assert any(c["name"] == "airflow-xcom-sidecar" for c in spec["containers"]), where


def test_the_same_dags_run_steps_in_the_worker_in_local_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """One setting switches a deployment between pods and in-worker steps; DAG files stay the same."""
    from airflow.dag_processing.dagbag import DagBag

    from airflow_provider_parity.operators.step import ParityStepOperator

    monkeypatch.setenv("AIRFLOW__PARITY__EXECUTION_MODE", "local")
    monkeypatch.syspath_prepend(str(DAGS))
    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    assert not _pod_operators(bag)
    assert [t for dag in bag.dags.values() for t in dag.tasks if isinstance(t, ParityStepOperator)]
