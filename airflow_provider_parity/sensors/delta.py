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
from airflow_provider_parity.operators.base import GateMixin
from airflow_provider_parity.operators.common import run_as_of
from airflow_provider_parity.operators.delta import _DeltaTableMixin, load_contract_param

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_provider_parity.compat import Context
    from airflow_provider_parity.contracts.model import Contract
    from airflow_provider_parity.delta.freshness import FreshnessResult
    from airflow_provider_parity.outcomes.model import GateOutcome

# The trigger reports the breach itself at the deadline; Airflow's own deferral
# timeout is a backstop a little later, in case the triggerer was down.
_DEFERRAL_MARGIN = timedelta(minutes=5)


class DeltaFreshnessSensor(GateMixin, _DeltaTableMixin, BaseSensorOperator):
    """Wait for a Delta table to hold data up to the data interval end (within its SLO).

    Args:
        table: table URI or name under the connection's root. Templated.
        delta_conn_id: a ``delta`` connection; None for local paths.
        contract: a contract (path, templated, or ``Contract``) whose ``freshness`` SLO applies.
        max_age: overrides the contract's ``max_age`` (e.g. ``"2h"``); ``"0s"`` without a contract.
        column: overrides the contract's event-time column; ``None`` keeps it.
        reference: the moment data must reach (ISO with a time zone): the run's one "now" for
            freshness (DAGs processing a day pass the end of that day). Templated. Default: the
            run's data interval end, else its logical date, else run_after.
        deferrable: wait in the triggerer instead of a worker slot.
        poke_interval: seconds between polls (also the trigger's poll interval).

    Returns (XCom ``return_value``):
        The gate outcome (also XCom ``parity_outcome`` and a ledger row), whose ``as_of`` is the reference.

    Raises:
        FreshnessBreach: the SLO still breached when ``timeout`` runs out.
    """

    gate_kind = "freshness"
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

    def _slo(self, context: Context) -> tuple[datetime, timedelta, str | None, str | None]:
        """(reference, max_age, column, contract ref) for this run."""
        from airflow_provider_parity.contracts.model import parse_duration

        contract = load_contract_param(self.contract)
        slo = contract.freshness if contract else None
        if self.max_age is not None:
            max_age = parse_duration(self.max_age)
        else:
            max_age = slo.max_age_delta if slo else timedelta(0)
        column = self.column if self.column is not None else (slo.column if slo else None)
        return run_as_of(context, self.reference), max_age, column, contract.ref if contract else None

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
        outcome = self.run_gate(context, lambda: self._execute(context), dataset=self.table)
        return outcome.to_dict()

    def _execute(self, context: Context) -> GateOutcome:
        from airflow.sdk.exceptions import AirflowSensorTimeout

        from airflow_provider_parity.outcomes.convert import from_freshness

        _, _, _, ref = self._slo(context)
        if not self.deferrable:
            try:
                super().execute(context)
            except AirflowSensorTimeout:
                if self._last is None:
                    raise
            assert self._last is not None
            return from_freshness(self._last, contract=ref)
        first = self.poke(context)
        if first.is_done:
            return from_freshness(self._last, contract=ref)
        self._defer(context)
        raise AssertionError("defer() raises")  # pragma: no cover

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
        """Resume after the trigger fired: the fresh result passes, a breach blocks."""
        outcome = self.run_gate(context, lambda: self._resume(context, event), dataset=self.table)
        return outcome.to_dict()

    def _resume(self, context: Context, event: dict[str, Any] | None) -> GateOutcome:
        from airflow_provider_parity.delta.freshness import FreshnessResult
        from airflow_provider_parity.exceptions import BadInputError
        from airflow_provider_parity.outcomes.convert import from_freshness

        event = event or {}
        if event.get("result"):
            self._last = FreshnessResult(**event["result"])
        if event.get("status") in ("fresh", "breach") and self._last is not None:
            return from_freshness(self._last, contract=self._slo(context)[3])
        raise BadInputError(str(event.get("message") or f"unexpected trigger event {event!r}"))

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        last = self._last
        quality = lineage.outcome_quality_facets(self._outcome) if self._outcome is not None else {}
        dataset = (lineage.input_dataset(self._lineage_uri()) if last is None
                   else lineage.input_dataset(last.uri, version=last.version, input_facets=quality))
        return lineage.operator_lineage(inputs=[dataset],
                                        run_facets={**lineage.error_facets(error), **self.outcome_run_facets()})
