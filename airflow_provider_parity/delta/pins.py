"""Where an operator's pin is kept so that retries and re-runs reuse it.

A pin must not move once a run has made it: a retry, or the same DAG run cleared
and run again, reads the version the first try pinned even when the table has
moved on. XCom is cleared when a task instance starts a new try, so the pin is kept
in a store that outlives tries (the Airflow face uses a Variable), keyed by the task
instance's identity (dag_id, run_id, task_id, map_index).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from airflow_provider_parity.delta.snapshot import Snapshot

KEY_PREFIX = "parity.pin"
# Airflow Variable keys are at most 250 characters.
_MAX_KEY = 250


def pin_key(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
    """The store key of a task instance's pin; hashed when it would exceed 250 characters."""
    key = f"{KEY_PREFIX}/{dag_id}/{run_id}/{task_id}/{map_index}"
    if len(key) <= _MAX_KEY:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"{KEY_PREFIX}/{dag_id[:80]}/{digest}"


@dataclass(frozen=True)
class PinRecord:
    """A stored pin: the request that made it and the snapshot it resolved to."""

    request: dict[str, Any]
    snapshot: Snapshot

    def to_json(self) -> str:
        return json.dumps({"request": self.request, "snapshot": self.snapshot.to_dict()}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PinRecord:
        data = json.loads(text)
        return cls(request=dict(data["request"]), snapshot=Snapshot.from_dict(data["snapshot"]))
