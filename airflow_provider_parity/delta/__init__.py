"""Pinned Delta versions: snapshots, fingerprints, readers, the writer, freshness.

No Airflow here, and no heavy import at module level (delta-rs, pyarrow and pyspark
are imported where used), so a serving service or a DAG file can import it cheaply.
"""

from airflow_provider_parity.delta.engines import read_pin, verify_pin
from airflow_provider_parity.delta.readers import iter_batches, read_arrow, read_pandas
from airflow_provider_parity.delta.snapshot import Snapshot, resolve_snapshot

__all__ = ["Snapshot", "iter_batches", "read_arrow", "read_pandas", "read_pin", "resolve_snapshot", "verify_pin"]
