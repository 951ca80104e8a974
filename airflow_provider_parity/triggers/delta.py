"""DeltaFreshnessTrigger: polls a Delta log in the triggerer until the table is fresh.

The trigger carries the connection id, never the credentials: its kwargs are stored
in the metadata database. Each poll reads only the log (commit times or file
statistics) in a worker thread, so the triggerer's event loop is never blocked.
The trigger stops by itself at ``deadline`` and reports the breach, so the task
fails with the SLO named instead of a bare timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class DeltaFreshnessTrigger(BaseTrigger):
    """Fire once the newest event (or commit) of a table reaches ``reference - max_age``.

    Args:
        table_uri: the table (absolute path or URI, already joined to the connection's root).
        reference: ISO UTC moment the data must reach (the data interval end).
        max_age_seconds: how far behind ``reference`` the newest data may be.
        column: event-time column; None for the newest commit time.
        delta_conn_id: connection for storage options, resolved in the triggerer.
        poll_interval: seconds between polls.
        deadline: ISO UTC moment after which the trigger reports a breach.
        contract_ref: named in the breach message.

    Events:
        ``{"status": "fresh" | "breach" | "error", "result": {...}, "message": str}``.
    """

    def __init__(
        self,
        *,
        table_uri: str,
        reference: str,
        max_age_seconds: float = 0.0,
        column: str | None = None,
        delta_conn_id: str | None = None,
        poll_interval: float = 60.0,
        deadline: str | None = None,
        contract_ref: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.table_uri = table_uri
        self.reference = reference
        self.max_age_seconds = float(max_age_seconds)
        self.column = column
        self.delta_conn_id = delta_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.contract_ref = contract_ref

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "table_uri": self.table_uri,
                "reference": self.reference,
                "max_age_seconds": self.max_age_seconds,
                "column": self.column,
                "delta_conn_id": self.delta_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "contract_ref": self.contract_ref,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_parity.delta.asof import parse_timestamp
        from airflow_provider_parity.exceptions import ParityError

        try:
            options = await self._storage_options()
            deadline = parse_timestamp(self.deadline) if self.deadline else None
            while True:
                result = await asyncio.to_thread(self._poll, options)
                if result.fresh:
                    yield TriggerEvent({"status": "fresh", "result": result.to_dict(), "message": "fresh"})  # type: ignore[no-untyped-call]
                    return
                if deadline is not None and datetime.now(UTC) >= deadline:
                    message = result.breach_message(self.contract_ref)
                    yield TriggerEvent({"status": "breach", "result": result.to_dict(), "message": message})  # type: ignore[no-untyped-call]
                    return
                self.log.info("not fresh yet: %s newest=%s required=%s", result.measure, result.newest, result.required)
                await asyncio.sleep(self._sleep_seconds(deadline))
        except ParityError as exc:
            yield TriggerEvent(  # type: ignore[no-untyped-call]
                {"status": "error", "result": None, "message": str(exc), "exit_code": exc.exit_code})

    def _sleep_seconds(self, deadline: datetime | None) -> float:
        if deadline is None:
            return self.poll_interval
        remaining = (deadline - datetime.now(UTC)).total_seconds()
        return max(0.0, min(self.poll_interval, remaining))

    def _poll(self, options: dict[str, str]) -> Any:
        from airflow_provider_parity.delta.freshness import check_freshness

        return check_freshness(
            self.table_uri,
            reference=self.reference,
            max_age=timedelta(seconds=self.max_age_seconds),
            column=self.column,
            storage_options=options,
        )

    async def _storage_options(self) -> dict[str, str]:
        if not self.delta_conn_id:
            return {}
        from airflow_provider_parity.compat import BaseHook
        from airflow_provider_parity.hooks.delta import (
            amask_secrets,
            storage_from_connection,
        )

        conn = await BaseHook.aget_connection(self.delta_conn_id)
        options = storage_from_connection(conn, mask=False)[1]
        await amask_secrets(options)
        return options
