"""FeatureSkewGateOperator: block when serving served other values than the offline features, entity by entity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.common import (
    XCOM_REPORT_HTML,
    XCOM_REPORT_JSON,
    HtmlReportLink,
    as_version,
    run_as_of,
)

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.outcomes.model import GateOutcome
    from airflow_provider_parity.skew.result import SkewResult

XCOM_RESULT = "skew_result"


class SkewReportLink(HtmlReportLink):
    """Opens the HTML per-entity skew report the task wrote."""

    name = "Skew report"


class FeatureSkewGateOperator(GateMixin, BaseOperator):
    """Join each logged request with the offline value of its entity as of ``served_at``; fail on skew.

    Distribution drift cannot see a serving path that computes a feature differently for some
    entities (another rounding rule, a stale cache); this gate compares value by value. Per
    feature it measures the share of mismatched entities and the largest difference against the
    contract's tolerance (``skew_tolerance`` per column; floats default to 1e-9 absolute plus
    1e-6 relative, everything else exact) and the ``skew`` policy (default: no mismatch, no
    request without an offline row).

    The task's value is its gate outcome (XCom ``return_value`` and ``parity_outcome``, also in the
    results ledger; gate kind ``feature_skew``, one check per feature); the detailed result is XCom
    ``skew_result``; the JSON and HTML reports (the mismatched entities with served and offline
    values) go to ``<report_dir>/<dag_id>/<run_id>/<task_id>.{json,html}``.

    Args:
        serving_log: the serving log, Delta table or parquet (templated). (Not ``log``: that is the task's logger.)
        offline: the offline feature table, Delta or parquet (templated).
        offline_version: the offline Delta version (templated), e.g. the snapshot the champion trained on.
        log_version: the serving log's Delta version (templated; None: latest).
        contract_path: the data contract: features, keys, event time, tolerances, policy (templated).
        keys: the entity key columns (default: the contract's primary key without date/timestamp columns).
        as_of_column: the offline event-time column (default: the contract's ``role: event_time``, else
            ``feature_date``).
        served_at_column: the log's request-time column.
        log_lookback: compare only the requests of the last ``"24h"`` (say) before the run's moment.
        as_of: the run's moment (ISO 8601 with a zone; templated); default the data interval end, else
            the logical date, else run_after.
        max_examples: examples kept per feature.
        on_insufficient_data: an empty serving log (window): ``"pass"`` (a warning) or ``"fail"``.
        storage_options: object-store options for Delta URIs (prefer ``delta_conn_id``).
        delta_conn_id: a ``delta`` connection whose credentials reach both tables.
        report_dir: base folder or URI for reports (default: ``[parity] report_dir``).

    Example:
        >>> skew = FeatureSkewGateOperator(
        ...     task_id="feature_skew",
        ...     serving_log="s3://lake/serving/feature_log",
        ...     offline="s3://lake/customer_features",
        ...     offline_version="{{ ti.xcom_pull('find_champion')['version'] }}",
        ...     contract_path="contracts/customer_features.yaml",
        ...     log_lookback="24h",
        ... )
    """

    template_fields: Sequence[str] = ("serving_log", "offline", "offline_version", "log_version", "contract_path",
                                      "report_dir", "log_lookback", "as_of")
    gate_kind = "feature_skew"
    ui_color = "#f3e8fd"
    operator_extra_links = (SkewReportLink(),)

    def __init__(
        self,
        *,
        serving_log: str,
        offline: str,
        offline_version: int | str | None = None,
        log_version: int | str | None = None,
        contract_path: str | None = None,
        keys: Sequence[str] | None = None,
        as_of_column: str | None = None,
        served_at_column: str = "served_at",
        log_lookback: str | None = None,
        as_of: str | None = None,
        max_examples: int = 10,
        on_insufficient_data: Literal["pass", "fail"] = "pass",
        storage_options: dict[str, str] | None = None,
        delta_conn_id: str | None = None,
        report_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_insufficient_data not in ("pass", "fail"):
            raise ValueError(f"FeatureSkewGateOperator: on_insufficient_data must be 'pass' or 'fail', "
                             f"got {on_insufficient_data!r}")
        self.serving_log = serving_log
        self.offline = offline
        self.offline_version = offline_version
        self.log_version = log_version
        self.contract_path = contract_path
        self.keys = list(keys) if keys else None
        self.as_of_column = as_of_column
        self.served_at_column = served_at_column
        self.log_lookback = log_lookback
        self.as_of = as_of
        self.max_examples = max_examples
        self.on_insufficient_data = on_insufficient_data
        self.storage_options = storage_options
        self.delta_conn_id = delta_conn_id
        self.report_dir = report_dir
        self._result: SkewResult | None = None

    def _between(self, context: Context) -> tuple[datetime, datetime] | None:
        if not self.log_lookback:
            return None
        from airflow_provider_parity.contracts.model import parse_duration
        from airflow_provider_parity.exceptions import ConfigurationError

        try:
            width = parse_duration(self.log_lookback)
        except ValueError as exc:
            raise ConfigurationError(f"log_lookback: {exc}") from None
        end = run_as_of(context, self.as_of)
        return end - width, end

    def _run(self, context: Context) -> SkewResult:
        from airflow_provider_parity.skew.gate import run_skew

        contract = None
        if self.contract_path:
            from airflow_provider_parity.contracts.loader import load_contract

            contract = load_contract(self.contract_path)
        return run_skew(self.serving_log, self.offline, contract=contract,
                        offline_version=as_version(self.offline_version, "offline_version"),
                        log_version=as_version(self.log_version, "log_version"), keys=self.keys,
                        as_of_column=self.as_of_column, served_at=self.served_at_column,
                        max_examples=self.max_examples, storage_options=self.delta_storage(),
                        served_between=self._between(context))

    def execute(self, context: Context) -> dict[str, Any]:
        # The report link reads this key whatever happens; bad input writes no report.
        context["ti"].xcom_push(key=XCOM_REPORT_HTML, value=None)
        outcome = self.run_gate(context, lambda: self._evaluate(context), dataset=self._log_name())
        return outcome.to_dict()

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.outcomes.convert import from_skew
        from airflow_provider_parity.skew.report import render_html, result_json

        result = self._run(context)
        self._result = result
        json_uri, html_uri = (self.report_uri(context, ".json", self.report_dir),
                              self.report_uri(context, ".html", self.report_dir))
        # Both reports or neither: a reader never finds one without the other.
        self.artifacts.commit({json_uri: result_json(result),
                               html_uri: render_html(result, title=f"Per-entity skew: {self.task_id}")})
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RESULT, value=result.to_dict())
        ti.xcom_push(key=XCOM_REPORT_JSON, value=json_uri)
        ti.xcom_push(key=XCOM_REPORT_HTML, value=html_uri)
        for feat in result.skewed_features:
            self.log.error("skewed %s", feat.summary())
        outcome = from_skew(result, gate=self.gate_kind, on_insufficient_data=self.on_insufficient_data)
        return outcome.with_(reports={"json": json_uri, "html": html_uri})

    def _log_name(self) -> str:
        from airflow_provider_parity.delta.storage import redact_uri

        return redact_uri(self.serving_log)

    # --- OpenLineage: both inputs with their versions; the outcome's checks on the serving log.

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage
        from airflow_provider_parity.delta.storage import redact_uri

        result = self._result
        quality = lineage.outcome_quality_facets(self._outcome) if self._outcome is not None else {}
        log_version = result.log_version if result is not None else _version(self.log_version)
        offline_version = result.offline_version if result is not None else _version(self.offline_version)
        inputs = [lineage.input_dataset(self._log_name(), version=log_version, input_facets=quality),
                  lineage.input_dataset(redact_uri(self.offline), version=offline_version)]
        return lineage.operator_lineage(inputs=inputs,
                                        run_facets={**lineage.error_facets(error), **self.outcome_run_facets()})


def _version(value: int | str | None) -> str | None:
    return None if value in (None, "", "None") else str(value)
