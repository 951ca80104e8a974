"""What every operator of the provider shares, held once.

* **Failure policy** (:func:`guard`): bad input and gate verdicts fail the task at once, without
  retry (the same data or configuration would fail the same way); anything else (an
  unreachable store, a lost worker) is left to Airflow's retries.
* **Lineage** (:class:`LineageMixin`): the three ``get_openlineage_facets_on_*`` methods,
  around one ``_lineage(error)`` per operator.
* **Gate outcomes** (:class:`GateMixin`): a gate's :class:`GateOutcome` is stamped with the
  task try, pushed to XCom (``parity_outcome``), appended to the results ledger, and turned
  into the task's state, one way for every gate.
* **Cached hooks and storage**: one Delta hook per operator; reports and the ledger reached
  through ``[parity] storage_conn_id`` (or the worker's environment).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import AirflowFailException, parity_option

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.artifacts import ArtifactStore
    from airflow_provider_parity.outcomes.model import GateOutcome

XCOM_OUTCOME = "parity_outcome"


def airflow_home() -> str:
    return os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow"))


def _beside_lake(name: str) -> str:
    """``{[parity] lake_uri}/parity/<name>`` when a lake is configured (so a cluster keeps everything
    its tasks leave behind on the shared store), else ``{AIRFLOW_HOME}/parity/<name>``."""
    lake = parity_option("lake_uri", "")
    if lake:
        from airflow_provider_parity.artifacts import join_uri

        return join_uri(lake, "parity", name)
    return os.path.join(airflow_home(), "parity", name)


def report_root() -> str:
    """``[parity] report_dir``: a folder or an object-store URI (default: beside the lake, see :func:`_beside_lake`)."""
    return parity_option("report_dir", "") or _beside_lake("reports")


def ledger_uri() -> str:
    """``[parity] ledger_uri``: the results ledger's Delta table (default: beside the lake)."""
    return parity_option("ledger_uri", "") or _beside_lake("ledger")


def storage_options() -> dict[str, str]:
    """Credentials for reports and the ledger: ``[parity] storage_conn_id`` (a ``delta`` connection), else none
    (the worker's environment or cloud identity)."""
    conn_id = parity_option("storage_conn_id", "")
    if not conn_id:
        return {}
    from airflow_provider_parity.hooks.delta import DeltaTableHook

    return DeltaTableHook(conn_id).storage_options


@contextmanager
def guard(operator: Any) -> Iterator[None]:
    """Bad input and gate failures inside the block fail the task at once, without retry.

    The task fails with the exception's one-line message. Any exception is kept on
    ``operator._error`` for the OpenLineage failure event.
    """
    from airflow_provider_parity.exceptions import BadInputError, GateFailure, WriteConflict

    operator._error = None
    try:
        yield
    except WriteConflict as exc:
        # Lost to a concurrent commit: nothing was written, and a retry applies it to the new version.
        operator._error = exc
        raise
    except (BadInputError, GateFailure) as exc:
        operator._error = exc
        raise AirflowFailException(str(exc)) from exc
    except BaseException as exc:
        operator._error = exc
        raise


class LineageMixin:
    """The OpenLineage methods, once: each operator writes only ``_lineage(error)``."""

    _error: BaseException | None = None

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        raise NotImplementedError

    def _failure(self) -> BaseException | None:
        return self._error

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._lineage(None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage(None)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage(self._failure())


class GateMixin(LineageMixin):
    """A gate: evaluates to a :class:`GateOutcome` that decides the task's state.

    Subclasses set ``gate_kind`` and call :meth:`run_gate` from ``execute``.
    """

    gate_kind: str = "gate"
    _outcome: GateOutcome | None = None
    task_id: str

    @cached_property
    def artifacts(self) -> ArtifactStore:
        from airflow_provider_parity.artifacts import ArtifactStore

        return ArtifactStore(storage_options())

    def delta_storage(self) -> dict[str, str] | None:
        """Object-store options for the Delta tables the gate reads: the ``delta_conn_id`` connection's,
        overridden by explicit ``storage_options`` (either may be absent)."""
        explicit = getattr(self, "storage_options", None)
        conn_id = getattr(self, "delta_conn_id", None)
        if not conn_id:
            return explicit  # type: ignore[no-any-return]
        from airflow_provider_parity.hooks.delta import DeltaTableHook

        return {**DeltaTableHook(conn_id).storage_options, **(explicit or {})}

    def report_uri(self, context: Context, suffix: str, base: str | None = None) -> str:
        """``<report root>/<dag_id>/<run_id>/<task_id><suffix>``: one folder per DAG run."""
        from airflow_provider_parity.artifacts import join_uri

        return join_uri(base or report_root(), context["dag"].dag_id, str(context["run_id"]),
                        f"{self.task_id}{suffix}")

    def run_gate(self, context: Context, evaluate: Callable[[], GateOutcome], *, dataset: str | None = None,
                 as_of: str | None = None) -> GateOutcome:
        """Evaluate the gate, publish its outcome, and fail the task when it blocks.

        Bad input becomes an ``error`` outcome and a gate raising its verdict a ``failed`` one:
        both are published, then fail the task without retry. Other errors propagate (retry).
        """
        from airflow_provider_parity.outcomes.convert import decide
        from airflow_provider_parity.outcomes.model import utc_now

        started = utc_now()
        self._error, self._outcome = None, None
        try:
            outcome, self._error = decide(evaluate, gate=self.gate_kind, dataset=dataset, as_of=as_of)
        except BaseException as exc:
            self._error = exc
            raise
        outcome = self.publish(context, outcome.with_(started_at=outcome.started_at or started))
        if outcome.blocking:
            raise AirflowFailException(outcome.reason)
        return outcome

    def publish(self, context: Context, outcome: GateOutcome) -> GateOutcome:
        """Stamp the task try on the outcome, push it to XCom and append it to the ledger."""
        from airflow_provider_parity.outcomes.ledger import append_outcome
        from airflow_provider_parity.outcomes.model import RunIdentity, utc_now

        ti = context["ti"]
        run = RunIdentity(dag_id=ti.dag_id, run_id=ti.run_id, task_id=ti.task_id,
                          map_index=ti.map_index if ti.map_index is not None else -1,
                          try_number=int(getattr(ti, "try_number", 1) or 1))
        outcome = outcome.with_(run=run, name=outcome.name or self.task_id,
                                finished_at=outcome.finished_at or utc_now())
        self._outcome = outcome
        ti.xcom_push(key=XCOM_OUTCOME, value=outcome.to_dict())
        # A ledger that cannot be written is an infrastructure failure: the task fails and
        # retries (the outcome id is per try, so nothing is counted twice).
        append_outcome(ledger_uri(), outcome, storage_options=storage_options())
        log = getattr(self, "log", None)
        if log is not None:
            level = log.error if outcome.blocking else (log.warning if outcome.status != "passed" else log.info)
            level("%s %s: %s", self.gate_kind, outcome.status, outcome.reason)
        return outcome

    def _failure(self) -> BaseException | None:
        if self._error is not None:
            return self._error
        if self._outcome is not None and self._outcome.blocking:
            return AirflowFailException(self._outcome.reason)
        return None

    def outcome_run_facets(self) -> dict[str, Any]:
        """The ``parity_outcome`` run facet (empty before the gate decided)."""
        from airflow_provider_parity.lineage import outcome_run_facet

        return {} if self._outcome is None else {"parity_outcome": outcome_run_facet(self._outcome)}
