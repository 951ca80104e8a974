"""Training and evaluation steps of the churn model (scikit-learn), run through ``parity_step``.

Both read the exact pinned Delta version, split train/holdout by a stable hash of the
customer id (so evaluation never sees a training customer, whatever the row order), and
talk to MLflow through the provider's hook. Training records the pin, the contract and
the gate results on the run (``record_training``); evaluation logs AUC per slice under the
keys the promotion gate reads.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# tenure_days_at_request is computed, not stored: by transform.request_time, the rule the service applies.
NUMERIC = ["tenure_days_at_request", "orders_30d", "avg_ticket_30d"]
STORED = ["tenure_days", "feature_date", "orders_30d", "avg_ticket_30d"]
CATEGORICAL = ["plan", "region"]
LABEL = "churned"
KEY = "customer_id"
SLICE_COLUMNS = ("plan", "region")
EXPERIMENT = "churn"
HOLDOUT_BUCKETS = 5  # one customer in five is held out


def is_holdout(customer_ids: Sequence[str]) -> list[bool]:
    """Stable per customer across days and runs: crc32 of the id, one bucket in five."""
    return [zlib.crc32(str(c).encode()) % HOLDOUT_BUCKETS == 0 for c in customer_ids]


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    holdout = is_holdout(frame[KEY].tolist())
    mask = frame.index.isin(frame.index[holdout])
    return frame[~mask], frame[mask]


def _pipeline(seed: int) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    # avg_ticket_30d is null for customers without orders (the contract allows it): impute + flag.
    numeric = Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True)), ("scale", StandardScaler())])
    features = ColumnTransformer([("num", numeric, NUMERIC),
                                  ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return Pipeline([("features", features), ("model", LogisticRegression(max_iter=500, random_state=seed))])


def training_frame(table: Any) -> pd.DataFrame:
    """The training set's rows as the model reads them: stored columns plus the request-time features.

    Each row is a request made on its feature date (``training_request_times``); the service
    computes the same features at the time it serves, with the same function.
    """
    from airflow_provider_parity.transform.request_time import add_request_features, training_request_times

    frame: pd.DataFrame = add_request_features(table, training_request_times(table)).to_pandas()
    return frame


def _read(table_uri: str, version: int | str) -> tuple[Any, pd.DataFrame]:
    from airflow_provider_parity.delta import read_arrow, resolve_snapshot

    snapshot = resolve_snapshot(table_uri, int(version))
    table = read_arrow(snapshot.uri, snapshot.version, columns=[KEY, *STORED, *CATEGORICAL, LABEL])
    return snapshot, training_frame(table)


def _gate_records(outcomes: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each gate's outcome (from XCom: a dict, or its JSON text in a pod) under the name the policy checks.

    A gate whose outcome is missing is recorded as failed: the promotion gate must not take an
    unknown for a pass.
    """
    from airflow_provider_parity.outcomes.model import coerce_outcomes

    records: dict[str, dict[str, Any]] = {}
    for name, value in outcomes.items():
        found = coerce_outcomes(value)
        records[name] = (found[0].to_dict() if found else
                         {"status": "failed", "blocking": True, "reason": f"no outcome of gate {name!r} reached training"})
    return records


def train(*, table_uri: str, version: int | str, contract_path: str, gate_outcomes: Mapping[str, Any],
          mlflow_conn_id: str | None = None, airflow: Mapping[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Fit the churn model on the pinned snapshot and record how it was made in MLflow.

    Args:
        table_uri: the feature table.
        version: the pinned Delta version (from the snapshot task).
        contract_path: the contract the data passed.
        gate_outcomes: ``{gate name: its GateOutcome}`` (dicts from XCom) of the gates this data passed.
        mlflow_conn_id: the MLflow connection; None for the embedded store.
        airflow: ``{dag_id, run_id, task_id, try_number}`` (pods have no Airflow context).
        seed: the model's random state.

    Returns:
        ``{"run_id", "rows", "inputs", "outputs"}``.
    """
    import mlflow

    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.tracking.record import record_training

    snapshot, frame = _read(table_uri, version)
    training, _ = _split(frame)
    model = _pipeline(seed).fit(training[NUMERIC + CATEGORICAL], training[LABEL].astype(int))
    hook = MlflowHook(mlflow_conn_id)
    experiment_id = hook.ensure_experiment(EXPERIMENT)
    with hook.environment(), mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params({"model": "logistic_regression", "seed": seed, "rows_train": len(training),
                           "features": ",".join(NUMERIC + CATEGORICAL)})
        mlflow.sklearn.log_model(model, name="model", input_example=training[NUMERIC + CATEGORICAL].head(3),
                                 serialization_format="cloudpickle")
        record_training(inputs=[snapshot], contract=load_contract(contract_path), gates=_gate_records(gate_outcomes),
                        airflow_context={"ti": _Identity(airflow)} if airflow else None)
    return {"run_id": run.info.run_id, "rows": len(training),
            "inputs": [{"uri": snapshot.uri, "version": snapshot.version}], "outputs": []}


class _Identity:
    """The Airflow identity handed to a pod, shaped like a task instance for ``record_training``."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        for key in ("dag_id", "run_id", "task_id", "try_number"):
            setattr(self, key, values.get(key))


def slice_metrics(frame: pd.DataFrame, scores: Sequence[float]) -> dict[str, dict[str, float]]:
    """AUC and accuracy overall and per value of each slice column (slices with one class are skipped)."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    frame = frame.assign(_score=list(scores))
    groups: list[tuple[str, pd.DataFrame]] = [("overall", frame)]
    for column in SLICE_COLUMNS:
        groups += [(f"{column}={value}", part) for value, part in frame.groupby(column, sort=True)]
    metrics = {}
    for name, part in groups:
        labels = part[LABEL].astype(int)
        if labels.nunique() < 2:
            continue
        metrics[name] = {"auc": float(roc_auc_score(labels, part["_score"])),
                         "accuracy": float(accuracy_score(labels, part["_score"] >= 0.5)), "rows": float(len(part))}
    return metrics


def evaluate(*, run_id: str, table_uri: str, version: int | str, mlflow_conn_id: str | None = None) -> dict[str, Any]:
    """Score the holdout customers of the pinned snapshot; log AUC per slice on the training run.

    Returns:
        ``{"run_id", "metrics": {slice: {metric: value}}, "inputs"}``.
    """
    import mlflow

    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.tracking.record import log_slice_metrics

    snapshot, frame = _read(table_uri, version)
    _, holdout = _split(frame)
    hook = MlflowHook(mlflow_conn_id)
    with hook.environment():
        model = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
        metrics = slice_metrics(holdout, model.predict_proba(holdout[NUMERIC + CATEGORICAL])[:, 1])
        log_slice_metrics(metrics, run_id=run_id)
    return {"run_id": run_id, "metrics": metrics, "inputs": [{"uri": snapshot.uri, "version": snapshot.version}]}
