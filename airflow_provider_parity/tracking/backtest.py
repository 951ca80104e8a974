"""Backtest before promotion: champion and challenger scored on the last N time slices of the pinned data.

One good holdout score can hide a challenger that loses on most recent periods. With a ``backtest``
section in the promotion policy, both models are scored on each of the last ``slices`` distinct values
of a time column (e.g. ``feature_date``) of the challenger's pinned training input, and the challenger
must win or tie (within ``tolerance``) on at least ``min_win_share`` of them. Each slice is one check
of the decision, so the outcome and the comparison report show them all.

:func:`backtest_checks` is pure; :func:`score_slices` scores real models on a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class BacktestPolicy:
    """How the challenger must fare against the champion on past slices.

    Attributes:
        time_column: the column whose last ``slices`` distinct values make the slices.
        slices: how many recent slices.
        metric: ``auc`` (higher is better) or ``log_loss`` (lower is better).
        min_win_share: the share of judged slices the challenger must win or tie.
        tolerance: a challenger within this of the champion ties.
    """

    time_column: str
    label: str
    """The label column of the pinned data."""
    slices: int = 5
    metric: str = "auc"
    min_win_share: float = 0.6
    tolerance: float = 0.0

    def __post_init__(self) -> None:
        if self.slices < 1 or not 0.0 <= self.min_win_share <= 1.0 or self.tolerance < 0:
            raise ConfigurationError(f"backtest: slices must be >= 1, min_win_share in [0, 1] and tolerance >= 0, got "
                                     f"{self.slices}, {self.min_win_share}, {self.tolerance}")
        if self.metric not in METRICS:
            raise ConfigurationError(f"backtest: metric must be one of {', '.join(METRICS)}, got {self.metric!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BacktestPolicy:
        if not isinstance(data, Mapping) or "time_column" not in data or "label" not in data:
            raise ConfigurationError(f"backtest: a mapping with a time_column and a label is required, got {data!r}")
        unknown = sorted(set(data) - {"time_column", "label", "slices", "metric", "min_win_share", "tolerance"})
        if unknown:
            raise ConfigurationError(f"backtest: unknown keys {unknown}")
        return cls(**dict(data))


@dataclass(frozen=True)
class SliceScore:
    """Both models on one slice (None: the slice has one class, the metric is undefined)."""

    slice: str
    rows: int
    challenger: float | None
    champion: float | None


def _auc(labels: Any, scores: Any) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _log_loss(labels: Any, scores: Any) -> float:
    from sklearn.metrics import log_loss

    return float(log_loss(labels, scores, labels=[0, 1]))


METRICS: dict[str, tuple[Callable[[Any, Any], float], bool]] = {"auc": (_auc, True), "log_loss": (_log_loss, False)}
"""metric -> (function of labels and scores, higher is better)."""


def score_slices(policy: BacktestPolicy, frame: pd.DataFrame, *,
                 challenger: Callable[[pd.DataFrame], Sequence[float]],
                 champion: Callable[[pd.DataFrame], Sequence[float]]) -> list[SliceScore]:
    """Score both models on each of the last ``policy.slices`` values of ``policy.time_column``, oldest first.

    Raises:
        ConfigurationError: the frame lacks the time or label column.
    """
    label = policy.label
    for column in (policy.time_column, label):
        if column not in frame.columns:
            raise ConfigurationError(f"backtest: the pinned data has no column {column!r}")
    metric, _ = METRICS[policy.metric]
    values = sorted(frame[policy.time_column].dropna().unique())[-policy.slices:]
    scores = []
    for value in values:
        part = frame[frame[policy.time_column] == value]
        labels = part[label].astype(int)
        if labels.nunique() < 2:
            scores.append(SliceScore(str(value), len(part), None, None))
            continue
        scores.append(SliceScore(str(value), len(part), metric(labels, list(challenger(part))),
                                 metric(labels, list(champion(part)))))
    return scores


def backtest_checks(policy: BacktestPolicy, scores: Sequence[SliceScore]) -> list[tuple[str, bool, str, str, str]]:
    """``(name, passed, message, observed, expected)`` per slice (``day=2026-03-01``), then ``win_share``.

    A slice where the challenger is within ``tolerance`` of the champion (or better) is a win; slices
    with an undefined metric are listed and not judged. Too few judged slices fail the share check.
    """
    _, higher = METRICS[policy.metric]
    rows, wins, judged = [], 0, 0
    for s in scores:
        name = f"{policy.time_column}={s.slice}"
        if s.challenger is None or s.champion is None:
            rows.append((name, True, f"backtest {policy.metric} on {name}: undefined ({s.rows} rows, one class), "
                         "not judged", "undefined", "two classes"))
            continue
        judged += 1
        delta = s.challenger - s.champion if higher else s.champion - s.challenger
        won = delta >= -policy.tolerance
        wins += won
        observed = f"challenger {s.challenger:.4f} vs champion {s.champion:.4f} ({'win or tie' if won else 'loss'})"
        rows.append((name, True, f"backtest {policy.metric} on {name}: {observed}", observed,
                     f"challenger within {policy.tolerance:g} of the champion or better"))
    share = wins / judged if judged else 0.0
    ok = judged > 0 and share >= policy.min_win_share
    rows.append(("win_share", ok, f"backtest: challenger won or tied {wins} of {judged} slices ({share:.0%}) of "
                 f"{policy.time_column}, minimum {policy.min_win_share:.0%}", f"{share:.4g}",
                 f">= {policy.min_win_share:g}"))
    return rows


def _scorer(model_uri: str) -> Callable[[pd.DataFrame], Sequence[float]]:
    """A loaded model's positive-class scores on the columns it was fitted on (or its signature's)."""
    import mlflow

    model = mlflow.sklearn.load_model(model_uri)
    named = getattr(model, "feature_names_in_", None)
    columns = [str(c) for c in named] if named is not None else []
    if not columns:
        signature = mlflow.models.get_model_info(model_uri).signature
        columns = list(signature.inputs.input_names()) if signature is not None else []
    if not columns:
        raise ConfigurationError(f"backtest: {model_uri} names no input columns (fit it on a DataFrame or log a "
                                 "signature)")

    def score(part: pd.DataFrame) -> Sequence[float]:
        frame = part[columns]
        values = frame.to_numpy() if not hasattr(model, "feature_names_in_") else frame
        return [float(p) for p in model.predict_proba(values)[:, 1]]

    return score


def backtest_versions(policy: BacktestPolicy, challenger: Any, champion: Any) -> list[SliceScore]:
    """Score two registered versions (:class:`~airflow_provider_parity.tracking.client.VersionInfo`) on
    the challenger's pinned training input (its recorded Delta table and version), inside the MLflow
    environment the caller set up.

    Raises:
        ConfigurationError: the challenger has no recorded input, or a model names no input columns.
    """
    from airflow_provider_parity.delta import read_pandas
    from airflow_provider_parity.tracking.reproduce import recorded_inputs

    inputs = recorded_inputs(challenger.tags, f"{challenger.name} v{challenger.version}")
    pinned = next((i for i in inputs if i.name == "training"), inputs[0])
    frame = read_pandas(pinned.uri, pinned.version)
    return score_slices(policy, frame, challenger=_scorer(f"models:/{challenger.name}/{challenger.version}"),
                        champion=_scorer(f"models:/{champion.name}/{champion.version}"))
