"""Moving ``champion`` back to the previous champion, with the reason recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking import keys
from airflow_provider_parity.tracking.client import aliases_of, load_version
from airflow_provider_parity.tracking.history import (
    plan_rollback,
    read_history,
    write_history,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient


@dataclass(frozen=True)
class RollbackResult:
    model: str
    from_version: str
    to_version: str
    reason: str
    at: str
    switched: bool
    """False when a retried request found its rollback already done."""


def rollback(client: MlflowClient, name: str, *, reason: str, to_version: str | int | None = None,
             request_id: str | None = None, now: datetime | None = None,
             before_switch: Callable[[str], None] | None = None) -> RollbackResult:
    """Move ``champion`` to the champion before it (or to ``to_version``).

    The reason goes on the demoted version's tags and into the history; the alias switch is last.

    Args:
        client: the MLflow client.
        name: the registered model.
        reason: why (required: it is what the next person reads).
        to_version: an explicit target; default the previous champion from the history.
        request_id: who asks (``dag_id/run_id/task_id``): a retry of the same request does not
            roll back a second time.
        now: time of the rollback (default now, UTC).
        before_switch: called with the target version just before the alias switch.

    Returns:
        What moved where.

    Raises:
        ConfigurationError: no reason, no champion, no earlier champion, or an unknown version.
    """
    if not reason or not reason.strip():
        raise ConfigurationError("a rollback needs a reason")
    champion = aliases_of(client, name).get(keys.CHAMPION)
    if champion is None:
        raise ConfigurationError(f"registered model {name!r} has no {keys.CHAMPION!r} alias to roll back")
    at = now or datetime.now(UTC)
    target_hint = None if to_version is None else str(to_version)
    target, history, done = plan_rollback(read_history(client, name), champion=champion, at=at, reason=reason,
                                          to_version=target_hint, request_id=request_id)
    if done:
        return RollbackResult(name, target, target, reason, at.isoformat(), switched=False)
    load_version(client, name, target)  # fails clearly on an unknown version, before any write
    client.set_model_version_tag(name, champion, keys.ROLLBACK_REASON, reason)
    client.set_model_version_tag(name, champion, keys.ROLLBACK_AT, at.isoformat())
    write_history(client, name, history)
    if before_switch is not None:
        before_switch(target)
    client.set_registered_model_alias(name, keys.CHAMPION, target)
    return RollbackResult(name, champion, target, reason, at.isoformat(), switched=True)
