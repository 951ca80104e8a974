"""The results ledger in the Prometheus text exposition format (version 0.0.4).

:func:`render` is pure: a ledger table in, the exposition text out. The api-server's
``/parity/metrics`` and ``parity slo metrics`` serve it; Prometheus scrapes it like any
exporter. Counters count ledger rows, so they only grow (the ledger is append-only) and a
restarted scraper or exporter loses nothing; gauges describe each gate's latest outcome.
Metric names and labels: :mod:`airflow_provider_parity.slo.names`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from airflow_provider_parity.outcomes.model import Check, GateOutcome
from airflow_provider_parity.slo import names
from airflow_provider_parity.slo.events import contract_version, dataset_key, finished, moment, slo_events

if TYPE_CHECKING:
    import pyarrow as pa

Labels = tuple[tuple[str, str], ...]
Samples = dict[Labels, float]

_HELP = {
    names.GATE_OUTCOMES: ("counter", "Gate outcomes in the results ledger."),
    names.SLO_EVENTS: ("counter", "SLO events (freshness judgements, completeness checks, gate outcomes)."),
    names.SLO_BAD_EVENTS: ("counter", "SLO events that were bad (stale, incomplete, blocking)."),
    names.GATE_BLOCKING: ("gauge", "1 when the gate's latest outcome blocks downstream work."),
    names.GATE_LAST_RUN: ("gauge", "When the gate's latest outcome finished (Unix seconds)."),
    names.FRESHNESS_AGE: ("gauge", "Age of the newest data when freshness was last judged (seconds)."),
    names.FRESHNESS_NEWEST: ("gauge", "Time of the newest data when freshness was last judged (Unix seconds)."),
    names.FRESHNESS_MAX_AGE: ("gauge", "The contract's freshness limit (seconds)."),
    names.ROWS: ("gauge", "Rows the gate's latest outcome saw."),
    names.DRIFT_SCORE_MAX: ("gauge", "The largest drift score of the gate's latest comparison."),
    names.DRIFT_FEATURE_FAILED: ("gauge", "1 when one of the feature's drift checks fired in the gate's latest comparison."),
    names.DRIFT_SCORE: ("gauge", "A drift check's observed value per feature in the gate's latest comparison (exact)."),
    names.DRIFT_CHECK_FIRED: ("gauge", "1 when this drift check fired for the feature in the gate's latest comparison."),
    names.CHAMPION_VERSION: ("gauge", "The model version the latest passed promotion made champion."),
    names.NULL_RATIO: ("gauge", "Null ratio of a critical column in the gate's latest outcome (exact)."),
    names.SKEW_RATE: ("gauge", "Share of entities whose served feature differs from the offline one (latest outcome)."),
    names.MODEL_METRIC: ("gauge", "The champion's metric per slice, as its promotion gate checked it."),
}
_NULL_RULES = ("not_null(", "completeness(")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _line(name: str, labels: Labels, value: float) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    number = repr(float(value)) if value != int(value) else str(int(value))
    return f"{name}{{{inner}}} {number}" if inner else f"{name} {number}"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _counters(outcomes: list[GateOutcome], families: dict[str, Samples]) -> None:
    counts: Counter[tuple[str, Labels]] = Counter()
    for o in outcomes:
        labels: Labels = (("dataset", dataset_key(o)), ("contract_version", contract_version(o)), ("gate", o.label),
                  ("kind", o.gate), ("status", o.status))
        counts[names.GATE_OUTCOMES, labels] += 1
        for event in slo_events(o):
            key: Labels = (("dataset", event.dataset), ("slo", event.slo))
            counts[names.SLO_EVENTS, key] += 1
            counts[names.SLO_BAD_EVENTS, key] += 0 if event.good else 1  # a zero too: the ratio needs both
    for (name, series), count in counts.items():
        families[name][series] = count


def _freshness(o: GateOutcome, dataset: Labels, families: dict[str, Samples]) -> None:
    lag, limit = _number(o.metrics.get("lag_seconds")), _number(o.metrics.get("max_age_seconds"))
    if lag is not None:
        families[names.FRESHNESS_AGE][dataset] = lag
        judged = moment(o.as_of) or finished(o)
        if judged is not None:
            families[names.FRESHNESS_NEWEST][dataset] = round(judged.timestamp() - lag, 3)
    if limit is not None:
        families[names.FRESHNESS_MAX_AGE][dataset] = limit


def _drift(o: GateOutcome, gate: Labels, families: dict[str, Samples]) -> None:
    score = _number(o.metrics.get("max_score"))
    if score is not None:
        families[names.DRIFT_SCORE_MAX][gate] = score
    fired: dict[str, bool] = {}
    for check in o.checks:
        # Every per-feature check (psi(x), ks(x), out_of_range(x), ...); row_count_change has no column.
        if check.column:
            fired[check.column] = fired.get(check.column, False) or not check.success
    for feature, failed in fired.items():
        families[names.DRIFT_FEATURE_FAILED][(*gate, ("feature", feature))] = int(failed)


def _latest(outcomes: list[GateOutcome], families: dict[str, Samples]) -> None:
    """Gauges from each gate's latest outcome (``outcomes`` are oldest first, so the last one wins)."""
    for o in outcomes:
        dataset: Labels = (("dataset", dataset_key(o)),)
        gate: Labels = (*dataset, ("gate", o.label))
        at = finished(o)
        families[names.GATE_BLOCKING][(*gate, ("kind", o.gate))] = int(o.blocking)
        if at is not None:
            families[names.GATE_LAST_RUN][(*gate, ("kind", o.gate))] = round(at.timestamp(), 3)
        rows = _number(o.metrics.get("rows", o.metrics.get("rows_current")))
        if rows is not None:
            families[names.ROWS][gate] = rows
        if o.gate == "freshness":
            _freshness(o, dataset, families)
        if o.gate in ("drift", "skew"):
            _drift(o, gate, families)
        if o.gate == "promotion" and o.status == "passed" and o.version is not None:
            families[names.CHAMPION_VERSION][(("model", dataset_key(o)),)] = o.version


