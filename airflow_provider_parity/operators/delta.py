"""Operators over Delta tables: pin a snapshot, write a version, gate on completeness.

Thin Airflow face over :mod:`airflow_provider_parity.delta`; heavy libraries are
imported inside ``execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import BaseOperator
from airflow_provider_parity.operators.base import GateMixin, LineageMixin, guard
from airflow_provider_parity.operators.common import as_version, run_as_of

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_parity.compat import Context
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.delta.snapshot import Snapshot
    from airflow_provider_parity.outcomes.model import GateOutcome

PinMode = Literal["as_of", "latest", "version"]


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

    @cached_property
    def hook(self) -> Any:
        """The task's Delta hook, built once (it reads the connection once)."""
        from airflow_provider_parity.hooks.delta import DeltaTableHook

        return DeltaTableHook(self.delta_conn_id)

    def _table_uri(self) -> str:
        from airflow_provider_parity.delta.storage import join_table_uri

        # Without a connection the table is read as given: no hook, no metadata lookup.
        if self.delta_conn_id is None:
            return join_table_uri("", self.table)
        return str(self.hook.table_uri(self.table))

    def _storage_options(self) -> dict[str, str]:
        return {} if self.delta_conn_id is None else dict(self.hook.storage_options)

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


class DeltaSnapshotOperator(LineageMixin, _DeltaTableMixin, BaseOperator):
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
        if pin not in ("as_of", "latest", "version"):
            raise ValueError(f"pin must be 'as_of', 'latest' or 'version', got {pin!r}")
        if pin == "version" and version is None:
            raise ValueError("pin='version' needs version=")
        self.table = table
        self.delta_conn_id = delta_conn_id
        self.pin = pin
        self.version = version
        self.as_of = as_of
        self.repin = repin
        self._snapshot: Snapshot | None = None

    def _request(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.delta.asof import isoformat_utc, parse_timestamp

        request: dict[str, Any] = {"uri": self._table_uri(), "pin": self.pin}
        if self.pin == "version":
            request["version"] = as_version(self.version)
        elif self.pin == "as_of":
            request["as_of"] = isoformat_utc(parse_timestamp(run_as_of(context, self.as_of)))
        return request

    def execute(self, context: Context) -> dict[str, Any]:
        with guard(self):
            snapshot = self._pin(context)
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

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        return self._table_lineage("inputs", self._snapshot, error=error)


class DeltaWriteOperator(LineageMixin, _DeltaTableMixin, BaseOperator):
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
            raise ValueError("give exactly one of data= (a callable) or data_path= (Parquet)")
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

    def execute(self, context: Context) -> dict[str, Any]:
        # Data that breaks the contract's schema is bad input: no retry. A store that does not
        # answer is left to Airflow's retries (the write is idempotent per task instance).
        with guard(self):
            return self._write(context)

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

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:

        lineage_ = self._table_lineage("outputs", self._written, error=error)
        if self.data_path:
            # The staged input the version was written from: one dataset for every day, the day
            # itself a partition (the replaced predicate), so the table's upstream is one node.
            lineage_.inputs.append(staged_input(self.data_path, self.replace_where))
        return lineage_


def staged_input(path: str, predicate: str | None) -> Any:
    """The staged file a version was written from, as an input dataset: the day as its partition
    (``date=...`` in the path, else the ``column = 'value'`` pairs of ``replace_where``)."""
    import re

    from airflow_provider_parity import lineage

    if lineage.split_partitions(path)[1]:
        return lineage.input_dataset(path)
    partitions = dict(re.findall(r"(\w+)\s*=\s*'([^']*)'", predicate or ""))
    return lineage.input_dataset(path, input_facets=lineage.partition_input_facets(partitions) if partitions else None)


class DeltaCompletenessOperator(GateMixin, _DeltaTableMixin, BaseOperator):
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

    gate_kind = "completeness"
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
            raise ValueError("give a contract with completeness rules or minimums=")
        self.table = table
        self.version = version
        self.contract = contract
        self.minimums = dict(minimums or {})
        self.delta_conn_id = delta_conn_id
        self._result: dict[str, Any] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        return self.run_gate(context, self._evaluate, dataset=self.table).to_dict()

    def _evaluate(self) -> GateOutcome:
        from airflow_provider_parity.delta.freshness import check_completeness
        from airflow_provider_parity.exceptions import ConfigurationError
        from airflow_provider_parity.outcomes.convert import from_completeness

        contract = load_contract_param(self.contract)
        minimums = self.minimums or (dict(contract.completeness) if contract else {})
        if not minimums:
            raise ConfigurationError("the contract declares no completeness rules and no minimums were given")
        result = check_completeness(self._table_uri(), minimums, version=as_version(self.version),
                                    storage_options=self._storage_options())
        self._result = result.to_dict()
        return from_completeness(result, contract=contract.ref if contract else None)

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        result = self._result
        run_facets = {**lineage.error_facets(error), **self.outcome_run_facets()}
        if result is None:
            return lineage.operator_lineage(inputs=[lineage.input_dataset(self._lineage_uri())], run_facets=run_facets)
        facets = lineage.outcome_quality_facets(self._outcome) if self._outcome is not None else {}
        dataset = lineage.input_dataset(result["uri"], version=result["version"], input_facets=facets)
        return lineage.operator_lineage(inputs=[dataset], run_facets=run_facets)
