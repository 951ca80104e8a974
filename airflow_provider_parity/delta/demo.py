"""Small example Delta tables, for tests, benchmarks and trying the CLI.

``build_evolving_table`` takes one table through the operations a pin must survive:
create, append, overwrite and schema evolution (a new column).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class EvolvingTable:
    """A table and the rows each of its versions holds (in write order)."""

    uri: str
    versions: list[pa.Table]


def event_rows(ids: list[int], *, score: bool = False, hour: int = 0) -> pa.Table:
    """Rows ``id, name, event_time[, score]``; ``name`` is null for ids divisible by 3.

    Event times are on 2024-01-01 at ``hour``, minute ``id % 60`` (UTC).
    """
    import pyarrow as pa

    columns = {
        "id": pa.array(ids, pa.int64()),
        "name": pa.array([f"n{i}" if i % 3 else None for i in ids], pa.string()),
        "event_time": pa.array(
            [datetime(2024, 1, 1, hour, i % 60, tzinfo=UTC) for i in ids], pa.timestamp("us", tz="UTC")
        ),
    }
    if score:
        columns["score"] = pa.array([i / 10 for i in ids], pa.float64())
    return pa.table(columns)


def build_evolving_table(path: str | Path) -> EvolvingTable:
    """Versions: 0 create (ids 1-3), 1 append (4-5), 2 overwrite (10-13), 3 append with a new ``score`` column."""
    import pyarrow as pa
    from deltalake import write_deltalake

    uri = str(path)
    v0 = event_rows([1, 2, 3])
    write_deltalake(uri, v0)
    v1_new = event_rows([4, 5], hour=1)
    write_deltalake(uri, v1_new, mode="append")
    v2 = event_rows([10, 11, 12, 13], hour=2)
    write_deltalake(uri, v2, mode="overwrite")
    v3_new = event_rows([14, 15], score=True, hour=3)
    write_deltalake(uri, v3_new, mode="append", schema_mode="merge")
    v2_with_score = v2.append_column("score", pa.nulls(v2.num_rows, pa.float64()))
    return EvolvingTable(
        uri=uri,
        versions=[v0, pa.concat_tables([v0, v1_new]), v2, pa.concat_tables([v2_with_score, v3_new])],
    )
