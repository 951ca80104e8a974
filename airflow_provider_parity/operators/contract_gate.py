"""DataContractGateOperator: block everything downstream when data breaks its contract."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import AirflowFailException, BaseOperator
from airflow_provider_parity.operators.arguments import check_choice, check_number, check_text
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
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.validation.result import ValidationResult

XCOM_RESULT = "validation_result"


class ValidationReportLink(HtmlReportLink):
    """Opens the HTML validation report the task wrote."""

    name = "Validation report"


class DataContractGateOperator(BaseOperator):
    """Validate a dataset against its data contract; fail the task on a violation.

    The contract compiles to a Great Expectations 1.x suite run on an ephemeral context
    (or, with ``engine="arrow"``, the same rules in Arrow compute). A violation fails the
    task, without retries, so downstream training and promotion never run; the message
    names each failed rule, its column, and observed versus expected.

    Pushes to XCom: ``validation_result`` (the full result as JSON data), ``report_json``
    and ``report_html`` (paths). Returns the result as well.

    Args:
        contract_path: the contract YAML file (templated).
        data: a parquet file or folder, a Delta table root or URI (templated), or a callable
            returning a pandas DataFrame or pyarrow Table. Exactly one of ``data`` and ``sql``.
        version: the Delta version to validate (templated; None: latest). Pin it with the
            snapshot operator's XCom, e.g. ``"{{ ti.xcom_pull('pin')['version'] }}"``.
        sql: a query run through ``conn_id`` (a common-sql connection) (templated).
        conn_id: the connection for ``sql``.
        storage_options: object-store options for Delta URIs (prefer a ``delta`` connection).
        environment: ``"training"`` or ``"serving"``: expect only that side's columns.
        engine: ``"gx"`` (default) or ``"arrow"``.
        warn_only: report a violation as a warning and let downstream tasks run.
        report_dir: base folder for reports (default: the ``[parity] report_dir`` option).
    """

    template_fields: Sequence[str] = ("contract_path", "data", "version", "sql", "report_dir")
    template_fields_renderers = {"sql": "sql"}
    ui_color = "#e8f4ea"
    operator_extra_links = (ValidationReportLink(),)

    def __init__(
        self,
        *,
        contract_path: str,
        data: str | Callable[[], Any] | None = None,
        version: int | str | None = None,
        sql: str | None = None,
        conn_id: str | None = None,
        storage_options: dict[str, str] | None = None,
        environment: Literal["training", "serving"] | None = None,
        engine: Literal["gx", "arrow"] = "gx",
        warn_only: bool = False,
        report_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        name = "DataContractGateOperator"
        check_source(name, "data", data, sql, conn_id)
        check_text(name, "contract_path", contract_path)
        check_choice(name, "engine", engine, ("gx", "arrow"))
        check_choice(name, "environment", environment, (None, "training", "serving"))
        check_number(name, "version", version)
        self.contract_path = contract_path
        self.data = data
        self.version = version
        self.sql = sql
        self.conn_id = conn_id
        self.storage_options = storage_options
        self.environment = environment
        self.engine = engine
        self.warn_only = warn_only
        self.report_dir = report_dir
        self._result: ValidationResult | None = None
        self._source: str | None = None
        self._schema: list[tuple[str, str]] | None = None

    def _load(self) -> Any:
        from airflow_provider_parity.validation.sources import LoadedData, load_data

        if self.sql is not None:
            return LoadedData(read_sql(str(self.conn_id), self.sql), f"{self.conn_id}:{self.sql}", None, "sql")
        return load_data(self.data, version=as_version(self.version), storage_options=self.storage_options)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.contracts.loader import load_contract
        from airflow_provider_parity.exceptions import ParityError
        from airflow_provider_parity.validation.report import write_reports
        from airflow_provider_parity.validation.validate import validate_table

        ti = context["ti"]
        # The report link reads this key whatever happens; bad input writes no report.
        ti.xcom_push(key=XCOM_REPORT_HTML, value=None)
        try:
            contract = load_contract(self.contract_path)
            loaded = self._load()
            self._source = loaded.source
            self._schema = [(f.name, str(f.type)) for f in loaded.table.schema]
            result = validate_table(contract, loaded.table, source=loaded.source, version=loaded.version,
                                    environment=self.environment, engine=self.engine,
                                    now=context.get("data_interval_end") or None, warn_only=self.warn_only)
        except ParityError as exc:
            # Bad input will not fix itself on retry: fail now, with the one-line reason.
            raise AirflowFailException(str(exc)) from exc
        folder = report_dir(context, self.report_dir)
        write_reports(result, json_path=folder / f"{self.task_id}.json", html_path=folder / f"{self.task_id}.html")
        self._result = result
        payload = result.to_dict()
        ti.xcom_push(key=XCOM_RESULT, value=payload)
        ti.xcom_push(key=XCOM_REPORT_JSON, value=result.report_json)
        ti.xcom_push(key=XCOM_REPORT_HTML, value=result.report_html)
        if result.success:
            self.log.info("%s", result.summary())
        elif self.warn_only:
            self.log.warning("warn-only: %s", result.summary())
        else:
            self.log.error("%s", result.summary())
            for rule in result.failures:
                self.log.error("failed rule %s", rule.message())
            raise AirflowFailException(result.summary())
        return payload

    # --- OpenLineage ---------------------------------------------------------------

    def _lineage(self, error: BaseException | None = None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        source = self._source or (self.data if isinstance(self.data, str) else None)
        if source is None:
            return lineage.operator_lineage(run_facets=lineage.error_facets(error))
        result = self._result
        quality = {}
        if result is not None:
            quality = lineage.quality_input_facets(result.lineage_assertions(), row_count=result.row_count,
                                                   column_metrics=result.column_metrics)
        dataset = lineage.input_dataset(source, version=None if result is None else result.version,
                                        schema=self._schema, input_facets=quality)
        return lineage.operator_lineage(inputs=[dataset], run_facets=lineage.error_facets(error))

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        error = AirflowFailException(self._result.summary()) if self._result and not self._result.success else None
        return self._lineage(error)