def _exact_labels(o: GateOutcome) -> Labels:
    return (("dataset", dataset_key(o)), ("contract_version", contract_version(o)), ("gate", o.label))


def _null_ratio(o: GateOutcome, check: Check) -> float | None:
    """The null ratio a check measured: a contract rule's value is the null share, the completeness gate's the non-null one."""
    if check.value is None or not check.column or not check.name.startswith(_NULL_RULES):
        return None
    if o.gate == "completeness":
        return round(1.0 - check.value, 12)
    return check.value if o.gate in ("contract", "dbt") else None


def _exact(outcomes: list[GateOutcome], families: dict[str, Samples]) -> None:
    """Null ratio per critical column, skew rate per feature, champion metrics per slice: the checks'
    exact values from each gate's latest outcome only (a column or contract version a newer outcome
    no longer has disappears instead of lingering with an old value)."""
    latest = {(dataset_key(o), o.label): o for o in outcomes}
    for o in latest.values():
        for check in o.checks:
            ratio = _null_ratio(o, check)
            if ratio is not None:
                families[names.NULL_RATIO][(*_exact_labels(o), ("column", str(check.column)))] = ratio
            if check.value is not None and check.column and check.name.startswith("feature_skew("):
                families[names.SKEW_RATE][(*_exact_labels(o), ("feature", check.column))] = check.value
            if o.gate in ("drift", "skew") and check.column and check.value is not None and math.isfinite(check.value):
                # The check's kind (psi, ks, wasserstein, ...) is a label: a fixed set, like the features.
                series = (*_exact_labels(o), ("feature", check.column), ("check", check.name.split("(", 1)[0]))
                families[names.DRIFT_SCORE][series] = check.value
                families[names.DRIFT_CHECK_FIRED][series] = int(not check.success)
    champions = {dataset_key(o): o for o in outcomes if o.gate == "promotion" and o.status == "passed"}
    for model, o in champions.items():
        for check in o.checks:
            if check.value is not None and check.name.startswith("metric(") and check.name.endswith(")"):
                metric, _, part = check.name[len("metric("):-1].partition("@")
                labels: Labels = (("metric", metric), ("model", model), ("slice", part or "overall"))
                families[names.MODEL_METRIC][labels] = check.value


def render_outcomes(outcomes: Iterable[GateOutcome]) -> str:
    """The exposition text for ``outcomes`` (oldest first)."""
    ordered = list(outcomes)
    families: dict[str, Samples] = {name: {} for name in _HELP}
    _counters(ordered, families)
    _latest(ordered, families)
    _exact(ordered, families)
    lines = []
    for name, (kind, text) in _HELP.items():
        samples = families[name]
        if not samples:
            continue
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [_line(name, labels, value) for labels, value in sorted(samples.items())]
    return "\n".join(lines) + "\n" if lines else ""


def render(ledger_table: pa.Table | None) -> str:
    """The ledger (as :func:`outcomes.ledger.read_table` returns it; None for no ledger yet) as metrics.

    Example:
        >>> from airflow_provider_parity.outcomes.ledger import read_table
        >>> print(render(read_table("s3://lake/parity/ledger")))
    """
    if ledger_table is None:
        return ""
    column = ledger_table.column("outcome").to_pylist()
    return render_outcomes(GateOutcome.from_dict(json.loads(text)) for text in column)


_RENDERED: dict[str, tuple[int, str]] = {}
"""Per ledger URI: the Delta version last rendered and its text (a scrape re-reads only a changed ledger)."""


def render_ledger(ledger_uri: str, *, storage_options: Mapping[str, str] | None = None) -> str:
    """:func:`render` of the ledger at ``ledger_uri``, re-read only when its Delta version moved.

    Prometheus scrapes every few seconds; reading every outcome each time costs about a second per
    10,000 outcomes, while the ledger changes a few times a day.

    Raises:
        ServiceUnavailable: the store did not answer.
    """
    from deltalake import DeltaTable

    from airflow_provider_parity.delta.storage import normalize_table_uri, redact_uri
    from airflow_provider_parity.exceptions import ServiceUnavailable
    from airflow_provider_parity.outcomes.ledger import read_table

    uri = normalize_table_uri(ledger_uri)
    options = dict(storage_options or {}) or None
    try:
        version = DeltaTable(uri, storage_options=options).version() if DeltaTable.is_deltatable(uri, options) else -1
    except OSError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ServiceUnavailable(f"ledger {redact_uri(uri)} unreachable: {first}") from None
    cached = _RENDERED.get(uri)
    if cached is not None and cached[0] == version:
        return cached[1]
    text = render(read_table(ledger_uri, storage_options=storage_options)) if version >= 0 else ""
    _RENDERED[uri] = (version, text)
    return text
