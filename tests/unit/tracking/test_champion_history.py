"""Champion history planning: promotions, rollbacks, and retries after a crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking.history import (
    MAX_ENTRIES,
    ChampionEntry,
    champion_since,
    dump_history,
    parse_history,
    plan_promotion,
    plan_rollback,
)

T = datetime(2026, 5, 1, tzinfo=UTC)


def promoted(*versions: str) -> list[ChampionEntry]:
    entries: list[ChampionEntry] = []
    champion = None
    for v in versions:
        entries = plan_promotion(entries, challenger=v, champion=champion, at=T)
        champion = v
    return entries


def test_promotions_chain_previous_champions() -> None:
    entries = promoted("1", "2", "3")
    assert [(e.version, e.replaced, e.previous) for e in entries] == [("1", None, None), ("2", "1", "1"),
                                                                       ("3", "2", "2")]
    assert parse_history(dump_history(entries)) == entries
    assert champion_since(entries, "2") == T


def test_a_retried_promotion_replaces_its_pending_entry() -> None:
    entries = promoted("1", "2")
    retried = plan_promotion(entries, challenger="2", champion="1", at=T)
    assert [e.version for e in retried] == ["1", "2"]


def test_rollbacks_walk_back_one_champion_at_a_time() -> None:
    entries = promoted("1", "2", "3")
    target, entries, done = plan_rollback(entries, champion="3", at=T, reason="bad")
    assert (target, done) == ("2", False)
    target, entries, done = plan_rollback(entries, champion="2", at=T, reason="still bad")
    assert target == "1"
    with pytest.raises(ConfigurationError, match="no earlier champion recorded before v1"):
        plan_rollback(entries, champion="1", at=T, reason="again")


def test_a_retried_rollback_request_does_not_roll_back_twice() -> None:
    entries = promoted("1", "2", "3")
    target, entries, _ = plan_rollback(entries, champion="3", at=T, reason="bad", request_id="d/r/t")
    # The switch happened: the same request finds it done.
    assert plan_rollback(entries, champion=target, at=T, reason="bad", request_id="d/r/t") == ("2", entries, True)
    # The switch did not happen (crash): the same request finishes it without a new entry.
    assert plan_rollback(entries, champion="3", at=T, reason="bad", request_id="d/r/t") == ("2", entries, False)


def test_explicit_rollback_target_and_refusals() -> None:
    entries = promoted("1", "2", "3")
    target, after, _ = plan_rollback(entries, champion="3", at=T, reason="r", to_version="1")
    assert target == "1" and after[-1].previous is None
    with pytest.raises(ConfigurationError, match="already champion"):
        plan_rollback(entries, champion="3", at=T, reason="r", to_version="3")


def test_history_is_bounded_and_validated() -> None:
    entries = promoted(*[str(i) for i in range(MAX_ENTRIES + 5)])
    assert len(parse_history(dump_history(entries))) == MAX_ENTRIES
    with pytest.raises(ConfigurationError, match="not a valid champion history"):
        parse_history('[{"version": 1}]')
