"""Operators over Delta tables: pin a snapshot, write a version, gate on completeness.

Thin Airflow face over :mod:`airflow_provider_parity.delta`; heavy libraries are
imported inside ``execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.exceptions import OperatorArgumentError
from airflow_provider_parity.operators.arguments import check_choice, check_names, check_number, check_ratios, check_text
from airflow_provider_parity.operators.common import as_version

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_parity.compat import Context
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.delta.snapshot import Snapshot

PinMode = Literal["as_of", "latest", "version"]


def run_moment(context: Context) -> datetime:
    """The moment a run is about: its data interval end, else its logical date, else run_after."""
    for key in ("data_interval_end", "logical_date"):
        value: Any = context.get(key)
        if value is not None:
            return cast("datetime", value)
    return context["dag_run"].run_after


def load_contract_param(contract: Contract | str | None) -> Contract | None:
    """A contract from a path (templated) or a ``Contract`` object."""
    if contract is None or not isinstance(contract, str):
        return contract
    from airflow_provider_parity.contracts.loader import load_contract

    return load_contract(contract)


class _DeltaTableMixin:
    """Resolves the task's table URI and storage options through DeltaTableHook."""

    table: str
    delta_conn_id: str | None

    def _hook(self) -> Any:
        from airflow_provider_parity.hooks.delta import DeltaTableHook

        return DeltaTableHook(self.delta_conn_id)

    def _table_uri(self) -> str:
        from airflow_provider_parity.delta.storage import join_table_uri

        # Without a connection the table is read as given: no hook, no metadata lookup.
        if self.delta_conn_id is None:
            return join_table_uri("", self.table)
        return str(self._hook().table_uri(self.table))

    def _storage_options(self) -> dict[str, str]:
        return {} if self.delta_conn_id is None else dict(self._hook().storage_options)

    def _lineage_uri(self) -> str:
        try:
            return self._table_uri()
        except Exception:
            return self.table

    def _table_lineage(self, side: Literal["inputs", "outputs"], snapshot: Snapshot | None = None,
                       error: BaseException | None = None) -> OperatorLineage[Any, Any]:
        """The table as an input or output dataset: with version and schema once ``snapshot`` is known."""
        from airflow_provider_parity.lineage import error_facets, input_dataset, operator_lineage, output_dataset

        make = input_dataset if side == "inputs" else output_dataset
        dataset = (make(self._lineage_uri()) if snapshot is None
                   else make(snapshot.uri, version=snapshot.version, schema=snapshot.schema))
        facets = error_facets(error)
        if side == "inputs":
            return operator_lineage(inputs=[dataset], run_facets=facets)
        return operator_lineage(outputs=[dataset], run_facets=facets)


