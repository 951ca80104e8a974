"""The online store: per entity, the newest feature row of one pinned, contract-clean Delta version.

Two implementations behind one small interface:

* :class:`SQLiteOnlineStore` (the embedded default): one table per feature view, keyed by the
  entity key, in WAL mode so the service reads while a materialisation writes.
* :class:`RedisOnlineStore` (deployments): one hash per entity, ``parity:<view>:<entity>``.

Each entity's row carries the Delta version it came from (the *materialisation version*), so a
served value can always be traced to the snapshot it was read from and the skew gate can compare
it with the right offline row. Values are stored as JSON, dates as days and timestamps as
microseconds since the epoch, and rebuilt into an Arrow batch typed by the contract: the serving
boundary check sees the same types as the offline gate.

Example:
    >>> store = open_store("sqlite:///var/parity/online.db")
    >>> materialize("/lake/customer_features", 12, contract, store)
    >>> store.read("customer_features", [["C000001"]])
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from airflow_provider_parity.exceptions import ConfigurationError, DataError

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract

VERSION_FIELD = "__version"
"""The materialisation version stored with every entity's row."""


def entity_keys(contract: Contract) -> list[str]:
    """The entity key: the contract's primary key without its date/timestamp columns (the same rule as the skew gate)."""
    keys = [k for k in contract.primary_key if contract.column(k).type not in ("date", "timestamp")]
    if not keys:
        raise DataError(f"contract {contract.ref} has no entity key: its primary key has no non-time column")
    return keys


def served_columns(contract: Contract) -> list[str]:
    """What the store keeps per entity: every serving-side column except the entity key."""
    keys = set(entity_keys(contract))
    return [c.name for c in contract.columns_for("serving") if c.name not in keys]


def event_time_column(contract: Contract) -> str:
    """The ``role: event_time`` column, which orders an entity's rows (newest wins)."""
    for col in contract.columns:
        if col.role == "event_time":
            return col.name
    raise DataError(f"contract {contract.ref} has no role: event_time column to order an entity's rows by")


def entity_id(values: Sequence[Any]) -> str:
    """One string per entity key tuple (JSON: ``"C1"`` and ``1`` stay distinct)."""
    return json.dumps(list(values), separators=(",", ":"))


@dataclass(frozen=True)
class Lookup:
    """What the store returned for a list of entities: a row (None when unknown) and its version."""

    rows: list[dict[str, Any] | None]
    versions: list[int | None]


class OnlineStore(Protocol):
    """Per feature view: write one version's newest rows, read rows by entity."""

    def materialised_version(self, view: str) -> int | None: ...

    def replace(self, view: str, rows: Mapping[str, dict[str, Any]], version: int) -> None: ...

    def read(self, view: str, entities: Sequence[Sequence[Any]]) -> Lookup: ...

    def close(self) -> None: ...


