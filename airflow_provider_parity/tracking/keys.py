"""Names of the tags and artifacts the project writes to MLflow.

One place for them, because runs, model versions and registered models are read back by
other tasks (the gate, rollback, the reproducibility audit) and by people searching the UI.
"""

from __future__ import annotations

import re

PREFIX = "parity."

# Run and model-version tags.
DATA = "parity.data"
"""JSON list of pinned inputs: ``[{"name", "uri", "version", "fingerprint", "row_count"}]``."""
CONTRACT_NAME = "parity.contract.name"
CONTRACT_VERSION = "parity.contract.version"
CONTRACT_HASH = "parity.contract.hash"
CONTRACT_REF = "parity.contract.ref"
GATES_STATUS = "parity.gates.status"
"""``passed`` when every recorded gate passed, else ``failed``."""
GATE_STATUS = "parity.gate.{name}.status"
CODE_VERSION = "parity.code.version"
CODE_SOURCE = "parity.code.source"
CODE_DIRTY = "parity.code.dirty"
AIRFLOW_DAG_ID = "parity.airflow.dag_id"
AIRFLOW_TASK_ID = "parity.airflow.task_id"
AIRFLOW_RUN_ID = "parity.airflow.run_id"
AIRFLOW_TRY_NUMBER = "parity.airflow.try_number"
PACKAGE = "parity.package.{name}"
SOURCE_RUN = "parity.source_run_id"

# Model-version tags written by the gate and by rollback.
PROMOTION_STATUS = "parity.promotion.status"
PROMOTION_REASON = "parity.promotion.reason"
PROMOTION_AT = "parity.promotion.evaluated_at"
ROLLBACK_REASON = "parity.rollback.reason"
ROLLBACK_AT = "parity.rollback.at"
APPROVAL_STATUS = "parity.approval.status"
"""``approved`` or ``rejected``: a person's answer when the policy requires approval."""
APPROVAL_BY = "parity.approval.by"
APPROVAL_REASON = "parity.approval.reason"
APPROVAL_AT = "parity.approval.at"

# Registered-model tag.
CHAMPION_HISTORY = "parity.champion.history"

# Input tag on the logged dataset (the digest column holds 36 characters only).
INPUT_FINGERPRINT = "parity.fingerprint"

# Aliases.
CHAMPION = "champion"
CHALLENGER = "challenger"

# Artifacts.
GATES_DIR = "parity/gates"
PACKAGES_FILE = "parity/packages.json"
CONTRACT_FILE = "parity/contract.json"
"""The contract the data was checked against, whole (``parity explain`` diffs two of them)."""
RECORD_FILE = "parity/training_record.json"
COMPARISON_JSON = "parity/comparison.json"
COMPARISON_HTML = "parity/comparison.html"
DECISION_FILE = "parity/promotion_decision.json"

# Packages whose versions are also tags, so runs can be searched by them.
KEY_PACKAGES = ("airflow-provider-parity", "mlflow", "scikit-learn", "pandas", "numpy", "pyarrow",
                "deltalake", "pyspark", "xgboost", "lightgbm", "torch")

# Evaluation metrics per slice are logged under one key pattern that the gate reads back.
DEFAULT_METRIC_KEY = "{metric}.{slice}"
OVERALL = "overall"


# MLflow metric names allow alphanumerics, _ - . space : and / only.
_NOT_IN_METRIC_NAME = re.compile(r"[^\w\-. :/]")


def metric_key(metric: str, slice_name: str, template: str = DEFAULT_METRIC_KEY) -> str:
    """The MLflow metric key of ``metric`` on evaluation slice ``slice_name``.

    Characters MLflow refuses in a metric name become ``_``, so slices can keep readable
    names such as ``country=FR`` in policies and reports.

    >>> metric_key("auc", "country=FR")
    'auc.country_FR'
    """
    return _NOT_IN_METRIC_NAME.sub("_", template.format(metric=metric, slice=slice_name))
