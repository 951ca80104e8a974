"""Served against offline, value by value, for one feature over every matched request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.exceptions import SchemaMismatchError
from airflow_provider_parity.skew.result import FeatureSkew, SkewExample, json_value

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from airflow_provider_parity.skew.settings import FeatureRule, SkewSettings


@dataclass(frozen=True)
class Joined:
    """The matched requests and, row for row, the offline rows they read.

    Attributes:
        log: the matched requests (keys, ``served_at``, ``request_id`` when logged, the features).
        offline: the offline row each of them reads (the as-of column and the features).
        entity: each row's dense entity code.
        entities: how many distinct entities the rows hold.
    """

    log: pa.Table
    offline: pa.Table
    entity: npt.NDArray[np.int64]
    entities: int
    settings: SkewSettings


def _is_number(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind))


def _aligned(name: str, served: pa.Array, offline: pa.Array) -> pa.Array:
    """The served column in the offline column's type (an int32 log against int64 offline is fine).

    Numbers of different kinds stay as they are: they meet as float64, so 3.5 served for an integer
    feature is a mismatch, not bad input.
    """
    import pyarrow as pa

    if served.type == offline.type or (_is_number(served.type) and _is_number(offline.type)):
        return served
    try:
        return served.cast(offline.type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise SchemaMismatchError(f"feature {name!r} is {served.type} in the serving log but {offline.type} in the "
                                  "offline table", column=name) from None


def _nulls(array: pa.Array) -> npt.NDArray[np.bool_]:
    import numpy as np

    if array.null_count == 0:
        return np.zeros(len(array), dtype=bool)
    result: npt.NDArray[np.bool_] = array.is_null().to_numpy(zero_copy_only=False)
    return result


def _numeric(rule: FeatureRule, served: pa.Array, offline: pa.Array, exact: bool) -> tuple[Any, Any]:
    """(match, |difference|) for numbers; the difference is NaN where a side is null."""
    import numpy as np
    import pyarrow as pa

    s_null, o_null = _nulls(served), _nulls(offline)
    both = ~s_null & ~o_null
    # Lossy beyond 2**53, which only the difference shown suffers: integers are matched as integers below.
    s = served.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    o = offline.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        diff = np.abs(s - o)
        if exact and pa.types.is_integer(served.type) and pa.types.is_integer(offline.type):
            # Integers compare as integers: float64 cannot tell 2**53 from 2**53 + 1.
            kind = pa.int64() if not pa.types.is_unsigned_integer(offline.type) else pa.uint64()
            equal = served.fill_null(0).cast(kind).to_numpy() == offline.fill_null(0).cast(kind).to_numpy()
        else:
            equal = (s == o) | (diff <= rule.absolute + rule.relative * np.abs(o)) | (np.isnan(s) & np.isnan(o))
    diff[~both] = np.nan
    return (s_null & o_null) | (both & equal), diff


def _exact(served: pa.Array, offline: pa.Array) -> Any:
    import pyarrow.compute as pc

    equal = pc.fill_null(pc.equal(served, offline), False).to_numpy(zero_copy_only=False)
    return equal | (_nulls(served) & _nulls(offline))


def _examples(joined: Joined, rows: Any, served: pa.Array, offline: pa.Array, diff: Any) -> list[SkewExample]:
    import numpy as np
    import pyarrow as pa

    if len(rows) == 0:
        return []
    picked = pa.array(rows, pa.int64())
    settings = joined.settings
    log = joined.log.take(picked)
    keys = {k: log[k].to_pylist() for k in settings.keys}
    request_ids = log["request_id"].to_pylist() if "request_id" in log.column_names else [None] * len(rows)
    times = joined.offline[settings.as_of_column].take(picked).to_pylist()
    out = []
    for i, (row, s, o) in enumerate(zip(rows, served.take(picked).to_pylist(), offline.take(picked).to_pylist(),
                                        strict=True)):
        gap = None if diff is None or not np.isfinite(diff[row]) else float(diff[row])
        out.append(SkewExample(entity={k: json_value(v[i]) for k, v in keys.items()},
                               served_at=str(json_value(log[settings.served_at][i].as_py())),
                               served=json_value(s), offline=json_value(o), offline_time=str(json_value(times[i])),
                               request_id=None if request_ids[i] is None else str(request_ids[i]), difference=gap))
    return out


def compare_feature(joined: Joined, rule: FeatureRule) -> FeatureSkew:
    """How often, by how much and for which entities served and offline disagree on ``rule.name``.

    Raises:
        SchemaMismatchError: the two sides hold the feature in types that cannot be compared.
    """
    import numpy as np

    from airflow_provider_parity.skew.join import plain

    offline = plain(joined.offline[rule.name])
    served = _aligned(rule.name, plain(joined.log[rule.name]), offline)
    diff = None
    if rule.kind != "exact" and _is_number(offline.type) and _is_number(served.type):
        match, diff = _numeric(rule, served, offline, exact=rule.exact)
    else:
        match = _exact(served, offline)
    mismatch = ~match
    mismatched = np.flatnonzero(mismatch)
    finite = diff[np.isfinite(diff)] if diff is not None else None
    null_mismatches = int(np.count_nonzero(mismatch & (_nulls(served) ^ _nulls(offline))))
    return FeatureSkew(
        name=rule.name, kind=rule.kind, tolerance=rule.describe(), requests=len(match),
        mismatched_requests=len(mismatched), entities=joined.entities,
        mismatched_entities=int(np.unique(joined.entity[mismatched]).size), null_mismatches=null_mismatches,
        max_difference=float(finite.max()) if finite is not None and finite.size else None,
        max_mismatch_rate=joined.settings.max_mismatch_rate,
        examples=_examples(joined, mismatched[: joined.settings.max_examples], served, offline, diff),
    )
