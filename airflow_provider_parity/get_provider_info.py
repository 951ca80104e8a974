"""The provider's declaration for Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

Kept free of imports: Airflow calls it while discovering providers, on every process start.
"""

from __future__ import annotations

from typing import Any

PACKAGE = "airflow_provider_parity"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-parity",
        "name": "Parity",
        "description": "Keeps training and serving data from diverging: data contracts, pinned Delta snapshots, "
        "drift gates and MLflow promotion gates.",
        "versions": ["0.1.0"],
        "integrations": [
            {"integration-name": "Parity Data Contracts", "tags": ["software"],
             "external-doc-url": "https://github.com/airflow-provider-parity/airflow-provider-parity"},
            {"integration-name": "Parity Drift", "tags": ["software"],
             "external-doc-url": "https://github.com/airflow-provider-parity/airflow-provider-parity"},
            {"integration-name": "Parity Delta Lake", "tags": ["software"], "external-doc-url": "https://delta.io/"},
            {"integration-name": "Parity MLflow", "tags": ["software"],
             "external-doc-url": "https://mlflow.org/docs/latest/ml/model-registry/"},
            {"integration-name": "Parity Steps", "tags": ["software"],
             "external-doc-url": "https://github.com/airflow-provider-parity/airflow-provider-parity"},
        ],
        "operators": [
            {"integration-name": "Parity Data Contracts",
             "python-modules": [f"{PACKAGE}.operators.contract_gate", f"{PACKAGE}.operators.verdict"]},
            {"integration-name": "Parity Drift", "python-modules": [f"{PACKAGE}.operators.drift"]},
            {"integration-name": "Parity Delta Lake", "python-modules": [f"{PACKAGE}.operators.delta"]},
            {"integration-name": "Parity MLflow", "python-modules": [f"{PACKAGE}.operators.mlflow"]},
            {"integration-name": "Parity Steps", "python-modules": [f"{PACKAGE}.operators.step"]},
        ],
        "sensors": [
            {"integration-name": "Parity Delta Lake", "python-modules": [f"{PACKAGE}.sensors.delta"]},
        ],
        "hooks": [
            {"integration-name": "Parity Delta Lake",
             "python-modules": [f"{PACKAGE}.hooks.delta", f"{PACKAGE}.hooks.spark"]},
            {"integration-name": "Parity MLflow", "python-modules": [f"{PACKAGE}.hooks.mlflow"]},
        ],
        "triggers": [
            {"integration-name": "Parity Delta Lake", "python-modules": [f"{PACKAGE}.triggers.delta"]},
        ],
        "notifications": [f"{PACKAGE}.notifications.gate_alert.GateAlertNotifier"],
        "connection-types": [
            {"hook-class-name": f"{PACKAGE}.hooks.delta.DeltaTableHook", "connection-type": "delta"},
            {"hook-class-name": f"{PACKAGE}.hooks.spark.SparkSessionHook", "connection-type": "parity_spark"},
            {"hook-class-name": f"{PACKAGE}.hooks.mlflow.MlflowHook", "connection-type": "mlflow"},
        ],
        "extra-links": [
            f"{PACKAGE}.operators.contract_gate.ValidationReportLink",
            f"{PACKAGE}.operators.drift.DriftReportLink",
            f"{PACKAGE}.operators.mlflow.MlflowModelVersionLink",
        ],
        "config": {
            "parity": {
                "description": "Options of airflow-provider-parity.",
                "options": {
                    "report_dir": {
                        "description": "Folder for gate reports (JSON and HTML), one subfolder per DAG run. "
                        "Empty: {AIRFLOW_HOME}/parity/reports.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/opt/airflow/reports",
                        "default": "",
                    },
                    "execution_mode": {
                        "description": "Where parity_step() runs heavy steps (dbt, training, Spark): 'local' in the "
                        "worker, or 'kubernetes' in a KubernetesPodOperator pod. Read when the DAG file is parsed.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "kubernetes",
                        "default": "local",
                    },
                    "pod_image": {
                        "description": "Image of step pods (execution_mode = kubernetes); it must have the provider "
                        "and the DAG bundle installed.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "registry.example.com/parity-airflow:0.1.0",
                        "default": "",
                    },
                    "pod_namespace": {
                        "description": "Namespace of step pods. Empty: the pod template's, else the worker's.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "ml-pipelines",
                        "default": "",
                    },
                    "pod_template_file": {
                        "description": "Pod template for step pods: service account, resources, volumes, secrets.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/opt/airflow/pod_templates/step.yaml",
                        "default": "",
                    },
                },
            },
        },
    }
