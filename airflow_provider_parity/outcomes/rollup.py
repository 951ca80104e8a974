"""A rollup of the ledger for cold readers: one Parquet file instead of one file per day partition.

The ledger is partitioned by day, so even compacted a year of outcomes is 365 files, and a fresh
reader (an api-server process after a restart, the first request after a ledger commit) opens
every one: over a second on a local disk, more on object storage. :func:`build_rollup` (run by
``compact_ledger``) writes the view's columns of the whole table into one file, with a manifest
naming the Delta files it holds; :func:`read_rollup` reads that file plus only the files committed
since. Any file of the manifest gone from the table (a compaction, a rewrite) makes the rollup
stale, and the reader falls back to the table itself: the rollup can make a read faster, never
different. It lives in the table's folder under ``_parity_rollup/``, which Delta ignores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa
    from deltalake import DeltaTable

ROLLUP_DIR = "_parity_rollup"
MANIFEST = "manifest.json"


def _paths(table: DeltaTable) -> list[str]:
    """The table's current data files, relative to its root (the paths of its add actions)."""
    return [str(p) for p in table.get_add_actions(flatten=True).column("path").to_pylist()]


def build_rollup(uri: str, columns: Sequence[str], *, storage_options: Mapping[str, str] | None = None) -> str:
    """Write ``columns`` of every row of the ledger at ``uri`` (already normalised) into the rollup.

    The data file first, the manifest last (one write): a reader never sees a manifest without its data.

    Returns:
        The rollup's data URI.
    """
    import io

    import pyarrow.parquet as pq
    from deltalake import DeltaTable

    from airflow_provider_parity.artifacts import ArtifactStore, join_uri

    options = dict(storage_options or {}) or None
    table = DeltaTable(uri, storage_options=options)
    data = table.to_pyarrow_table(columns=list(columns))  # the same snapshot as the paths below
    sink = io.BytesIO()
    pq.write_table(data, sink, compression="zstd")
    store = ArtifactStore(storage_options)
    name = f"rollup-v{table.version()}.parquet"
    target = store.write_bytes(join_uri(uri, ROLLUP_DIR, name), sink.getvalue())
    store.write_json(join_uri(uri, ROLLUP_DIR, MANIFEST),
                     {"version": table.version(), "columns": list(columns), "data": name, "files": _paths(table)})
    return target


def read_rollup(table: DeltaTable, uri: str, columns: Sequence[str], *,
                storage_options: Mapping[str, str] | None = None) -> pa.Table | None:
    """``columns`` of the ledger through its rollup (None: no usable rollup; read the table instead)."""
    import io

    import pyarrow as pa
    import pyarrow.dataset as pads
    import pyarrow.parquet as pq

    from airflow_provider_parity.artifacts import ArtifactStore, join_uri
    from airflow_provider_parity.delta.readers import arrow_dataset
    from airflow_provider_parity.exceptions import DataError

    store = ArtifactStore(storage_options)
    try:
        manifest: dict[str, Any] = store.read_json(join_uri(uri, ROLLUP_DIR, MANIFEST))
        current = set(_paths(table))
        held = set(manifest["files"])
        if not set(columns) <= set(manifest["columns"]) or not held <= current:
            return None  # a column it lacks, or the table was rewritten since (compaction)
        base = pq.read_table(io.BytesIO(store.read_bytes(join_uri(uri, ROLLUP_DIR, manifest["data"]))),
                             columns=list(columns))
    except (DataError, KeyError, ValueError, TypeError):
        return None  # no rollup, or one this code cannot read: the table answers
    added = current - held
    if not added:
        return base
    dataset = arrow_dataset(table)
    fragments = [f for f in dataset.get_fragments() if f.path in added]
    fresh = pads.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)
    return pa.concat_tables([base, fresh.to_table(columns=list(columns)).cast(base.schema)])
