"""What changed between two versions of a contract, and whether it breaks readers.

A change is breaking when data valid under the new contract could break a consumer
written against the old one, or data valid under the old one now fails: a removed
column, a narrowed type, a tightened nullability, a narrowed range or value set.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_parity.contracts.model import Column, Contract

# Widening a type is safe for readers: every old value is still representable.
_WIDENS_TO = {"integer": {"float"}, "date": {"timestamp"}}


@dataclass(frozen=True)
class Change:
    kind: str
    """e.g. ``column_removed``, ``type_changed``, ``range_narrowed``."""
    column: str | None
    breaking: bool
    detail: str

    def line(self) -> str:
        flag = "BREAKING" if self.breaking else "compatible"
        where = f" {self.column}" if self.column else ""
        return f"{flag:10} {self.kind}{where}: {self.detail}"


@dataclass
class ContractDiff:
    old: str
    new: str
    changes: list[Change]
    version_ok: bool
    """False when a breaking change comes without the bump the schema policy asks for."""

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "version_ok": self.version_ok,
                "breaking": bool(self.breaking), "changes": [asdict(c) for c in self.changes]}


def _narrowed(old: Any, new: Any, side: str) -> bool | None:
    """Whether the ``side`` bound got tighter; None when the bound is unchanged."""
    if old == new:
        return None
    if new is None:
        return False
    if old is None:
        return True
    try:
        return bool(new > old) if side == "min" else bool(new < old)
    except TypeError:
        return str(new) > str(old) if side == "min" else str(new) < str(old)


def _column_changes(old: Column, new: Column) -> Iterator[Change]:
    name = new.name
    if old.type != new.type:
        widening = new.type in _WIDENS_TO.get(old.type, set())
        yield Change("type_changed", name, not widening, f"{old.type} -> {new.type}")
    if old.nullable and not new.nullable:
        yield Change("nullability_tightened", name, True, "nullable -> not nullable")
    elif not old.nullable and new.nullable:
        yield Change("nullability_relaxed", name, False, "not nullable -> nullable")
    oc, nc = old.constraints, new.constraints
    for side in ("min", "max"):
        narrowed = _narrowed(getattr(oc, side), getattr(nc, side), side)
        if narrowed is not None:
            kind = "range_narrowed" if narrowed else "range_widened"
            yield Change(kind, name, narrowed, f"{side} {getattr(oc, side)} -> {getattr(nc, side)}")
    if oc.allowed_values != nc.allowed_values:
        removed = sorted(set(map(str, oc.allowed_values or [])) - set(map(str, nc.allowed_values or [])))
        narrowed_set = nc.allowed_values is not None and (oc.allowed_values is None or bool(removed))
        detail = f"values removed {removed}" if removed else f"{oc.allowed_values} -> {nc.allowed_values}"
        yield Change("allowed_values_changed", name, narrowed_set, detail)
    if oc.regex != nc.regex:
        yield Change("regex_changed", name, nc.regex is not None, f"{oc.regex!r} -> {nc.regex!r}")
    if not oc.unique and nc.unique:
        yield Change("unique_added", name, True, "values must now be unique")
    if oc.references != nc.references:  # a new or moved foreign key can reject rows that passed
        yield Change("references_changed", name, nc.references is not None, f"{oc.references} -> {nc.references}")


def diff_contracts(old: Contract, new: Contract) -> ContractDiff:
    """Classify every change from ``old`` to ``new`` as breaking or compatible.

    Example:
        >>> d = diff_contracts(load_contract("v1.yaml"), load_contract("v2.yaml"))
        >>> [c.line() for c in d.breaking]
        ['BREAKING   column_removed plan: column removed']
    """
    changes: list[Change] = []
    old_cols = {c.name: c for c in old.columns}
    new_cols = {c.name: c for c in new.columns}
    for name in old_cols.keys() - new_cols.keys():
        changes.append(Change("column_removed", name, True, "column removed"))
    for name in new_cols.keys() - old_cols.keys():
        col = new_cols[name]
        # A new required column breaks producers that do not write it yet.
        changes.append(Change("column_added", name, not col.nullable,
                              "required column added" if not col.nullable else "nullable column added"))
    for name in sorted(old_cols.keys() & new_cols.keys()):
        changes.extend(_column_changes(old_cols[name], new_cols[name]))
    if old.primary_key != new.primary_key:
        changes.append(Change("primary_key_changed", None, True, f"{old.primary_key} -> {new.primary_key}"))
    if old.freshness != new.freshness and new.freshness is not None:
        tighter = old.freshness is None or new.freshness.max_age_delta < old.freshness.max_age_delta
        changes.append(Change("freshness_changed", None, tighter,
                              f"{old.freshness.max_age if old.freshness else None} -> {new.freshness.max_age}"))
    for name, ratio in new.completeness.items():
        before = old.completeness.get(name)
        if before != ratio:
            changes.append(Change("completeness_changed", name, before is None or ratio > before, f"{before} -> {ratio}"))
    changes.sort(key=lambda c: (not c.breaking, c.column or "", c.kind))
    policy = new.schema_policy.breaking_changes
    has_breaking = any(c.breaking for c in changes)
    version_ok = (not has_breaking or policy == "allow"
                  or (policy == "require_major_bump" and new.dataset.major > old.dataset.major))
    return ContractDiff(old=old.ref, new=new.ref, changes=changes, version_ok=version_ok)
