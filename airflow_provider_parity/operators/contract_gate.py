"""DataContractGateOperator: block everything downstream when data breaks its contract."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.operators.arguments import check_choice, check_number, check_references, check_text
from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.common import (
    XCOM_REPORT_HTML,
    XCOM_REPORT_JSON,
    HtmlReportLink,
    as_version,
    check_source,
    open_sql,
    run_as_of,
)

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.outcomes.model import GateOutcome
    from airflow_provider_parity.validation.result import ValidationResult

XCOM_RESULT = "validation_result"


class ValidationReportLink(HtmlReportLink):
    """Opens the HTML validation report the task wrote."""

    name = "Validation report"


class DataContractGateOperator(GateMixin, BaseOperator):
    """Validate a dataset against its data contract; fail the task on a violation.

    The contract's rules compile to SQL that DuckDB runs where the data lies (a parquet file
    or folder, a Delta table, an Arrow table), or, with ``engine="gx"``, to a Great Expectations
    1.x suite on an ephemeral context, or with ``engine="arrow"`` to Arrow compute: the same
    verdict and counts from each. A violation fails the
    task, without retries, so downstream training and promotion never run; the message
    names each failed rule, its column, and observed versus expected.

    The task's value is its :class:`~airflow_provider_parity.outcomes.model.GateOutcome`
    (XCom ``return_value`` and ``parity_outcome``), also appended to the results ledger.
    The detailed result is XCom ``validation_result``; ``report_json`` and ``report_html``
    are the reports' URIs under ``[parity] report_dir`` (a folder or object storage).

    Args:
        contract_path: the contract YAML file (templated).
        data: a parquet file or folder, a Delta table root or URI (templated). Exactly one of
            ``data`` and ``sql``. A callable is called by Airflow when it renders templates,
            with ``context=`` and ``jinja_env=`` keywords, and must return a pandas DataFrame
            or pyarrow Table.
        version: the Delta version to validate (templated; None: latest). Pin it with the
            snapshot operator's XCom, e.g. ``"{{ ti.xcom_pull('pin')['version'] }}"``.
        sql: a query run through ``conn_id`` (a common-sql connection) (templated).
        conn_id: the connection for ``sql``.
        delta_conn_id: a ``delta`` connection for a Delta table on object storage.
        storage_options: object-store options for Delta URIs (prefer ``delta_conn_id``).
        environment: ``"training"`` or ``"serving"``: expect only that side's columns.
        engine: ``"duckdb"`` (default), ``"gx"``, ``"arrow"`` or ``"spark"`` (the DuckDB engine's
            SQL transpiled to Spark SQL, a Delta table read by delta-spark). With ``sql`` on a
            PostgreSQL connection, the default engine runs the compiled rules in that database (only
            counts and samples come back); otherwise the query's rows are fetched and then checked.
        spark_conn_id: a ``parity_spark`` connection for ``engine="spark"`` (default: the active
            session, else a local one).
        references: the data of the datasets the contract's ``references`` (foreign key) rules
            point at, by dataset name: ``{"customers": "s3://lake/customers"}`` (templated).
        warn_only: report a violation as a warning and let downstream tasks run.
        as_of: the moment freshness is judged against (ISO 8601 with a zone; templated). Default:
            the run's data interval end, else its logical date, else run_after. DAGs that process
            a day pass the end of that day, so every freshness judgement of a run uses one "now".
        report_dir: base folder or URI for reports (default: the ``[parity] report_dir`` option).
    """

    gate_kind = "contract"
    template_fields: Sequence[str] = ("contract_path", "data", "version", "sql", "report_dir", "as_of", "references")
    template_fields_renderers = {"sql": "sql"}
    ui_color = "#e8f4ea"
    operator_extra_links = (ValidationReportLink(),)

    def __init__(
        self,
        *,
        contract_path: str,
        data: str | Callable[..., Any] | None = None,
        version: int | str | None = None,
        sql: str | None = None,
        conn_id: str | None = None,
        delta_conn_id: str | None = None,
        storage_options: dict[str, str] | None = None,
        environment: Literal["training", "serving"] | None = None,
        engine: Literal["duckdb", "gx", "arrow", "spark"] = "duckdb",
        spark_conn_id: str | None = None,
        references: dict[str, str] | None = None,
        warn_only: bool = False,
        as_of: str | None = None,
        report_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        name = "DataContractGateOperator"
        check_source(name, "data", data, sql, conn_id)
        check_text(name, "contract_path", contract_path)
        check_choice(name, "engine", engine, ("duckdb", "gx", "arrow", "spark"))
        check_choice(name, "environment", environment, (None, "training", "serving"))
        check_number(name, "version", version)
        check_references(name, "references", references)
        self.references = references
        self.contract_path = contract_path
        self.data = data
        self.version = version
        self.sql = sql
        self.conn_id = conn_id
        self.delta_conn_id = delta_conn_id
        self.storage_options = storage_options
        self.environment = environment
        self.engine = engine
        self.spark_conn_id = spark_conn_id
        self.warn_only = warn_only
        self.as_of = as_of
        self.report_dir = report_dir
        self._result: ValidationResult | None = None
        self._source: str | None = None
        self._schema: list[tuple[str, str]] | None = None

    def _load(self) -> Any:
        from airflow_provider_parity.validation.validate import open_data

        if self.engine == "spark" and self.spark_conn_id:
            from airflow_provider_parity.hooks.spark import SparkSessionHook

            SparkSessionHook(self.spark_conn_id).get_conn()  # getOrCreate: the session the engine then uses
        if self.sql is not None:
            return open_sql(str(self.conn_id), self.sql, engine=self.engine)
        return open_data(self.data, engine=self.engine, version=as_version(self.version),
                         storage_options=self.delta_storage())

    def execute(self, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        # The report link reads this key whatever happens; bad input writes no report.
        ti.xcom_push(key=XCOM_REPORT_HTML, value=None)
        as_of = run_as_of(context, self.as_of)
        dataset = self.data if isinstance(self.data, str) else None
        outcome = self.run_gate(context, lambda: self._evaluate(context, as_of), dataset=dataset,
                                as_of=as_of.isoformat())
        return outcome.to_dict()

    def _evaluate(self, context: Context, as_of: Any) -> GateOutcome:
        from airflow_provider_parity.contracts.loader import load_contract
        from airflow_provider_parity.outcomes.convert import from_validation
        from airflow_provider_parity.validation.report import render_html
        from airflow_provider_parity.validation.validate import validate_data

        contract = load_contract(self.contract_path)
        loaded = self._load()
        self._source = loaded.source
        self._schema = [(f.name, str(f.type)) for f in loaded.schema]
        result = validate_data(contract, loaded, environment=self.environment, engine=self.engine, now=as_of,
                               warn_only=self.warn_only, references=self.references)
        result.report_json = self.report_uri(context, ".json", self.report_dir)
        result.report_html = self.report_uri(context, ".html", self.report_dir)
        # Both reports or neither: a reader never finds one without the other.
        self.artifacts.commit({result.report_json: json.dumps(result.to_dict(), indent=2, default=str),
                               result.report_html: render_html(result)})
        self._result = result
        ti = context["ti"]
        ti.xcom_push(key=XCOM_RESULT, value=result.to_dict())
        ti.xcom_push(key=XCOM_REPORT_JSON, value=result.report_json)
        ti.xcom_push(key=XCOM_REPORT_HTML, value=result.report_html)
        if not result.success:
            for rule in result.failures:
                self.log.error("failed rule %s", rule.message())
        return from_validation(result, as_of=as_of.isoformat(), fingerprint=getattr(loaded, "fingerprint", None))

    # --- OpenLineage: the input with its version, schema and quality facets (also when it failed).

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage
        from airflow_provider_parity.delta.storage import redact_uri

        source = self._source or (self.data if isinstance(self.data, str) else None)
        run_facets = {**lineage.error_facets(error), **self.outcome_run_facets()}
        if source is None:
            return lineage.operator_lineage(run_facets=run_facets)
        result = self._result
        quality = {}
        if self._outcome is not None and result is not None:
            quality = lineage.outcome_quality_facets(self._outcome, row_count=result.row_count,
                                                     column_metrics=result.column_metrics)
        dataset = lineage.input_dataset(source, version=None if result is None else result.version,
                                        schema=self._schema, input_facets=quality)
        parents = [lineage.input_dataset(redact_uri(uri)) for uri in (self.references or {}).values()]
        return lineage.operator_lineage(inputs=[dataset, *parents], run_facets=run_facets)
