"""DriftGateOperator: block training or promotion when serving data no longer looks like training data."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow_provider_parity.compat import AirflowFailException, BaseOperator
from airflow_provider_parity.exceptions import OperatorArgumentError
from airflow_provider_parity.operators.arguments import check_choice, check_duration, check_number, check_ratios
from airflow_provider_parity.operators.common import (
    XCOM_REPORT_HTML,
    XCOM_REPORT_JSON,
    HtmlReportLink,
    as_version,
    check_source,
    read_sql,
    report_dir,
)

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.drift.result import DriftResult

XCOM_RESULT = "drift_result"
LINEAGE_FACET = "parity_drift"


class DriftReportLink(HtmlReportLink):
    """Opens the HTML drift report the task wrote."""

    name = "Drift report"


class DriftGateOperator(BaseOperator):
    """Compare current data with a training reference; fail the task when it drifted.

    The reference is a pinned Delta snapshot (``reference`` + ``reference_version``)
    or a stored profile (``*.json``, written by ``save_profile`` or ``parity drift
    --save-profile``); a profile path that does not exist yet is a cold start
    (verdict ``no_baseline``). The current data is a Delta table, parquet, or the
    result of ``sql`` through ``conn_id``.

    Writes a JSON result and an HTML report (a plot per drifted feature) to
    ``<report_dir>/<dag_id>/<run_id>/<task_id>.{json,html}``; pushes
    ``drift_result``, ``report_json`` and ``report_html`` to XCom; emits an
    OpenLineage run facet ``parity_drift`` with every feature's score.

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
            run's moment (its data interval end), by ``time_column``: a serving log grows forever.
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
                                      "contract_path", "save_profile", "report_dir", "current_lookback")
    template_fields_renderers: ClassVar[dict[str, str]] = {"sql": "sql"}
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
        self._result: DriftResult | None = None
        self._error: BaseException | None = None

    def _current(self) -> Any:
        if self.sql is None:
            return self.current
        return read_sql(str(self.conn_id), self.sql)

    def _reference(self) -> str | None:
        # A profile that does not exist yet is the first run: no baseline.
        is_profile = self.reference_format == "profile" or (
            self.reference_format == "auto" and bool(self.reference) and str(self.reference).endswith(".json"))
        if self.reference and is_profile and "://" not in self.reference:
            return self.reference if os.path.exists(self.reference) else None
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
            storage_options=self.storage_options, segment_by=self.segment_by, time_column=self.time_column,
            time_window=parse_duration(self.time_window) if self.time_window else None,
            current_between=self._between(context, parse_duration),
        )

    def _between(self, context: Context, parse_duration: Any) -> tuple[datetime, datetime] | None:
        if not self.current_lookback:
            return None
        from airflow_provider_parity.operators.delta import run_moment

        end = run_moment(context)
        return end - parse_duration(self.current_lookback), end

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.drift.report import (
            result_json,
            write_html,
            write_json,
        )
        from airflow_provider_parity.exceptions import DriftDetected, ParityError

        try:
            result, ref_profile = self._run(context)
        except ParityError as exc:
            self._error = exc
            # Bad input does not fix itself on retry: fail now, with the one-line reason.
            raise AirflowFailException(str(exc)) from exc
        self._result = result
        if self.save_profile and ref_profile is not None and self._reference() != self.save_profile:
            ref_profile.save(self.save_profile)
        folder = report_dir(context, self.report_dir)
        json_path = write_json(result, folder / f"{self.task_id}.json")
        html_path = write_html(result, folder / f"{self.task_id}.html", title=f"Drift report: {self.task_id}")
        payload = result_json(result)
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RESULT, value=payload)
        ti.xcom_push(key=XCOM_REPORT_JSON, value=str(json_path))
        ti.xcom_push(key=XCOM_REPORT_HTML, value=str(html_path))
        policy = {"failed": "fail", "no_baseline": result.settings.get("on_no_baseline", "pass"),
                  "insufficient_data": self.on_insufficient_data, "passed": "pass"}[result.verdict]
        if policy == "fail":
            self.log.error("%s", result.message)
            raise AirflowFailException(result.message) from DriftDetected(result.message, result=payload)
        if result.verdict == "passed":
            self.log.info("%s", result.message)
        else:
            self.log.warning("%s: %s", result.verdict, result.message)
        return payload

    # --- OpenLineage ---------------------------------------------------------------

    def _lineage(self, error: BaseException | None = None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage
        from airflow_provider_parity.delta.storage import redact_uri

        inputs = []
        if self.reference:
            inputs.append(lineage.input_dataset(redact_uri(self.reference),
                                                version=_lineage_version(self.reference_version)))
        if self.current:
            inputs.append(lineage.input_dataset(redact_uri(self.current),
                                                version=_lineage_version(self.current_version)))
        run_facets = lineage.error_facets(error)
        if self._result is not None:
            run_facets[LINEAGE_FACET] = drift_run_facet(self._result)
        return lineage.operator_lineage(inputs=inputs, run_facets=run_facets)

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        error = self._error
        if error is None and self._result is not None and self._result.verdict != "passed":
            error = AirflowFailException(self._result.message)
        return self._lineage(error)


def _lineage_version(value: int | str | None) -> str | None:
    return None if value in (None, "", "None") else str(value)


def drift_run_facet(result: DriftResult) -> Any:
    """An OpenLineage run facet with the verdict and every feature's score and threshold."""
    from openlineage.client.facet_v2 import RunFacet

    return RunFacet().with_additional_properties(
        verdict=result.verdict,
        drifted_features=list(result.drifted_features),
        features=[{"name": f.name, "metric": f.metric, "value": f.value, "threshold": f.threshold,
                   "drifted": f.drifted} for f in result.features],
    )
