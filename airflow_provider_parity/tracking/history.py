"""The champion history, kept as one JSON tag on the registered model.

MLflow aliases say who is champion now; the history says how it got there, so that rollback
knows where to go back to. Entries are planned here (pure functions, no MLflow) and written
before the alias switch: a crash in between leaves a pending entry that a retry reuses rather
than duplicates, because the alias, not the history, is the truth about the current champion.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking import keys

if TYPE_CHECKING:
    from mlflow import MlflowClient

Action = Literal["promote", "rollback"]
MAX_ENTRIES = 100
"""Older entries are dropped: a registered-model tag holds 100,000 characters."""


@dataclass(frozen=True)
class ChampionEntry:
    """One switch of the ``champion`` alias."""

    action: Action
    version: str
    """The champion after the switch."""
    replaced: str | None
    """The champion before the switch."""
    previous: str | None
    """Where a rollback from this state goes: the champion before ``version`` was promoted."""
    at: str
    """When the switch was planned (ISO 8601, UTC)."""
    reason: str = ""
    request_id: str | None = None
    """Who asked (e.g. ``dag_id/run_id/task_id``): a retried request is recognised, not repeated."""


def parse_history(text: str | None) -> list[ChampionEntry]:
    """The entries of a history tag value (oldest first; empty for no tag).

    Raises:
        ConfigurationError: the tag is not a JSON list of entries (edited by hand?).
    """
    if not text:
        return []
    try:
        return [ChampionEntry(**item) for item in json.loads(text)]
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"tag {keys.CHAMPION_HISTORY} is not a valid champion history: {exc}") from None


def dump_history(entries: list[ChampionEntry]) -> str:
    """The tag value of ``entries``: compact JSON of the newest ``MAX_ENTRIES``."""
    return json.dumps([dataclasses.asdict(e) for e in entries[-MAX_ENTRIES:]], separators=(",", ":"))


def latest_for(entries: list[ChampionEntry], version: str | None) -> ChampionEntry | None:
    """The most recent entry that made ``version`` champion."""
    for entry in reversed(entries):
        if entry.version == version:
            return entry
    return None


def champion_since(entries: list[ChampionEntry], champion: str | None) -> datetime | None:
    """When the current champion got the alias (None when the history does not say)."""
    entry = latest_for(entries, champion)
    return datetime.fromisoformat(entry.at) if entry else None


def plan_promotion(entries: list[ChampionEntry], *, challenger: str, champion: str | None, at: datetime,
                   reason: str = "", request_id: str | None = None) -> list[ChampionEntry]:
    """The history after promoting ``challenger`` over ``champion``.

    A last entry promoting the same challenger over the same champion is a write whose alias
    switch never happened (a crash): it is replaced, not repeated.
    """
    entry = ChampionEntry("promote", challenger, champion, champion, at.isoformat(), reason, request_id)
    last = entries[-1] if entries else None
    if last and last.action == "promote" and last.version == challenger and last.replaced == champion:
        return [*entries[:-1], entry]
    return [*entries, entry]


def plan_rollback(entries: list[ChampionEntry], *, champion: str, at: datetime, reason: str,
                  to_version: str | None = None,
                  request_id: str | None = None) -> tuple[str, list[ChampionEntry], bool]:
    """Where a rollback of ``champion`` goes, and the history after it.

    Returns:
        ``(target version, new history, already_done)``; ``already_done`` when this request
        (same ``request_id``) has already switched the alias: a retry must not roll back twice.

    Raises:
        ConfigurationError: no previous champion is recorded and no ``to_version`` was given.
    """
    last = entries[-1] if entries else None
    if last and last.action == "rollback" and last.request_id == request_id:
        if request_id and last.version == champion:
            return champion, entries, True
        if last.replaced == champion and to_version in (None, last.version):
            return last.version, entries, False  # planned, but the switch did not happen: finish it
    current = latest_for(entries, champion)
    target = to_version or (current.previous if current else None)
    if target is None:
        raise ConfigurationError(f"no earlier champion recorded before v{champion}: pass the version to roll back to")
    if target == champion:
        raise ConfigurationError(f"v{champion} is already champion")
    restored = latest_for(entries, target)
    entry = ChampionEntry("rollback", target, champion, restored.previous if restored else None, at.isoformat(),
                          reason, request_id)
    return target, [*entries, entry], False


def read_history(client: MlflowClient, name: str) -> list[ChampionEntry]:
    """The champion history of registered model ``name`` (empty before the first promotion)."""
    tags = client.get_registered_model(name).tags or {}
    return parse_history(tags.get(keys.CHAMPION_HISTORY))


def write_history(client: MlflowClient, name: str, entries: list[ChampionEntry]) -> None:
    """Replace the history tag of ``name``: one write, so a reader never sees half of it."""
    client.set_registered_model_tag(name, keys.CHAMPION_HISTORY, dump_history(entries))
