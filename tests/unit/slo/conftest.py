"""The synthetic daily ledger as a fixture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from slo_ledger import day_outcomes

from airflow_provider_parity.outcomes.ledger import append_outcome

Ledger = Callable[..., str]


@pytest.fixture
def daily_ledger(tmp_path: Path, example_contract) -> Ledger:  # type: ignore[no-untyped-def]
    """``daily_ledger(stale_days=(...), incomplete_days=(...))`` writes 28 days and returns the ledger URI."""

    def write(stale_days: tuple[int, ...] = (), incomplete_days: tuple[int, ...] = ()) -> str:
        uri = str(tmp_path / "ledger")
        for day in range(28):
            for outcome in day_outcomes(example_contract.ref, day, fresh=day not in stale_days,
                                        complete=day not in incomplete_days):
                append_outcome(uri, outcome)
        return uri

    return write
