"""LabelQualityGateOperator: block retraining when the annotators do not agree on the labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.operators.arguments import check_equalities
from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.common import XCOM_REPORT_HTML, XCOM_REPORT_JSON, HtmlReportLink, as_version

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.labels.gate import LabelQualityResult
    from airflow_provider_parity.outcomes.model import GateOutcome


class LabelQualityReportLink(HtmlReportLink):
    """Opens the HTML label-quality report the task wrote."""

    name = "Label quality report"


class LabelQualityGateOperator(GateMixin, BaseOperator):
    """Judge the annotations of a labelled dataset against its contract's ``labels`` section.

    Computes Cohen's kappa per annotator pair, Fleiss' kappa, Krippendorff's alpha (nominal or
    ordinal, missing ratings allowed), per-class and per-annotator kappa, the share of conflicting
    items and, when given, the label drift against the last training set and the share of items
    whose identical features carry different labels. Each threshold the contract sets is one check;
    a failed one fails the task without retry, the reason naming the worst annotator (and the class
    they confuse) and the worst class.

    The task's value is its :class:`~airflow_provider_parity.outcomes.model.GateOutcome` (XCom
    ``return_value`` and ``parity_outcome``), also appended to the results ledger. The JSON and HTML
    reports (``report_json`` and ``report_html`` XComs) hold every statistic, the worst annotators and
    classes and a sample of conflicting items for audit; they are written together or not at all.

    Args:
        contract_path: a contract with a ``labels`` section (templated).
        annotations: the annotations: a parquet file or folder, a Delta table root or URI (templated), or
            a callable returning an Arrow table or pandas DataFrame.
        annotations_version: the Delta version of the annotations (templated; None: latest).
        reference: the last training set, whose label column is the reference distribution (templated).
        reference_version: its Delta version (templated), e.g. the training pin.
        features: the labelled items' features: the items' key and the contract's feature columns (templated).
        features_version: its Delta version (templated).
        features_where: keep the features' rows whose columns equal these values (templated), e.g.
            ``{"feature_date": "{{ ds }}"}`` when the table holds every day's features.
        delta_conn_id: a ``delta`` connection for Delta tables on object storage.
        storage_options: object-store options (prefer ``delta_conn_id``).
        report_dir: base folder or URI for reports (default: the ``[parity] report_dir`` option).

    Example:
        >>> labels = LabelQualityGateOperator(
        ...     task_id="label_gate",
        ...     contract_path="contracts/churn_labels.yaml",
        ...     annotations="s3://lake/churn_annotations",
        ...     reference="s3://lake/churn_training",
        ...     reference_version="{{ ti.xcom_pull('pin_training')['version'] }}",
        ... )
        >>> labels >> train
    """

    gate_kind = "labels"
    template_fields: Sequence[str] = ("contract_path", "annotations", "annotations_version", "reference",
                                      "reference_version", "features", "features_version", "features_where", "report_dir")
    ui_color = "#eef0fb"
    operator_extra_links = (LabelQualityReportLink(),)

    def __init__(
        self,
        *,
        contract_path: str,
        annotations: str | Callable[..., Any],
        annotations_version: int | str | None = None,
        reference: str | None = None,
        reference_version: int | str | None = None,
        features: str | None = None,
        features_version: int | str | None = None,
        features_where: dict[str, Any] | None = None,
        delta_conn_id: str | None = None,
        storage_options: dict[str, str] | None = None,
        report_dir: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.contract_path = contract_path
        self.annotations = annotations
        self.annotations_version = annotations_version
        self.reference = reference
        self.reference_version = reference_version
        self.features = features
        self.features_version = features_version
        check_equalities("LabelQualityGateOperator", "features_where", features_where)
        self.features_where = features_where
        self.delta_conn_id = delta_conn_id
        self.storage_options = storage_options
        self.report_dir = report_dir
        self._result: LabelQualityResult | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        # The report link reads this key whatever happens; bad input writes no report.
        context["ti"].xcom_push(key=XCOM_REPORT_HTML, value=None)
        outcome = self.run_gate(context, lambda: self._evaluate(context), dataset=self._name(self.annotations))
        return outcome.to_dict()

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.contracts.loader import load_contract
        from airflow_provider_parity.labels.gate import run_labels
        from airflow_provider_parity.labels.report import report_files

        # Again once rendered: a template of the whole mapping must have rendered to one.
        check_equalities("LabelQualityGateOperator", "features_where", self.features_where)
        result = run_labels(load_contract(self.contract_path), self.annotations,
                            version=as_version(self.annotations_version, "annotations_version"),
                            reference=self.reference or None,
                            reference_version=as_version(self.reference_version, "reference_version"),
                            features=self.features or None,
                            features_version=as_version(self.features_version, "features_version"),
                            features_where=self.features_where,
                            storage_options=self.delta_storage())
        self._result = result
        json_uri, html_uri = (self.report_uri(context, ".json", self.report_dir),
                              self.report_uri(context, ".html", self.report_dir))
        self.artifacts.commit(report_files(result, json_uri=json_uri, html_uri=html_uri,
                                           title=f"Label quality: {self.task_id}"))
        ti = context["ti"]
        ti.xcom_push(key=XCOM_REPORT_JSON, value=json_uri)
        ti.xcom_push(key=XCOM_REPORT_HTML, value=html_uri)
        return result.outcome().with_(reports={"json": json_uri, "html": html_uri})

    @staticmethod
    def _name(value: Any) -> str | None:
        from airflow_provider_parity.delta.storage import redact_uri

        return redact_uri(value) if isinstance(value, str) and value else None

    # --- OpenLineage: the annotations with their version and quality facets; the reference and features read.

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        run_facets = {**lineage.error_facets(error), **self.outcome_run_facets()}
        inputs = []
        annotations = self._name(self.annotations)
        if annotations:
            result = self._result
            quality = {} if self._outcome is None else lineage.outcome_quality_facets(
                self._outcome, row_count=result.ratings if result else None)
            version = result.version if result is not None else _version_text(self.annotations_version)
            inputs.append(lineage.input_dataset(annotations, version=version, input_facets=quality))
        for uri, version in ((self.reference, self.reference_version), (self.features, self.features_version)):
            name = self._name(uri)
            if name:
                inputs.append(lineage.input_dataset(name, version=_version_text(version)))
        return lineage.operator_lineage(inputs=inputs, run_facets=run_facets)


def _version_text(value: int | str | None) -> str | None:
    # Lineage never raises: a version templating left unusable is simply not named.
    return None if value in (None, "", "None") else str(value)
