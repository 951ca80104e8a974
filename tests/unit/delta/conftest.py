"""Real Delta tables written by delta-rs into temporary folders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from deltalake import write_deltalake

from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.delta.demo import (
    EvolvingTable,
    build_evolving_table,
    event_rows,
)


@pytest.fixture
def evolving_table(tmp_path: Path) -> EvolvingTable:
    return build_evolving_table(tmp_path / "events")


@pytest.fixture
def slow_table(tmp_path: Path) -> str:
    """Three versions committed at least 30 ms apart."""
    uri = str(tmp_path / "slow")
    for i in range(3):
        write_deltalake(uri, event_rows([i]), mode="append")
        time.sleep(0.03)
    return uri


@pytest.fixture
def contract() -> Contract:
    return Contract.model_validate({
        "dataset": {"name": "events", "owner": "data-team", "version": "1.0.0"},
        "columns": [
            {"name": "id", "type": "integer", "nullable": False, "role": "key"},
            {"name": "name", "type": "string"},
            {"name": "event_time", "type": "timestamp", "role": "event_time"},
        ],
        "freshness": {"max_age": "2h", "column": "event_time"},
        "completeness": {"id": 1.0, "name": 0.5},
    })
