"""A throw-away PostgreSQL that counts the rows it sends, for the pushdown test and benchmark.

The server is the production-like stack's (``tests/deploy/prodlike/prodlike_stack.py``: initdb and
postgres from the distribution, loopback only), started with ``pg_stat_statements`` preloaded:
its ``rows`` column is what each statement returned to the client, so "no rows pulled to the
worker" is a sum over the statements a run issued (the query text tells them apart).
Importable: pytest puts this folder on ``sys.path``; the benchmark adds it itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "prodlike"))

import prodlike_stack as ps  # found through the path above

_PG_TYPES = {"string": "text", "large_string": "text", "int64": "bigint", "int32": "integer", "int16": "smallint",
             "double": "double precision", "float": "real", "bool": "boolean", "date32[day]": "date",
             "timestamp[us, tz=UTC]": "timestamptz", "timestamp[us]": "timestamp",
             "timestamp[ns, tz=UTC]": "timestamptz", "timestamp[ns]": "timestamp"}


@dataclass(frozen=True)
class Server:
    database: ps.Database

    @contextlib.contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on a new autocommit connection (so VACUUM works), closed after."""
        import psycopg2

        db = self.database
        conn = psycopg2.connect(host=db.host, port=db.port, user=db.user, password=db.password, dbname=db.name)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                yield cur
        finally:
            conn.close()

    def airflow_conn(self) -> str:
        """The ``AIRFLOW_CONN_*`` value (JSON) reaching this database as its owner."""
        db = self.database
        return json.dumps({"conn_type": "postgres", "host": db.host, "port": db.port, "login": db.user,
                           "password": db.password, "schema": db.name})

    def load(self, name: str, table: Any, *, append: bool = False) -> None:
        """Create table ``name`` (or ``append`` to it) with the Arrow table's columns and rows (COPY, CSV)."""
        import pyarrow.csv as pacsv

        columns = ", ".join(f'"{f.name}" {_PG_TYPES[str(f.type)]}' for f in table.schema)
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        buffer.seek(0)
        with self.cursor() as cur:
            if not append:
                cur.execute(f'DROP TABLE IF EXISTS "{name}"; CREATE TABLE "{name}" ({columns})')
            cur.copy_expert(f'COPY "{name}" FROM STDIN WITH (FORMAT csv)', io.TextIOWrapper(buffer, "utf-8"))

    def reset_statistics(self) -> None:
        with self.cursor() as cur:
            cur.execute("SELECT pg_stat_statements_reset()")

    def rows_returned(self, containing: str) -> tuple[int, int]:
        """(statements, rows sent to clients) since the last reset, over statements whose text holds ``containing``."""
        with self.cursor() as cur:
            cur.execute("SELECT count(*), coalesce(sum(rows), 0) FROM pg_stat_statements "
                        "WHERE query LIKE %s AND query NOT LIKE %s", (f"%{containing}%", "%pg_stat_statements%"))
            calls, rows = cur.fetchone()
        return int(calls), int(rows)


@contextlib.contextmanager
def running_postgres(root: Path) -> Iterator[Server]:
    """PostgreSQL with ``pg_stat_statements`` and one database, stopped on exit."""
    stack = ps.Stack(root)
    try:
        settings = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all"}
        database = ps.start_postgres(stack, ("parity",), settings=settings, superuser=True)["parity"]
        server = Server(database)
        with server.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield server
    finally:
        stack.stop_all()


def missing() -> str | None:
    """Why the server cannot start here, or None."""
    lacking = [m for m in ps.missing_tools() if "asyncpg" not in m]
    return "; ".join(lacking) or None
