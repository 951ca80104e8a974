"""What the serving tests share besides fixtures: the seeded lake's description and reading the serving log.

A module of its own (not ``conftest``): test modules import it by a name no other test folder uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_parity.contracts.model import Contract


@dataclass
class Lake:
    root: Path
    contract: Contract
    fresh: str
    """Delta table, version 0: fresh features (pass the boundary check)."""
    stale: str
    """Delta table, version 0: features 3 days old (fail the contract's 12h freshness)."""
    tracking_uri: str
    model: str
    """A registered model with a champion."""


def read_log(path: Path | str) -> list[dict[str, Any]]:
    from airflow_provider_parity.delta import read_arrow

    return list(read_arrow(str(path)).to_pylist())
