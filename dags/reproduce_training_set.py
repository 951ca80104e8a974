"""reproduce_training_set: the reproducibility audit of one registered model version.

Manual. Reads the Delta versions and fingerprints MLflow recorded for the model version,
reads them again, and fails when a fingerprint or a row count differs or a version can no
longer be read (vacuumed), naming the table, the version and what differs.
"""

from __future__ import annotations

from airflow.sdk import DAG, Param

from airflow_provider_parity.operators.mlflow import MlflowReproduceOperator
from churn.dagdefaults import DAG_DEFAULTS
from churn.settings import load_settings

settings = load_settings()

with DAG(
    dag_id="reproduce_training_set",
    description="Recreate a model version's training set from its pinned Delta versions and compare",
    schedule=None,
    **DAG_DEFAULTS,
    tags=["parity", "churn", "audit"],
    params={
        "model_name": Param(settings.model_name, type="string", description="Registered model name."),
        "version": Param("1", type="string", pattern="^[0-9]+$", description="Model version to audit."),
    },
    doc_md=__doc__,
) as dag:
    MlflowReproduceOperator(
        task_id="reproduce",
        model_name="{{ params.model_name }}",
        version="{{ params.version }}",
        mlflow_conn_id=settings.mlflow_conn_id,
    )
