"""MaterializeOperator: the pinned, contract-clean Delta version into the online store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.operators.arguments import check_text
from airflow_provider_parity.operators.base import LineageMixin, guard
from airflow_provider_parity.operators.common import as_version
from airflow_provider_parity.operators.delta import _DeltaTableMixin, load_contract_param

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_parity.compat import Context
    from airflow_provider_parity.contracts.model import Contract


class MaterializeOperator(LineageMixin, _DeltaTableMixin, BaseOperator):
    """Write the newest row per entity of one pinned Delta version into the online store.

    Place it after the contract gate on the same version: the online path then serves only
    versions that passed. Idempotent: when the store already holds this version of the view the
    task does nothing, so a retry or a cleared task never rewrites or mixes versions. Lineage: the
    Delta table at ``version`` in, the online store's feature view out.

    Args:
        table: the Delta feature table, or a name under the connection's root (templated).
        version: the pinned version (templated), e.g. ``{{ ti.xcom_pull('pin')['version'] }}``.
        contract_path: the data contract: entity key, served columns, event time (templated).
        online_store: ``sqlite:///PATH`` or ``redis://HOST:PORT/DB`` (templated).
        delta_conn_id: a ``delta`` connection for the table (None: a local path).

    Returns (XCom ``return_value``):
        ``{"view", "version", "entities", "skipped"}``.

    Example:
        >>> MaterializeOperator(task_id="materialize", table="/lake/customer_features",
        ...                     version="{{ ti.xcom_pull('write_features')['version'] }}",
        ...                     contract_path="contracts/customer_features.yaml",
        ...                     online_store="sqlite:////var/parity/online.db")
    """

    template_fields: Sequence[str] = ("table", "version", "contract_path", "online_store")
    ui_color = "#d5f5e3"

    def __init__(self, *, table: str, version: int | str, contract_path: str | Contract, online_store: str,
                 delta_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_text("MaterializeOperator", "table", table)
        check_text("MaterializeOperator", "online_store", online_store)
        self.table, self.version, self.contract_path = table, version, contract_path
        self.online_store, self.delta_conn_id = online_store, delta_conn_id
        self._done: dict[str, Any] | None = None
        _mask_password(online_store)

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.serving.online_store import materialize, open_store

        with guard(self):
            version = as_version(self.version)
            contract = load_contract_param(self.contract_path)
            if version is None or contract is None:
                raise ConfigurationError("MaterializeOperator: version and contract_path are required")
            store = open_store(self.online_store)
            try:
                done = materialize(self._table_uri(), version, contract, store, storage_options=self._storage_options())
            finally:
                store.close()
        self._done = done.to_dict()
        self.log.info("%s %s version %s: %s entities", "Already materialised" if done.skipped else "Materialised",
                      done.view, done.version, done.entities)
        return self._done

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import error_facets, input_dataset, operator_lineage, output_dataset
        from airflow_provider_parity.tracking.client import safe_uri

        version = self._done["version"] if self._done else as_version(self.version) if error is None else None
        view = self._done["view"] if self._done else "features"
        # safe_uri: a Redis URL may carry a password, which must not reach a lineage event.
        return operator_lineage(inputs=[input_dataset(self._lineage_uri(), version=version)],
                                outputs=[output_dataset(f"{safe_uri(self.online_store).rstrip('/')}/{view}",
                                                        version=version)],
                                run_facets=error_facets(error))


def _mask_password(uri: str) -> None:
    """Register a Redis URL's password with Airflow's masker before the field is rendered and shown in the UI."""
    from urllib.parse import urlsplit

    try:
        password = urlsplit(uri).password
    except ValueError:
        return
    if password:
        from airflow.sdk.log import mask_secret

        mask_secret(password)
