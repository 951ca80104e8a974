"""What the skew gate compares and how strictly: entity keys, the as-of column, a tolerance per feature.

Decided once, from the contract when there is one (else from the two schemas), before any row
is read, so a bad setting is bad input and never a half-run comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from airflow_provider_parity.exceptions import ConfigurationError, SchemaMismatchError

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract, SkewTolerance

FeatureKind = Literal["float", "integer", "exact"]
SERVED_AT = "served_at"
# Columns a serving log carries about the request itself, never compared as features.
LOG_COLUMNS = frozenset({"request_id", "served_at", "model_version"})
DEFAULT_ABSOLUTE = 1e-9
DEFAULT_RELATIVE = 1e-6
FALLBACK_AS_OF = "feature_date"


@dataclass(frozen=True)
class FeatureRule:
    """One feature and its tolerance: served and offline match when
    ``|served - offline| <= absolute + relative * |offline|`` (exactly equal for ``exact``)."""

    name: str
    kind: FeatureKind
    absolute: float = 0.0
    relative: float = 0.0

    @property
    def exact(self) -> bool:
        return self.kind == "exact" or (self.absolute == 0.0 and self.relative == 0.0 and self.kind == "integer")

    def describe(self) -> str:
        if self.exact:
            return "exact"
        return f"|served - offline| <= {self.absolute:g} + {self.relative:g} x |offline|"


@dataclass(frozen=True)
class SkewSettings:
    """How one skew comparison runs.

    Attributes:
        keys: the entity key columns, in both tables.
        as_of_column: the offline table's event-time column (timestamp with a zone, or a date:
            midnight UTC of that day).
        features: the features compared, each with its tolerance.
        max_mismatch_rate: largest share of mismatched entities per feature that still passes.
        max_missing_rate: largest share of requests with no offline row as of their time.
        max_examples: examples kept per feature (and for missing rows).
        served_at: the log's request-time column.
    """

    keys: tuple[str, ...]
    as_of_column: str
    features: tuple[FeatureRule, ...]
    max_mismatch_rate: float = 0.0
    max_missing_rate: float = 0.0
    max_examples: int = 10
    served_at: str = SERVED_AT


def _tolerance(tolerance: SkewTolerance | None, default: tuple[float, float]) -> tuple[float, float]:
    if tolerance is None:
        return default
    return tolerance.absolute or 0.0, tolerance.relative or 0.0


def _contract_keys(contract: Contract) -> list[str]:
    # A versioned feature table's key is (entity, date): the date is time, which the as-of join handles.
    return [k for k in contract.primary_key if contract.column(k).type not in ("date", "timestamp")]


def _contract_features(contract: Contract, keys: Sequence[str], as_of: str) -> list[FeatureRule]:
    policy = contract.skew_policy
    default = _tolerance(policy.float_tolerance, (DEFAULT_ABSOLUTE, DEFAULT_RELATIVE))
    one_sided = set(contract.environments.training_only) | set(contract.environments.serving_only)
    skip = one_sided | set(policy.exclude) | set(keys) | {as_of}
    rules = []
    for col in contract.columns:
        if col.role != "feature" or col.name in skip:
            continue
        if col.type == "float":
            absolute, relative = _tolerance(col.skew_tolerance, default)
            rules.append(FeatureRule(col.name, "float", absolute, relative))
        elif col.type == "integer":
            absolute, relative = _tolerance(col.skew_tolerance, (0.0, 0.0))
            rules.append(FeatureRule(col.name, "integer", absolute, relative))
        else:
            rules.append(FeatureRule(col.name, "exact"))
    return rules


def _inferred_features(log: pa.Schema, offline: pa.Schema, skip: set[str]) -> list[FeatureRule]:
    import pyarrow as pa

    rules = []
    for name in offline.names:
        if name in skip or name not in log.names:
            continue
        kind = offline.field(name).type
        if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
            rules.append(FeatureRule(name, "float", DEFAULT_ABSOLUTE, DEFAULT_RELATIVE))
        elif pa.types.is_integer(kind):
            rules.append(FeatureRule(name, "integer"))
        else:
            rules.append(FeatureRule(name, "exact"))
    return rules


def _as_of_column(contract: Contract | None, offline: pa.Schema, explicit: str | None) -> str:
    if explicit:
        return explicit
    if contract is not None:
        for col in contract.columns:
            if col.role == "event_time" and col.name in offline.names:
                return col.name
    if FALLBACK_AS_OF in offline.names:
        return FALLBACK_AS_OF
    raise ConfigurationError(
        "no event-time column for the as-of join: give one (--as-of-column), a contract with a role: event_time "
        f"column, or an offline table with {FALLBACK_AS_OF!r}")


def _require(schema: pa.Schema, names: Sequence[str], side: str, source: str) -> None:
    missing = [n for n in names if n not in schema.names]
    if missing:
        raise SchemaMismatchError(
            f"the {side} has no column {missing[0]!r} (columns: {', '.join(schema.names)})",
            source=source, column=missing[0])


def resolve_settings(log: pa.Schema, offline: pa.Schema, *, contract: Contract | None = None,
                     keys: Sequence[str] | None = None, as_of_column: str | None = None,
                     max_examples: int = 10, served_at: str = SERVED_AT, log_source: str = "serving log",
                     offline_source: str = "offline table") -> SkewSettings:
    """The comparison for these two schemas: explicit arguments first, then the contract, then the schemas.

    Raises:
        ConfigurationError: no entity key or no event-time column can be found.
        SchemaMismatchError: a key, ``served_at``, the as-of column or a contract feature is missing.
    """
    if max_examples < 0:
        raise ConfigurationError(f"max_examples must be >= 0, got {max_examples}")
    key_list = list(keys) if keys else (_contract_keys(contract) if contract is not None else [])
    if not key_list:
        raise ConfigurationError("no entity key: give the key columns (--key) or a contract with a primary key")
    as_of = _as_of_column(contract, offline, as_of_column)
    _require(log, [*key_list, served_at], "serving log", log_source)
    _require(offline, [*key_list, as_of], "offline table", offline_source)
    if contract is not None:
        features = _contract_features(contract, key_list, as_of)
        names = [f.name for f in features]
        _require(log, names, "serving log", log_source)
        _require(offline, names, "offline table", offline_source)
        policy = contract.skew_policy
        rates = (policy.max_mismatch_rate, policy.max_missing_rate)
    else:
        skip = set(key_list) | {as_of, served_at} | LOG_COLUMNS
        features, rates = _inferred_features(log, offline, skip), (0.0, 0.0)
    if not features:
        raise ConfigurationError("no feature to compare: the serving log and the offline table share no feature column")
    return SkewSettings(keys=tuple(key_list), as_of_column=as_of, features=tuple(features),
                        max_mismatch_rate=rates[0], max_missing_rate=rates[1], max_examples=max_examples,
                        served_at=served_at)
