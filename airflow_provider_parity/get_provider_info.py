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
            {"integration-name": "Parity Label Quality", "tags": ["software"],
             "external-doc-url": "https://github.com/airflow-provider-parity/airflow-provider-parity"},
        ],
        "operators": [
            {"integration-name": "Parity Data Contracts",
             "python-modules": [f"{PACKAGE}.operators.contract_gate", f"{PACKAGE}.operators.verdict",
                                f"{PACKAGE}.operators.ledger"]},
            {"integration-name": "Parity Drift",
             "python-modules": [f"{PACKAGE}.operators.drift", f"{PACKAGE}.operators.feature_skew"]},
            {"integration-name": "Parity Delta Lake",
             "python-modules": [f"{PACKAGE}.operators.delta", f"{PACKAGE}.operators.materialize"]},
            {"integration-name": "Parity MLflow", "python-modules": [f"{PACKAGE}.operators.mlflow",
                                                                    f"{PACKAGE}.operators.approval"]},
            {"integration-name": "Parity Steps", "python-modules": [f"{PACKAGE}.operators.step"]},
            {"integration-name": "Parity Label Quality", "python-modules": [f"{PACKAGE}.operators.labels"]},
            {"integration-name": "Parity Retraining",
             "python-modules": [f"{PACKAGE}.operators.retraining", f"{PACKAGE}.operators.watch",
                                f"{PACKAGE}.operators.canary"]},
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
        "plugins": [
            {"name": "parity", "plugin-class": f"{PACKAGE}.plugins.parity.ParityPlugin"},
        ],
        "notifications": [f"{PACKAGE}.notifications.gate_alert.GateAlertNotifier",
                          f"{PACKAGE}.notifications.gate.GateNotifier"],
        "connection-types": [
            {"hook-class-name": f"{PACKAGE}.hooks.delta.DeltaTableHook", "connection-type": "delta"},
            {"hook-class-name": f"{PACKAGE}.hooks.spark.SparkSessionHook", "connection-type": "parity_spark"},
            {"hook-class-name": f"{PACKAGE}.hooks.mlflow.MlflowHook", "connection-type": "mlflow"},
        ],
        "extra-links": [
            f"{PACKAGE}.operators.contract_gate.ValidationReportLink",
            f"{PACKAGE}.operators.drift.DriftReportLink",
            f"{PACKAGE}.operators.feature_skew.SkewReportLink",
            f"{PACKAGE}.operators.mlflow.MlflowModelVersionLink",
            f"{PACKAGE}.operators.labels.LabelQualityReportLink",
        ],
        "config": {
            "parity": {
                "description": "Options of airflow-provider-parity.",
                "options": {
                    "report_dir": {
                        "description": "Where gate reports (JSON and HTML), drift profiles and verdicts go, one "
                        "subfolder per DAG run: a local folder or an object-store URI (s3://, gs://, abfss://). Empty: "
                        "{lake_uri}/parity/reports when lake_uri is set, else {AIRFLOW_HOME}/parity/reports.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "/opt/airflow/reports",
                        "default": "",
                    },
                    "ledger_uri": {
                        "description": (
                            'The results ledger: an append-only Delta table every gate appends its outcome to (local path or'
                            ' s3://, gs://, abfss:// URI). Empty: {lake_uri}/parity/ledger when lake_uri is set, else '
                            '{AIRFLOW_HOME}/parity/ledger.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": 's3://acme-ml-lake/parity/ledger',
                        "default": '',
                    },
                    "storage_conn_id": {
                        "description": (
                            "A 'delta' connection whose credentials reach the object store holding reports, profiles and the"
                            " ledger. Empty: the worker's environment (AWS_*, AZURE_*) or its cloud identity."
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": 'lake',
                        "default": '',
                    },
                    "lake_uri": {
                        "description": (
                            'Reference bundle: root of its Delta tables and raw data (local path or s3://). Empty: '
                            '{AIRFLOW_HOME}/lake.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": 's3://acme-ml-lake/churn',
                        "default": '',
                    },
                    "contracts_dir": {
                        "description": 'Reference bundle: folder of the data contracts. Empty: contracts/ beside dags/.',
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '/opt/airflow/contracts',
                        "default": '',
                    },
                    "dbt_project_dir": {
                        "description": 'Reference bundle: the dbt project. Empty: dbt_project/ beside dags/.',
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '/opt/airflow/dbt_project',
                        "default": '',
                    },
                    "dbt_target": {
                        "description": 'Reference bundle: the dbt profile target.',
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": 'duckdb',
                        "default": 'duckdb',
                    },
                    "mlflow_conn_id": {
                        "description": (
                            "Reference bundle: the MLflow connection. Empty: MLflow's SQLite store under AIRFLOW_HOME."
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": 'mlflow_default',
                        "default": '',
                    },
                    "online_store": {
                        "description": (
                            'Reference bundle: the online store feature_pipeline materialises into and parity serve '
                            'reads (sqlite:///PATH or redis://:PASSWORD@HOST:PORT/DB). Empty: '
                            'sqlite:///{lake_uri}/online/online.db for a local lake, else under AIRFLOW_HOME/parity.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "sensitive": True,
                        "example": 'redis://online-store:6379/0',
                        "default": '',
                    },
                    "model_name": {
                        "description": 'Reference bundle: the registered model.',
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": 'churn',
                        "default": 'churn',
                    },
                    "alert_file": {
                        "description": (
                            'Reference bundle: where GateAlertNotifier appends JSON lines. Empty: '
                            '{AIRFLOW_HOME}/parity/alerts.jsonl.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '/opt/airflow/logs/parity-alerts.jsonl',
                        "default": '',
                    },
                    "alert_slack_webhook_conn_id": {
                        "description": "Reference bundle: a Slack Incoming Webhook connection GateNotifier posts to "
                        "when a gate blocks (and when it passes again). Empty: no Slack alerts.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "slack_data_alerts",
                        "default": "",
                    },
                    "alert_pagerduty_conn_id": {
                        "description": "Reference bundle: a PagerDuty Events connection (integration key as password; "
                        "host only for another region) GateNotifier triggers and resolves through. Empty: no pages.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "pagerduty_data",
                        "default": "",
                    },
                    "alert_cooldown": {
                        "description": "Reference bundle: GateNotifier sends at most one alert per gate and dataset "
                        "in this time while the alert stays open.",
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": "6h",
                        "default": "1h",
                    },
                    "freshness_timeout": {
                        "description": (
                            'Reference bundle: seconds the freshness sensor waits for fresh features before it blocks.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '21600',
                        "default": '21600',
                    },
                    "skew_lookback": {
                        "description": (
                            'Reference bundle: how much recent serving traffic the skew gates compare with the training '
                            'snapshot.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '24h',
                        "default": '24h',
                    },
                    "min_retrain_interval": {
                        "description": (
                            'Reference bundle: a skew breach requests retraining only when the newest model is at least this'
                            ' old.'
                        ),
                        "version_added": "0.2.0",
                        "type": "string",
                        "example": '6h',
                        "default": '6h',
                    },
                    "prometheus_url": {
                        "description": "Reference bundle: Prometheus's base URL, where the post-promotion watch reads "
                        "the business KPIs of its policy (PromQL over /api/v1/query_range). Empty: no KPI guardrail.",
                        "version_added": "0.3.0",
                        "type": "string",
                        "example": "http://prometheus:9090",
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
