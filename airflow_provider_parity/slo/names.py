"""The Prometheus metric names and labels, defined once for the exporter and the rules.

Labels are bounded by what the contracts declare (datasets, gates, features, SLO kinds,
statuses), never by the data: no URI, version number, run id or reason is a label.
"""

from __future__ import annotations

# Counters: every ledger row counted (monotonic because the ledger is append-only).
GATE_OUTCOMES = "parity_gate_outcomes_total"  # {dataset, contract_version, gate, kind, status}
SLO_EVENTS = "parity_slo_events_total"  # {dataset, slo}
SLO_BAD_EVENTS = "parity_slo_bad_events_total"  # {dataset, slo}
# Gauges: the latest outcome of each gate.
GATE_BLOCKING = "parity_gate_blocking"  # {dataset, gate, kind}: 1 when its latest outcome blocks
GATE_LAST_RUN = "parity_gate_last_run_timestamp_seconds"  # {dataset, gate, kind}
FRESHNESS_AGE = "parity_freshness_age_seconds"  # {dataset}: age of the newest data when last judged
FRESHNESS_NEWEST = "parity_freshness_newest_timestamp_seconds"  # {dataset}: the newest data's time
FRESHNESS_MAX_AGE = "parity_freshness_max_age_seconds"  # {dataset}: the contract's limit
ROWS = "parity_rows"  # {dataset, gate}: rows the gate saw
DRIFT_SCORE_MAX = "parity_drift_score_max"  # {dataset, gate}: the largest drift score of the latest comparison
DRIFT_FEATURE_FAILED = "parity_drift_feature_failed"  # {dataset, gate, feature}: 1 when one of the feature's checks fired
DRIFT_SCORE = "parity_drift_score"  # {dataset, contract_version, gate, feature, check}: each check's observed value
DRIFT_CHECK_FIRED = "parity_drift_check_fired"  # {dataset, contract_version, gate, feature, check}: 1 when it fired
CHAMPION_VERSION = "parity_champion_version"  # {model}: the version the latest passed promotion made champion
# Exact gauges from the checks' numeric values (GateOutcome Check.value) of each gate's latest outcome.
NULL_RATIO = "parity_null_ratio"  # {dataset, contract_version, gate, column}: critical columns (not_null/completeness)
SKEW_RATE = "parity_feature_skew_rate"  # {dataset, contract_version, gate, feature}: share of entities mismatched
MODEL_METRIC = "parity_model_metric"  # {model, slice, metric}: the champion's metrics, as its promotion checked them

# Recording rules (level:metric:operation, as Prometheus' naming guide says).
ERROR_RATIO = "parity:slo_error_ratio:rate{window}"
SLO_OBJECTIVE = "parity:slo_objective"  # {dataset, slo, window}: the contract's objective


def error_ratio(window: str) -> str:
    """The recorded error ratio over ``window`` (``parity:slo_error_ratio:rate3d``)."""
    return ERROR_RATIO.format(window=window)
