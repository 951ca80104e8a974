"""DriftGateOperator: block training or promotion when serving data no longer looks like training data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.exceptions import OperatorArgumentError
from airflow_provider_parity.operators.arguments import check_choice, check_duration, check_number, check_ratios
from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.common import (
    XCOM_REPORT_HTML,
    XCOM_REPORT_JSON,
    HtmlReportLink,
    as_version,
    check_source,
    read_sql,
    run_as_of,
)

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.drift.result import DriftResult
    from airflow_provider_parity.outcomes.model import GateOutcome

XCOM_RESULT = "drift_result"


class DriftReportLink(HtmlReportLink):
    """Opens the HTML drift report the task wrote."""

    name = "Drift report"


class DriftGateOperator(GateMixin, BaseOperator):
    """Compare current data with a training reference; fail the task when it drifted.

    The reference is a pinned Delta snapshot (``reference`` + ``reference_version``)
    or a stored profile (``*.json``, written by ``save_profile`` or ``parity drift
    --save-profile``); a profile path that does not exist yet is a cold start
    (verdict ``no_baseline``). The current data is a Delta table, parquet, or the
    result of ``sql`` through ``conn_id``.

    Writes a JSON result and an HTML report (a plot per drifted feature) to
    ``<report_dir>/<dag_id>/<run_id>/<task_id>.{json,html}`` (a folder or object storage);
    the task's value is its gate outcome (XCom ``return_value`` and ``parity_outcome``, also
    appended to the results ledger); the detailed result is XCom ``drift_result``. OpenLineage
    events carry the outcome (``parity_outcome`` run facet, one check per feature) on success
    and on failure.

    Args:
        reference: Delta table root or URI, parquet, or profile ``.json`` (templated).
        current: Delta table, or parquet (templated). Exactly one of ``current`` and ``sql``.
        sql: a query whose result is the current data (templated).
        conn_id: a common-sql connection for ``sql``.
        reference_version: Delta version of the reference (templated), e.g. the snapshot pin.
        current_version: Delta version of the current data (templated; None: latest).
        contract_path: the data contract: features, kinds and thresholds (templated).
        storage_options: object-store options for Delta URIs.
        segment_by: also compare per value of this column.
        time_column: with ``time_window``, also compare per time window, e.g. ``"1d"``.
        time_window: window width (``"6h"``, ``"1d"``).
        current_lookback: compare only the current rows of the last ``"24h"`` (say) before the
            run's moment (``as_of``), by ``time_column``: a serving log grows forever.
        as_of: the run's moment (ISO 8601 with a zone; templated); default the data interval end,
            else the logical date, else run_after.
        delta_conn_id: a ``delta`` connection whose credentials reach Delta tables on object storage.
        engine: ``"arrow"`` (default) profiles both sides in the worker; ``"spark"`` profiles them on
            a Spark session, partition by partition, with the same numbers (for tables one worker
            cannot scan in time).
        spark_conn_id: a ``parity_spark`` connection for ``engine="spark"`` (default: the active
            session, else a local one).
        feature_importance: the model's feature importances, to weight the attribution.
        sample_size_aware: raise PSI thresholds to the chi-square critical value.
        on_no_baseline: override the contract's cold-start policy.
        on_insufficient_data: ``"pass"`` (log a warning) or ``"fail"``.
        save_profile: store the reference profile here (templated) when it was computed.
        report_dir: base folder for reports (default: the ``[parity] report_dir`` option).
        reference_format: what ``reference`` is; ``auto`` takes ``*.json`` for a profile and a
            local folder with ``_delta_log`` for Delta. Say ``delta`` for object-store tables.
        current_format: what ``current`` is, as for ``reference_format``.

    Example:
        >>> gate = DriftGateOperator(
        ...     task_id="drift_gate",
        ...     reference="s3://lake/customer_features",
        ...     reference_version="{{ ti.xcom_pull('pin_training')['version'] }}",
        ...     current="s3://lake/serving_log",
        ...     reference_format="delta",
        ...     current_format="delta",
        ...     contract_path="contracts/customer_features.yaml",
        ...     feature_importance={"tenure_days": 0.4, "plan": 0.2},
        ... )
        >>> gate >> train
    """

    template_fields: Sequence[str] = ("reference", "current", "sql", "reference_version", "current_version",
                                      "contract_path", "save_profile", "report_dir", "current_lookback", "as_of")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql"}
    gate_kind = "drift"
    ui_color = "#fdf1e6"
    operator_extra_links = (DriftReportLink(),)

    def __init__(
        self,
        *,
        reference: str | None,
        current: str | None = None,
        sql: str | None = None,
        conn_id: str | None = None,
        reference_version: int | str | None = None,
        current_version: int | str | None = None,
        contract_path: str | None = None,
        storage_options: dict[str, str] | None = None,
        segment_by: str | None = None,
        time_column: str | None = None,
        time_window: str | None = None,
        current_lookback: str | None = None,
        feature_importance: dict[str, float] | None = None,
        sample_size_aware: bool = False,
        on_no_baseline: Literal["pass", "fail"] | None = None,
        on_insufficient_data: Literal["pass", "fail"] = "pass",
        save_profile: str | None = None,
        report_dir: str | None = None,
        reference_format: Literal["auto", "parquet", "delta", "profile"] = "auto",
        current_format: Literal["auto", "parquet", "delta"] = "auto",
        as_of: str | None = None,
        delta_conn_id: str | None = None,
        gate_kind: str | None = None,
        engine: Literal["arrow", "spark"] = "arrow",
        spark_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        name = "DriftGateOperator"
        check_source(name, "current", current, sql, conn_id)
        check_number(name, "reference_version", reference_version)
        check_number(name, "current_version", current_version)
        check_duration(name, "time_window", time_window)
        check_duration(name, "current_lookback", current_lookback)
        if (time_window or current_lookback) and not time_column:
            raise OperatorArgumentError(f"{name}: time_window= and current_lookback= need time_column=")
        check_choice(name, "on_no_baseline", on_no_baseline, (None, "pass", "fail"))
        check_choice(name, "on_insufficient_data", on_insufficient_data, ("pass", "fail"))
        check_choice(name, "reference_format", reference_format, ("auto", "parquet", "delta", "profile"))
        check_choice(name, "current_format", current_format, ("auto", "parquet", "delta"))
        check_choice(name, "engine", engine, ("arrow", "spark"))
        if spark_conn_id and engine != "spark":
            raise OperatorArgumentError(f"{name}: spark_conn_id= needs engine='spark'")
        check_ratios(name, "feature_importance", feature_importance, upper=None)
        self.reference = reference
        self.current = current
        self.sql = sql
        self.conn_id = conn_id
        self.reference_version = reference_version
        self.current_version = current_version
        self.contract_path = contract_path
        self.storage_options = storage_options
        self.segment_by = segment_by
        self.time_column = time_column
        self.time_window = time_window
        self.current_lookback = current_lookback
        self.feature_importance = feature_importance
        self.sample_size_aware = sample_size_aware
        self.on_no_baseline = on_no_baseline
        self.on_insufficient_data = on_insufficient_data
        self.save_profile = save_profile
        self.report_dir = report_dir
        self.reference_format = reference_format
        self.current_format = current_format
        self.as_of = as_of
        self.delta_conn_id = delta_conn_id
        self.engine = engine
        self.spark_conn_id = spark_conn_id
        if gate_kind:
            self.gate_kind = gate_kind
        self._result: DriftResult | None = None

    def _current(self) -> Any:
        if self.sql is None:
            return self.current
        return read_sql(str(self.conn_id), self.sql)

    def _reference(self) -> str | None:
        # A profile that does not exist yet (locally or on object storage) is the first run: no baseline.
        is_profile = self.reference_format == "profile" or (
            self.reference_format == "auto" and bool(self.reference) and str(self.reference).endswith(".json"))
        if self.reference and is_profile:
            return self.reference if self.artifacts.exists(self.reference) else None
        return self.reference or None

    def _settings(self, contract: Any) -> Any:
        from airflow_provider_parity.drift.compare import DriftSettings

        overrides: dict[str, Any] = {"sample_size_aware": self.sample_size_aware,
                                     "importance": dict(self.feature_importance or {})}
        if self.on_no_baseline is not None:
            overrides["on_no_baseline"] = self.on_no_baseline
        return DriftSettings.from_contract(contract, **overrides) if contract else DriftSettings(**overrides)

    def _run(self, context: Context) -> tuple[DriftResult, Any]:
        from airflow_provider_parity.contracts.model import parse_duration
        from airflow_provider_parity.drift.gate import run_drift

        contract = None
        if self.contract_path:
            from airflow_provider_parity.contracts.loader import load_contract

            contract = load_contract(self.contract_path)
        return run_drift(
            self._reference(), self._current(), contract=contract, settings=self._settings(contract),
            reference_version=as_version(self.reference_version, "reference_version"),
            current_version=as_version(self.current_version, "current_version"),
            reference_kind=self.reference_format, current_kind=self.current_format,
            storage_options=self.delta_storage(), segment_by=self.segment_by, time_column=self.time_column,
            time_window=parse_duration(self.time_window) if self.time_window else None,
            current_between=self._between(context, parse_duration),
            engine=self.engine, spark=self._spark(),
        )

    def _spark(self) -> Any:
        if self.engine != "spark" or not self.spark_conn_id:
            return None  # run_drift takes the active session, else starts a local one
        from airflow_provider_parity.hooks.spark import SparkSessionHook

        return SparkSessionHook(self.spark_conn_id).get_conn()

    def _between(self, context: Context, parse_duration: Any) -> tuple[datetime, datetime] | None:
        if not self.current_lookback:
            return None
        end = run_as_of(context, self.as_of)
        return end - parse_duration(self.current_lookback), end

    def execute(self, context: Context) -> dict[str, Any]:
        outcome = self.run_gate(context, lambda: self._evaluate(context), dataset=self.current)
        return outcome.to_dict()

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.drift.report import render_html, result_json
        from airflow_provider_parity.outcomes.convert import from_drift

        result, ref_profile = self._run(context)
        self._result = result
        if self.save_profile and ref_profile is not None and self._reference() != self.save_profile:
            self.artifacts.write_json(self.save_profile, ref_profile.to_dict())
        payload = result_json(result)
        json_uri, html_uri = self.report_uri(context, ".json", self.report_dir), self.report_uri(
            context, ".html", self.report_dir)
        self.artifacts.commit({json_uri: json.dumps(payload, indent=2, sort_keys=True),
                               html_uri: render_html(result, title=f"Drift report: {self.task_id}")})
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RESULT, value=payload)
        ti.xcom_push(key=XCOM_REPORT_JSON, value=json_uri)
        ti.xcom_push(key=XCOM_REPORT_HTML, value=html_uri)
        outcome = from_drift(result, gate=self.gate_kind,
                             on_no_baseline=result.settings.get("on_no_baseline", "pass"),
                             on_insufficient_data=self.on_insufficient_data,
                             dataset=self._current_name(), version=as_version(self.current_version, "current_version"))
        return outcome.with_(reports={"json": json_uri, "html": html_uri})

    def _current_name(self) -> str | None:
        from airflow_provider_parity.delta.storage import redact_uri

        return redact_uri(self.current) if self.current else f"{self.conn_id}:{self.sql}"

    # --- OpenLineage: both sides with their versions, and the outcome (one check per feature).

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage
        from airflow_provider_parity.delta.storage import redact_uri

        inputs = []
        if self.reference:
            inputs.append(lineage.input_dataset(redact_uri(self.reference),
                                                version=_lineage_version(self.reference_version)))
        if self.current:
            quality = lineage.outcome_quality_facets(self._outcome) if self._outcome is not None else {}
            inputs.append(lineage.input_dataset(redact_uri(self.current), version=self._current_version(),
                                                input_facets=quality))
        return lineage.operator_lineage(inputs=inputs,
                                        run_facets={**lineage.error_facets(error), **self.outcome_run_facets()})

    def _current_version(self) -> str | None:
        """The current side's Delta version: the one given, else the latest, read once the gate ran."""
        explicit = _lineage_version(self.current_version)
        if explicit is not None or self._result is None or not self.current:
            return explicit
        source = self._result.current or ""
        return source.rsplit("@v", 1)[1].split(" ", 1)[0] if "@v" in source else None


def _lineage_version(value: int | str | None) -> str | None:
    return None if value in (None, "", "None") else str(value)
