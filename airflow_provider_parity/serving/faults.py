"""Faults ``parity serve`` can inject on purpose (demos, game days), each one a known serving incident.

``round:FEATURE:SHARE`` is the classic training/serving skew: the online path re-implements a
feature with another rounding rule for a stable share of the entities (e.g. a second code path
for some accounts). The distribution barely moves, so drift gates rightly stay quiet; value by
value, every one of those entities is served something the offline table never held, which the
per-entity skew gate (``parity skew``) catches from the serving log.

Example:
    >>> fault = parse_fault("round:avg_ticket_30d:0.02")
    >>> served = fault.apply_rows([("C000001",)], [{"avg_ticket_30d": 45.37}], ["customer_id"])
"""

from __future__ import annotations

import zlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_parity.exceptions import ConfigurationError


def in_share(key: Any, share: float) -> bool:
    """Whether ``key`` is among a stable ``share`` of keys (crc32 of its text): the same entities in every process."""
    return zlib.crc32(str(key).encode()) % max(1, round(1 / share)) == 0


def entity_text(values: Sequence[Any]) -> str:
    """One entity key as text: the value itself for a one-column key (``C000123``), else values joined by ``|``."""
    return str(values[0]) if len(values) == 1 else "|".join(str(v) for v in values)


@dataclass(frozen=True)
class Rounding:
    """Serve ``feature`` rounded to whole units for a stable ``share`` of the entities."""

    feature: str
    share: float

    def hits(self, entities: Collection[Any]) -> set[Any]:
        return {e for e in entities if in_share(e, self.share)}

    def apply_rows(self, entities: Sequence[Sequence[Any]], rows: Sequence[dict[str, Any] | None],
                   keys: Sequence[str]) -> list[dict[str, Any] | None]:
        """The online store's rows as this faulty path serves them (copies; ``keys`` name the entity columns)."""
        del keys  # the entity's text is its values, in key order
        served: list[dict[str, Any] | None] = []
        for entity, row in zip(entities, rows, strict=True):
            value = None if row is None else row.get(self.feature)
            if value is not None and in_share(entity_text(entity), self.share):
                # round() on a float rounds half to even, as Arrow's round does by default.
                row = {**row, self.feature: float(round(value))}  # type: ignore[dict-item]
            served.append(row)
        return served


def parse_fault(text: str, features: Collection[str] | None = None) -> Rounding:
    """``round:FEATURE:SHARE`` (SHARE in (0, 1]).

    Raises:
        ConfigurationError: another fault, a feature that is not served, or a share outside (0, 1].
    """
    kind, _, rest = text.partition(":")
    feature, _, share_text = rest.rpartition(":")
    try:
        share = float(share_text)
    except ValueError:
        share = -1.0
    if kind != "round" or not feature or not 0 < share <= 1:
        raise ConfigurationError(f"--fault {text!r}: expected round:FEATURE:SHARE with SHARE in (0, 1]")
    if features is not None and feature not in features:
        raise ConfigurationError(f"--fault {text!r}: {feature!r} is not a served feature ({', '.join(sorted(features))})")
    return Rounding(feature, share)

