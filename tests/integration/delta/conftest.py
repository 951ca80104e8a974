"""Delta tables and contracts for the Delta tests (the Spark session is tests/integration/conftest.py's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_parity.delta.demo import EvolvingTable, build_evolving_table


@pytest.fixture
def evolving_table(tmp_path: Path) -> EvolvingTable:
    return build_evolving_table(tmp_path / "events")


EVENTS_CONTRACT = """\
dataset: {{name: events, owner: data-team, version: 1.0.0}}
columns:
  - {{name: id, type: integer, nullable: false, role: key}}
  - {{name: name, type: string}}
  - {{name: event_time, type: timestamp, role: event_time}}
freshness: {{max_age: 2h, column: event_time}}
completeness: {{id: 1.0, name: {min_name}}}
"""


@pytest.fixture
def events_contract(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``events_contract(min_name)`` writes the events contract (2h freshness SLO) and returns its path."""

    def write(min_name: float = 0.5) -> Path:
        path = tmp_path / "events.yaml"
        path.write_text(EVENTS_CONTRACT.format(min_name=min_name))
        return path

    return write