class SQLiteOnlineStore:
    """One table per view (``entity`` primary key, JSON ``row``, ``version``) and a ``parity_views`` table.

    A materialisation replaces the view's rows and records its version in one transaction, so a
    reader sees either the old version or the new one, never a mix.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        if path and path != ":memory:":  # the lake's online/ folder does not exist before the first run
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # The service reads from its event loop and a materialisation may run in another process:
        # WAL lets both proceed; one connection per thread keeps sqlite3 thread-safe.
        self._local = threading.local()
        with self._conn() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS parity_views (view TEXT PRIMARY KEY, version INTEGER NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            except sqlite3.OperationalError as exc:
                raise ConfigurationError(f"online store {self.path}: {exc}") from None
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    @staticmethod
    def _table(view: str) -> str:
        return '"fv_' + view.replace('"', "") + '"'

    def materialised_version(self, view: str) -> int | None:
        row = self._conn().execute("SELECT version FROM parity_views WHERE view = ?", (view,)).fetchone()
        return None if row is None else int(row[0])

    def replace(self, view: str, rows: Mapping[str, dict[str, Any]], version: int) -> None:
        conn, table = self._conn(), self._table(view)
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (entity TEXT PRIMARY KEY, row TEXT NOT NULL, "
                         "version INTEGER NOT NULL)")
            conn.execute(f"DELETE FROM {table}")
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)",
                             ((key, json.dumps(row), version) for key, row in rows.items()))
            conn.execute("INSERT INTO parity_views VALUES (?, ?) ON CONFLICT(view) DO UPDATE SET version = excluded.version",
                         (view, version))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def read(self, view: str, entities: Sequence[Sequence[Any]]) -> Lookup:
        ids = [entity_id(e) for e in entities]
        try:
            found = dict(((key, (row, version)) for key, row, version in self._conn().execute(
                f"SELECT entity, row, version FROM {self._table(view)} WHERE entity IN ({','.join('?' * len(ids))})",
                ids)))
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise DataError(f"online store {self.path} has no feature view {view!r}: materialise it first") from None
            raise
        hits = [found.get(key) for key in ids]
        return Lookup(rows=[None if h is None else json.loads(h[0]) for h in hits],
                      versions=[None if h is None else int(h[1]) for h in hits])

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class RedisOnlineStore:
    """A hash per entity, ``parity:<view>:<entity>``, fields = columns (JSON) plus ``__version``;
    the view's entities in the set ``parity-entities:<view>``.

    A materialisation writes every entity (pipelined, in chunks) and then the view's version key:
    a retry after a crash rewrites everything, because the version key was never set.
    """

    CHUNK = 5000

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=10)

    @staticmethod
    def _key(view: str, entity: str) -> str:
        return f"parity:{view}:{entity}"

    def materialised_version(self, view: str) -> int | None:
        value = self.client.get(f"parity-views:{view}")
        return None if value is None else int(value)

    def replace(self, view: str, rows: Mapping[str, dict[str, Any]], version: int) -> None:
        members = f"parity-entities:{view}"
        gone = {m.decode() if isinstance(m, bytes) else str(m) for m in self.client.smembers(members)} - set(rows)
        items = list(rows.items())
        for start in range(0, len(items), self.CHUNK):
            pipe = self.client.pipeline(transaction=False)
            chunk = items[start:start + self.CHUNK]
            for key, row in chunk:
                name = self._key(view, key)
                pipe.delete(name)
                pipe.hset(name, mapping={**{c: json.dumps(v) for c, v in row.items()}, VERSION_FIELD: version})
            pipe.sadd(members, *(key for key, _ in chunk))
            pipe.execute()
        # Entities the new version no longer has are unknown from now on, as in SQLite.
        gone_list = sorted(gone)
        for start in range(0, len(gone_list), self.CHUNK):
            dropped = gone_list[start:start + self.CHUNK]
            self.client.delete(*(self._key(view, key) for key in dropped))
            self.client.srem(members, *dropped)
        self.client.set(f"parity-views:{view}", version)

    def read(self, view: str, entities: Sequence[Sequence[Any]]) -> Lookup:
        pipe = self.client.pipeline(transaction=False)
        for entity in entities:
            pipe.hgetall(self._key(view, entity_id(entity)))
        rows: list[dict[str, Any] | None] = []
        versions: list[int | None] = []
        for found in pipe.execute():
            if not found:
                rows.append(None)
                versions.append(None)
                continue
            fields = {k.decode(): v for k, v in found.items()}
            versions.append(int(fields.pop(VERSION_FIELD)))
            rows.append({k: json.loads(v) for k, v in fields.items()})
        return Lookup(rows=rows, versions=versions)

    def close(self) -> None:
        self.client.close()


def open_store(uri: str) -> OnlineStore:
    """``sqlite:///path/to/online.db`` (or a plain path) or ``redis://host:port/db``.

    Raises:
        ConfigurationError: another scheme.
    """
    if uri.startswith(("redis://", "rediss://", "unix://")):
        return RedisOnlineStore(uri)
    if uri.startswith("sqlite:///"):
        # sqlite:///rel.db is relative, sqlite:////abs/online.db absolute (SQLAlchemy's spelling).
        return SQLiteOnlineStore(uri[len("sqlite:///"):])
    if "://" in uri:
        raise ConfigurationError(f"online store {uri.split('://')[0]}:// is not supported: use sqlite:///PATH or redis://HOST:PORT/DB")
    return SQLiteOnlineStore(uri)


# --------------------------------------------------------------------------- Arrow in and out

def _storable(table: pa.Table) -> pa.Table:
    """Dates as days and timestamps as microseconds since the epoch: plain JSON numbers."""
    import pyarrow as pa

    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            column = column.cast(pa.timestamp("us", tz="UTC") if field.type.tz else pa.timestamp("us")).cast(pa.int64())
        elif pa.types.is_date(field.type):
            column = column.cast(pa.date32()).cast(pa.int32())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _arrow_type(logical: str) -> pa.DataType:
    import pyarrow as pa

    return {"string": pa.string(), "integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_(),
            "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}[logical]


def to_batch(contract: Contract, entities: Sequence[Sequence[Any]], rows: Sequence[dict[str, Any] | None]) -> pa.Table:
    """The served batch, typed by the contract: entity keys, then the stored columns (nulls for an unknown entity)."""
    import pyarrow as pa

    keys = entity_keys(contract)
    arrays, names = [], []
    for position, name in enumerate(keys):
        arrays.append(pa.array([e[position] for e in entities], _arrow_type(contract.column(name).type)))
        names.append(name)
    for name in served_columns(contract):
        logical = contract.column(name).type
        values = [None if r is None else r.get(name) for r in rows]
        if logical == "timestamp":
            arrays.append(pa.array(values, pa.int64()).cast(_arrow_type(logical)))
        elif logical == "date":
            arrays.append(pa.array(values, pa.int32()).cast(pa.date32()))
        else:
            arrays.append(pa.array(values, _arrow_type(logical)))
        names.append(name)
    return pa.table(arrays, names=names)


# --------------------------------------------------------------------------- materialisation

def newest_rows(table: pa.Table, keys: Sequence[str], order_by: str, columns: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Per entity, the row with the newest ``order_by`` (ties: the last one read)."""
    import pyarrow.compute as pc

    ordered = table.take(pc.sort_indices(table, sort_keys=[(order_by, "ascending")]))
    stored = _storable(ordered.select([*keys, *columns]))
    width = len(keys)
    newest: dict[str, dict[str, Any]] = {}
    names = stored.column_names
    for values in zip(*(stored.column(n).to_pylist() for n in names), strict=True):
        newest[entity_id(values[:width])] = dict(zip(names[width:], values[width:], strict=True))
    return newest


