"""The synthetic daily ledger as a fixture (written once per session and configuration)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from slo_ledger import day_outcomes

from airflow_provider_parity.outcomes.ledger import append_outcome

Ledger = Callable[..., str]


@pytest.fixture(scope="session")
def _built_ledgers() -> dict[tuple[tuple[int, ...], tuple[int, ...]], str]:
    return {}


@pytest.fixture
def daily_ledger(_built_ledgers, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,  # type: ignore[no-untyped-def]
                 example_contract) -> Ledger:
    """``daily_ledger(stale_days=(...), incomplete_days=(...))``: 28 days written with ``append_outcome``; its URI.

    Each configuration is written once per session and copied for each test (a test may append to it).
    """
    import shutil

    def write(stale_days: tuple[int, ...] = (), incomplete_days: tuple[int, ...] = ()) -> str:
        key = (stale_days, incomplete_days)
        if key not in _built_ledgers:
            uri = str(tmp_path_factory.mktemp("daily-ledger") / "ledger")
            for day in range(28):
                for outcome in day_outcomes(example_contract.ref, day, fresh=day not in stale_days,
                                            complete=day not in incomplete_days):
                    append_outcome(uri, outcome)
            _built_ledgers[key] = uri
        copy = tmp_path / "ledger"
        shutil.copytree(_built_ledgers[key], copy, dirs_exist_ok=False)
        return str(copy)

    return write
