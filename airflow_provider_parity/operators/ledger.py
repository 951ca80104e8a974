"""CompactLedgerOperator: keeps the results ledger fast to read as it grows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.operators.arguments import check_text
from airflow_provider_parity.operators.base import LineageMixin, guard, ledger_uri, storage_options

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_parity.compat import Context


class CompactLedgerOperator(LineageMixin, BaseOperator):
    """Compact the results ledger and refresh its rollup (:func:`outcomes.ledger.compact_ledger`).

    Every gate outcome is its own small Delta commit, so a year of daily runs is thousands of files
    and the Parity view, ``parity slo`` and the metrics endpoint would open each. Run it once a day
    (the reference bundle does, at the end of ``feature_pipeline`` whatever its gates decided):
    readers keep working meanwhile (Delta's snapshot isolation), and a read through the rollup
    gives the same rows as one through the table (tested).

    Args:
        ledger: the ledger's Delta table (templated); default ``[parity] ledger_uri``.

    Returns (XCom ``return_value``):
        delta-rs' compaction metrics (``numFilesAdded``, ``numFilesRemoved``, ...) and the ledger's
        ``version`` after it.
    """

    template_fields: Sequence[str] = ("ledger",)
    ui_color = "#eef2f7"

    def __init__(self, *, ledger: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_text("CompactLedgerOperator", "ledger", ledger, optional=True)
        self.ledger = ledger
        self._version: int | None = None

    def _uri(self) -> str:
        return self.ledger or ledger_uri()

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.outcomes.ledger import compact_ledger

        with guard(self):
            metrics = compact_ledger(self._uri(), storage_options=storage_options())
        self._version = metrics["version"]
        self.log.info("ledger %s compacted: %s files removed, %s added", self._uri(),
                      metrics.get("numFilesRemoved"), metrics.get("numFilesAdded"))
        return metrics

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.delta.storage import redact_uri
        from airflow_provider_parity.lineage import error_facets, input_dataset, operator_lineage, output_dataset

        # The same rows in and out: the table is rewritten in place, in fewer files.
        name = redact_uri(self._uri())
        return operator_lineage(inputs=[input_dataset(name)], outputs=[output_dataset(name, version=self._version)],
                                run_facets=error_facets(error))