@dataclass(frozen=True)
class Materialisation:
    """What :func:`materialize` did: the view, the version, how many entities, and whether it was a no-op."""

    view: str
    version: int
    entities: int
    skipped: bool

    def to_dict(self) -> dict[str, Any]:
        return {"view": self.view, "version": self.version, "entities": self.entities, "skipped": self.skipped}


def materialize(table_uri: str, version: int, contract: Contract, store: OnlineStore, *,
                storage_options: Mapping[str, str] | None = None, view: str | None = None) -> Materialisation:
    """Write the newest row per entity of ``table_uri`` at ``version`` into ``store`` (view = the contract's name).

    Idempotent: when the store already holds this version of the view nothing is read or written,
    so a retried task is a no-op. The caller pins a version that passed the contract gate.

    Raises:
        SnapshotError: no such table or version.
        DataError: the version lacks a column the contract serves, or the contract has no entity key.
    """
    from airflow_provider_parity.delta.readers import read_arrow

    view = view or contract.name
    keys, columns, order_by = entity_keys(contract), served_columns(contract), event_time_column(contract)
    if store.materialised_version(view) == version:
        return Materialisation(view=view, version=version, entities=0, skipped=True)
    table = read_arrow(table_uri, version, storage_options=storage_options, columns=[*keys, *columns])
    rows = newest_rows(table, keys, order_by, columns)
    store.replace(view, rows, version)
    return Materialisation(view=view, version=version, entities=len(rows), skipped=False)
