"""DeltaFreshnessSensor: wait until a Delta table meets its contract's freshness SLO.

The table is fresh when its newest event (the contract's ``freshness.column``) or,
without one, its newest commit is at most ``max_age`` older than the run's data
interval end: ``newest >= data_interval_end - max_age``. Only the Delta log is read.
Deferrable: the wait happens in the triggerer (:class:`DeltaFreshnessTrigger`), and
after ``timeout`` the task fails with :class:`FreshnessBreach` naming the SLO, the
newest time observed and the one required.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import BaseSensorOperator, conf
from airflow_provider_parity.operators.common import fail_fast
from airflow_provider_parity.operators.delta import (
    _DeltaTableMixin,
    load_contract_param,
    run_moment,
)

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_parity.compat import Context
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.delta.freshness import FreshnessResult

# The trigger reports the breach itself at the deadline; Airflow's own deferral
# timeout is a backstop a little later, in case the triggerer was down.
_DEFERRAL_MARGIN = timedelta(minutes=5)


class DeltaFreshnessSensor(_DeltaTableMixin, BaseSensorOperator):
    """Wait for a Delta table to hold data up to the data interval end (within its SLO).

    Args:
        table: table URI or name under the connection's root. Templated.
        delta_conn_id: a ``delta`` connection; None for local paths.
        contract: a contract (path, templated, or ``Contract``) whose ``freshness`` SLO applies.
        max_age: overrides the contract's ``max_age`` (e.g. ``"2h"``); ``"0s"`` without a contract.
        column: overrides the contract's event-time column; ``None`` keeps it.
        reference: the moment data must reach (ISO with a time zone). Templated.
            Default: the run's data interval end.
        deferrable: wait in the triggerer instead of a worker slot.
        poke_interval: seconds between polls (also the trigger's poll interval).

    Returns (XCom ``return_value``):
        The :class:`FreshnessResult` as a dict.

    Raises:
        FreshnessBreach: the SLO still breached when ``timeout`` runs out.
    """

    template_fields: Sequence[str] = ("table", "contract", "reference")
    ui_color = "#e8e3ff"

    def __init__(
        self,
        *,
        table: str,
        delta_conn_id: str | None = None,
        contract: Contract | str | None = None,
        max_age: str | None = None,
        column: str | None = None,
        reference: str | datetime | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.delta_conn_id = delta_conn_id
        self.contract = contract
        self.max_age = max_age
        self.column = column
        self.reference = reference
        self.deferrable = deferrable
        self._last: FreshnessResult | None = None
        self._error: BaseException | None = None

    def _slo(self, context: Context) -> tuple[datetime, timedelta, str | None, str | None]:
        """(reference, max_age, column, contract ref) for this run."""
        from airflow_provider_parity.contracts.model import parse_duration
        from airflow_provider_parity.delta.asof import parse_timestamp

        contract = load_contract_param(self.contract)
        slo = contract.freshness if contract else None
        if self.max_age is not None:
            max_age = parse_duration(self.max_age)
        else:
            max_age = slo.max_age_delta if slo else timedelta(0)
        column = self.column if self.column is not None else (slo.column if slo else None)
        moment = run_moment(context) if self.reference is None or self.reference == "" else self.reference
        return parse_timestamp(moment), max_age, column, contract.ref if contract else None

    def poke(self, context: Context) -> Any:
        from airflow.sdk import PokeReturnValue

        from airflow_provider_parity.delta.freshness import check_freshness

        reference, max_age, column, _ = self._slo(context)
        result = check_freshness(self._table_uri(), reference=reference, max_age=max_age, column=column,
                                 storage_options=self._storage_options())
        self._last = result
        if not result.fresh:
            self.log.info("Not fresh yet: %s newest=%s, required >= %s", result.measure, result.newest,
                          result.required)
        return PokeReturnValue(is_done=result.fresh, xcom_value=result.to_dict())

    def execute(self, context: Context) -> Any:
        # A breach or bad input fails without retry: waiting longer is what timeout is for.
        return fail_fast(self, lambda: self._execute(context))

    def _execute(self, context: Context) -> Any:
        from airflow.sdk.exceptions import AirflowSensorTimeout

        from airflow_provider_parity.exceptions import FreshnessBreach

        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout:
                _, _, _, ref = self._slo(context)
                if self._last is None:
                    raise
                raise FreshnessBreach(self._last.breach_message(ref), result=self._last.to_dict()) from None
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        self._defer(context)
        return None

    def _defer(self, context: Context) -> None:
        from airflow_provider_parity.delta.asof import isoformat_utc
        from airflow_provider_parity.triggers.delta import DeltaFreshnessTrigger

        reference, max_age, column, ref = self._slo(context)
        timeout = timedelta(seconds=float(self.timeout))
        self.defer(
            trigger=DeltaFreshnessTrigger(
                table_uri=self._table_uri(),
                reference=isoformat_utc(reference),
                max_age_seconds=max_age.total_seconds(),
                column=column,
                delta_conn_id=self.delta_conn_id,
                poll_interval=float(self.poke_interval),
                deadline=isoformat_utc(datetime.now(UTC) + timeout),
                contract_ref=ref,
            ),
            method_name="execute_complete",
            timeout=timeout + _DEFERRAL_MARGIN,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the fresh result or fail with the breach."""
        return fail_fast(self, lambda: self._resume(event))

    def _resume(self, event: dict[str, Any] | None) -> dict[str, Any]:
        from airflow_provider_parity.delta.freshness import FreshnessResult
        from airflow_provider_parity.exceptions import BadInputError, FreshnessBreach

        event = event or {}
        status = event.get("status")
        if event.get("result"):
            self._last = FreshnessResult(**event["result"])
        if status == "fresh":
            return dict(event["result"])
        if status == "breach":
            raise FreshnessBreach(str(event.get("message")), result=event.get("result"))
        raise BadInputError(str(event.get("message") or f"unexpected trigger event {event!r}"))

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import input_dataset, operator_lineage

        return operator_lineage(inputs=[input_dataset(self._lineage_uri())])

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import input_dataset, operator_lineage

        last = self._last
        if last is None:
            return self.get_openlineage_facets_on_start()
        return operator_lineage(inputs=[input_dataset(last.uri, version=last.version)])

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import error_facets

        lineage = self.get_openlineage_facets_on_complete(task_instance)
        lineage.run_facets.update(error_facets(self._error))
        return lineage
