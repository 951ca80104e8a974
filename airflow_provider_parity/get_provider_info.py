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
            {"integration-name": "Parity MLflow", "tags": ["software"],
             "external-doc-url": "https://mlflow.org/docs/latest/ml/model-registry/"},
        ],
        "operators": [
            {"integration-name": "Parity Data Contracts",
             "python-modules": [f"{PACKAGE}.operators.contract_gate"]},
            {"integration-name": "Parity MLflow", "python-modules": [f"{PACKAGE}.operators.mlflow"]},
        ],
        "sensors": [],
        "hooks": [
            {"integration-name": "Parity MLflow", "python-modules": [f"{PACKAGE}.hooks.mlflow"]},
        ],
        "triggers": [],
        "connection-types": [
            {"hook-class-name": f"{PACKAGE}.hooks.mlflow.MlflowHook", "connection-type": "mlflow"},
        ],
        "extra-links": [
            f"{PACKAGE}.operators.contract_gate.ValidationReportLink",
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
                },
            },
        },
    }