class DeltaSnapshotOperator(_DeltaTableMixin, BaseOperator):
    """Pin a version of a Delta table and push its :class:`Snapshot` to XCom.

    The pin is made once per task instance and stored in an Airflow Variable keyed by
    (dag_id, run_id, task_id, map_index) (see :mod:`airflow_provider_parity.delta.pins`):
    retries and re-runs of the same DAG run return the stored pin even when the table
    has moved on. ``repin=True`` forces a new resolution.

    Args:
        table: table URI, or a name under the connection's root. Templated.
        delta_conn_id: a ``delta`` connection (root and credentials); None for local paths.
        pin: ``as_of`` (default: the run's data interval end), ``latest`` or ``version``.
        version: the version for ``pin="version"``. Templated.
        as_of: an ISO timestamp with a time zone for ``pin="as_of"``. Templated.
        repin: resolve again even when a pin is stored for this task instance.

    Returns (XCom ``return_value``):
        ``Snapshot`` as a dict: uri, version, commit_timestamp, schema, row_count,
        fingerprint, num_files, total_bytes, operation.
    """

    template_fields: Sequence[str] = ("table", "version", "as_of")
    ui_color = "#cfe8ff"

    def __init__(
        self,
        *,
        table: str,
        delta_conn_id: str | None = None,
        pin: PinMode = "as_of",
        version: int | str | None = None,
        as_of: str | datetime | None = None,
        repin: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_choice("DeltaSnapshotOperator", "pin", pin, ("as_of", "latest", "version"))
        if pin == "version" and version is None:
            raise OperatorArgumentError("DeltaSnapshotOperator: pin='version' needs version=")
        check_text("DeltaSnapshotOperator", "table", table)
        check_number("DeltaSnapshotOperator", "version", version)
        self.table = table
        self.delta_conn_id = delta_conn_id
        self.pin = pin
        self.version = version
        self.as_of = as_of
        self.repin = repin
        self._snapshot: Snapshot | None = None
        self._error: BaseException | None = None

    def _request(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.delta.asof import isoformat_utc, parse_timestamp

        request: dict[str, Any] = {"uri": self._table_uri(), "pin": self.pin}
        if self.pin == "version":
            request["version"] = as_version(self.version)
        elif self.pin == "as_of":
            moment = run_moment(context) if self.as_of is None or self.as_of == "" else self.as_of
            request["as_of"] = isoformat_utc(parse_timestamp(moment))
        return request

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            snapshot = self._pin(context)
        except BaseException as exc:
            self._error = exc
            raise
        self._snapshot = snapshot
        return snapshot.to_dict()

    def _pin(self, context: Context) -> Snapshot:
        from airflow.sdk import Variable

        from airflow_provider_parity.delta.pins import PinRecord, pin_key
        from airflow_provider_parity.delta.snapshot import resolve_snapshot

        ti = context["ti"]
        key = pin_key(ti.dag_id, ti.run_id, ti.task_id, ti.map_index if ti.map_index is not None else -1)
        request = self._request(context)
        stored = None if self.repin else Variable.get(key, default=None)
        if stored:
            record = PinRecord.from_json(stored)
            if record.request == request:
                self.log.info("Reusing the pin of an earlier try: %s version %s (Variable %s)",
                              record.snapshot.uri, record.snapshot.version, key)
                return record.snapshot
            self.log.warning("The stored pin was made for %s, this try asks for %s: pinning again",
                             record.request, request)
        snapshot = resolve_snapshot(
            request["uri"], request.get("version"), as_of=request.get("as_of"),
            storage_options=self._storage_options(),
        )
        Variable.set(key, PinRecord(request, snapshot).to_json(),
                     description="Delta pin made by airflow-provider-parity; reused by retries and re-runs")
        self.log.info("Pinned %s version %s (%s, fingerprint %s)", snapshot.uri, snapshot.version,
                      snapshot.commit_timestamp, snapshot.fingerprint[:12])
        return snapshot

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._table_lineage("inputs")

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._table_lineage("inputs", self._snapshot)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._table_lineage("inputs", error=self._error)


class DeltaWriteOperator(_DeltaTableMixin, BaseOperator):
    """Write data as a new Delta version whose commit says who wrote it and under which contract.

    The commit carries ``parity.dag_id``, ``parity.run_id``, ``parity.task_id``,
    ``parity.contract``, ``parity.contract_version`` and ``parity.contract_hash``. Data
    that breaks the contract's schema is refused before anything is written. The write
    id is the task instance's identity, so a retry after a successful commit returns
    that commit instead of appending the rows again.

    Args:
        table: table URI or name under the connection's root. Templated.
        data: a callable ``(context) -> pyarrow.Table | pandas.DataFrame``.
        data_path: instead of ``data``, a Parquet file or folder. Templated.
        delta_conn_id: a ``delta`` connection; None for local paths.
        contract: a contract (path, templated, or ``Contract``) the data must match.
        mode: ``append`` or ``overwrite``.
        schema_mode: ``merge`` to allow new columns (schema evolution).
        partition_by: partition columns when the table is created.
        replace_where: with ``mode="overwrite"``, replace only the rows matching this SQL
            predicate (templated), e.g. ``feature_date = '{{ ds }}'``: a re-run replaces its day.

    Returns (XCom ``return_value``):
        ``{"snapshot": Snapshot dict of the written version, "written": bool, "metadata": {...}}``.
    """

    # ``data`` is not templated: Airflow would call a callable template field itself.
    template_fields: Sequence[str] = ("table", "data_path", "contract", "replace_where")
    ui_color = "#d7f5d3"

    def __init__(
        self,
        *,
        table: str,
        data: Callable[[Context], Any] | None = None,
        data_path: str | None = None,
        delta_conn_id: str | None = None,
        contract: Contract | str | None = None,
        mode: Literal["append", "overwrite"] = "append",
        schema_mode: Literal["merge", "overwrite"] | None = None,
        partition_by: list[str] | None = None,
        replace_where: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (data is None) == (data_path is None):
            raise OperatorArgumentError("DeltaWriteOperator: give exactly one of data= (a callable) or data_path= (Parquet)")
        if data is not None and not callable(data):
            raise OperatorArgumentError(f"DeltaWriteOperator: data= must be a callable, got {type(data).__name__}")
        check_text("DeltaWriteOperator", "table", table)
        check_choice("DeltaWriteOperator", "mode", mode, ("append", "overwrite"))
        check_choice("DeltaWriteOperator", "schema_mode", schema_mode, (None, "merge", "overwrite"))
        check_names("DeltaWriteOperator", "partition_by", partition_by)
        self.table = table
        self.data = data
        self.data_path = data_path
        self.delta_conn_id = delta_conn_id
        self.contract = contract
        self.write_mode = mode
        self.schema_mode = schema_mode
        self.partition_by = partition_by
        self.replace_where = replace_where
        self._written: Snapshot | None = None
        self._error: BaseException | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        try:
            return self._write(context)
        except BaseException as exc:
            self._error = exc
            raise

    def _write(self, context: Context) -> dict[str, Any]:
        from dataclasses import asdict

        from airflow_provider_parity.delta.writer import commit_metadata, write_version

        contract = load_contract_param(self.contract)
        ti = context["ti"]
        map_index = ti.map_index if ti.map_index is not None else -1
        metadata = commit_metadata(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id, contract=contract)
        result = write_version(
            self._table_uri(),
            self._load_data(context),
            mode=self.write_mode,
            contract=contract,
            metadata=metadata,
            write_id=f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{map_index}",
            storage_options=self._storage_options(),
            partition_by=self.partition_by,
            schema_mode=self.schema_mode,
            replace_where=self.replace_where or None,
        )
        self._written = result.snapshot
        verb = "Wrote" if result.written else "An earlier try already wrote"
        self.log.info("%s %s version %s (%s rows)", verb, result.snapshot.uri, result.snapshot.version,
                      result.snapshot.row_count)
        return asdict(result)

    def _load_data(self, context: Context) -> Any:
        if self.data is not None:
            return self.data(context)
        import pyarrow.parquet as pq

        from airflow_provider_parity.exceptions import DataError

        try:
            return pq.read_table(self.data_path)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read Parquet data: {str(exc).splitlines()[0]}", source=self.data_path) from None

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._table_lineage("outputs")

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._table_lineage("outputs", self._written)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._table_lineage("outputs", error=self._error)


class DeltaCompletenessOperator(_DeltaTableMixin, BaseOperator):
    """Gate: the non-null ratio of each critical column reaches its minimum.

    Minimums come from the contract's ``completeness`` (or ``minimums``); ratios are
    computed from the Delta log's statistics for the given version.

    Args:
        table: table URI or name under the connection's root. Templated.
        version: the version to check (e.g. ``"{{ ti.xcom_pull('pin')['version'] }}"``); latest when None.
        contract: a contract (path or ``Contract``) whose ``completeness`` applies.
        minimums: column -> minimum ratio; overrides the contract's.
        delta_conn_id: a ``delta`` connection; None for local paths.

    Raises:
        ContractViolation: a column below its minimum (the task fails).
    """

    template_fields: Sequence[str] = ("table", "version", "contract")
    ui_color = "#fde2c8"

    def __init__(
        self,
        *,
        table: str,
        version: int | str | None = None,
        contract: Contract | str | None = None,
        minimums: Mapping[str, float] | None = None,
        delta_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if contract is None and not minimums:
            raise OperatorArgumentError("DeltaCompletenessOperator: give a contract with completeness rules or minimums=")
        check_text("DeltaCompletenessOperator", "table", table)
        check_number("DeltaCompletenessOperator", "version", version)
        check_ratios("DeltaCompletenessOperator", "minimums", minimums)
        self.table = table
        self.version = version
        self.contract = contract
        self.minimums = dict(minimums or {})
        self.delta_conn_id = delta_conn_id
        self._result: dict[str, Any] | None = None
        self._error: BaseException | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.delta.freshness import (
            check_completeness,
            require_complete,
        )
        from airflow_provider_parity.exceptions import ConfigurationError

        contract = load_contract_param(self.contract)
        minimums = self.minimums or (dict(contract.completeness) if contract else {})
        if not minimums:
            raise ConfigurationError("the contract declares no completeness rules and no minimums were given")
        try:
            result = check_completeness(self._table_uri(), minimums, version=as_version(self.version),
                                        storage_options=self._storage_options())
            self._result = result.to_dict()
            require_complete(result, contract.ref if contract else None)
        except BaseException as exc:
            self._error = exc
            raise
        return self._result

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._table_lineage("inputs")

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage_with_quality()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import error_facets

        lineage = self._lineage_with_quality()
        lineage.run_facets.update(error_facets(self._error))
        return lineage

    def _lineage_with_quality(self) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import (
            input_dataset,
            operator_lineage,
            quality_input_facets,
        )

        result = self._result
        if result is None:
            return self.get_openlineage_facets_on_start()
        assertions = [
            {"assertion": "not_null_ratio", "success": c["passed"], "column": c["column"],
             "expected": f">= {c['min_ratio']}", "actual": c["non_null_ratio"]}
            for c in result["columns"]
        ]
        facets = quality_input_facets(assertions, row_count=result["row_count"])
        dataset = input_dataset(result["uri"], version=result["version"], input_facets=facets)
        return operator_lineage(inputs=[dataset])
