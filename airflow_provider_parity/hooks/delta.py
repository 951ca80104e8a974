"""DeltaTableHook: a Delta Lake table root and its storage credentials from a connection.

Connection type ``delta``:

* ``host``: the table root, e.g. ``/data/lake``, ``s3://bucket/lake``, ``gs://bucket/lake``,
  ``abfss://container@account.dfs.core.windows.net/lake`` (or ``extra.root``).
* ``login`` / ``password``: the store's key pair (AWS access key id and secret; Azure
  account name and key, or client id and secret with ``extra.tenant_id``; for GCS the
  password may hold the service account key JSON).
* ``extra``: ``region``, ``endpoint_url`` (MinIO and other S3-compatible stores),
  ``session_token``, ``service_account_key``, ``tenant_id``, ``account_name``,
  ``sas_token``, and ``storage_options`` passed to delta-rs verbatim. Waits on a remote store
  are bounded by default (``delta.storage.BOUNDED_WAITS``: a store that is down fails a task in
  under 30 s); ``storage_options`` such as ``timeout``, ``connect_timeout`` and ``retry_timeout``
  override them.

Credentials come only from the connection (hence from the secrets backend when one
is configured); every credential value is registered with Airflow's secrets masker
so it never reaches a log line. A connection without login/password leaves delta-rs
to its default chain (the worker's instance role or workload identity), which is how
keyless cloud deployments authenticate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.compat import BaseHook

if TYPE_CHECKING:
    from datetime import datetime

    from airflow.sdk import Connection

    from airflow_provider_parity.delta.snapshot import Snapshot


def storage_from_connection(conn: Connection, *, mask: bool = True) -> tuple[str, dict[str, str]]:
    """(table root, delta-rs storage options) from a ``delta`` connection.

    Args:
        conn: the connection.
        mask: hand the credential values to the secrets masker first. Async callers
            pass False and await :func:`amask_secrets` instead.
    """
    from airflow_provider_parity.delta.storage import (
        build_storage_options,
        storage_kind,
    )

    extra = conn.extra_dejson or {}
    root = str(extra.get("root") or conn.host or "")
    kind = extra.get("storage") or (storage_kind(root) if root else "local")
    options = build_storage_options(kind, login=conn.login, password=conn.password, extra=extra)
    if mask:
        from airflow.sdk.log import mask_secret

        for value in secret_values(options):
            mask_secret(value)
    return root, options


def secret_values(options: Mapping[str, str]) -> list[str]:
    """The credential values among storage options."""
    from airflow_provider_parity.delta.storage import is_secret_option

    return [v for k, v in options.items() if is_secret_option(k) and v]


async def amask_secrets(options: Mapping[str, str]) -> None:
    """Register credential values with the secrets masker from async code (a trigger)."""
    from airflow.sdk.log import amask_secret

    for value in secret_values(options):
        await amask_secret(value)


class DeltaTableHook(BaseHook):
    """Reach Delta tables under the root of a ``delta`` connection.

    Args:
        delta_conn_id: the connection; None for local tables addressed by absolute path.

    Example:
        >>> hook = DeltaTableHook("lake")
        >>> hook.resolve_snapshot("customers", as_of="2024-05-01T00:00:00Z").version
    """

    conn_name_attr = "delta_conn_id"
    default_conn_name = "delta_default"
    conn_type = "delta"
    hook_name = "Delta Lake table"

    def __init__(self, delta_conn_id: str | None = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delta_conn_id = delta_conn_id
        self._storage: tuple[str, dict[str, str]] | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port"],
            "relabeling": {
                "host": "Table root (path or s3://, gs://, abfss:// URI)",
                "login": "Access key id / account name / client id",
                "password": "Secret key / account key / client secret",
            },
            "placeholders": {
                "host": "s3://my-bucket/lake",
                "login": "AKIA... (empty: the runtime's default credentials)",
                "extra": '{"region": "eu-west-1", "endpoint_url": "http://minio:9000", "storage_options": {}}',
            },
        }

    def get_conn(self) -> tuple[str, dict[str, str]]:
        """(table root, storage options); an empty root and no options without a connection."""
        if self._storage is None:
            if self.delta_conn_id is None:
                self._storage = ("", {})
            else:
                self._storage = storage_from_connection(self.get_connection(self.delta_conn_id))
        return self._storage

    @property
    def storage_options(self) -> dict[str, str]:
        return dict(self.get_conn()[1])

    def table_uri(self, table: str) -> str:
        """The URI of ``table``: a name under the connection's root, or an absolute path/URI as is."""
        from airflow_provider_parity.delta.storage import (
            join_table_uri,
            normalize_table_uri,
        )

        return normalize_table_uri(join_table_uri(self.get_conn()[0], table))

    def resolve_snapshot(
        self, table: str, version: int | None = None, *, as_of: str | datetime | None = None
    ) -> Snapshot:
        """Pin a version of ``table`` (see :func:`airflow_provider_parity.delta.snapshot.resolve_snapshot`)."""
        from airflow_provider_parity.delta.snapshot import resolve_snapshot

        return resolve_snapshot(self.table_uri(table), version, as_of=as_of, storage_options=self.storage_options)

    def test_connection(self) -> tuple[bool, str]:
        """Check that the root is reachable (used by the UI's Test button)."""
        root, options = self.get_conn()
        try:
            from deltalake import DeltaTable

            found = DeltaTable.is_deltatable(root, options or None)
        except Exception as exc:
            from airflow_provider_parity.delta.storage import redact_uri

            return False, f"cannot reach {redact_uri(root)}: {type(exc).__name__}"
        return True, "the root is a Delta table" if found else "reachable (the root itself is not a Delta table)"

