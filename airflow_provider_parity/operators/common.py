"""What the operators share besides their base: the run's moment, report links, templated versions, SQL sources.

Kept free of heavy imports, like every module the dag-processor reaches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperatorLink

from airflow_provider_parity.compat import conf
from airflow_provider_parity.operators.base import guard

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

T = TypeVar("T")
XCOM_REPORT_HTML = "report_html"
XCOM_REPORT_JSON = "report_json"


def run_as_of(context: Context, explicit: Any = None) -> datetime:
    """The one "now" a run judges freshness against, as an aware UTC datetime.

    ``explicit`` (an operator's templated ``as_of``: ISO 8601 with a zone, or a datetime) wins;
    DAGs that process a day pass the end of that day, so a manual run triggered the next
    afternoon judges that day as the scheduled run would have. Without it: the run's data
    interval end, else its logical date, else ``run_after`` (manual and asset-triggered runs
    have no data interval in Airflow 3).

    Raises:
        ConfigurationError: ``explicit`` is not a timestamp with a time zone.
    """
    from airflow_provider_parity.delta.asof import parse_timestamp
    from airflow_provider_parity.exceptions import ConfigurationError, SnapshotError

    if explicit not in (None, "", "None"):
        try:
            return parse_timestamp(explicit)
        except SnapshotError as exc:
            raise ConfigurationError(f"as_of: {exc}") from None
    for key in ("data_interval_end", "logical_date"):
        value: Any = context.get(key)
        if value is not None:
            return parse_timestamp(value)
    return parse_timestamp(context["dag_run"].run_after)


class HtmlReportLink(BaseOperatorLink):
    """Opens the HTML report a gate wrote (its URI is the ``report_html`` XCom) through the Parity
    plugin of the api-server, which reads it from the artifact store: a link that works from any
    browser, whichever worker wrote the report and wherever it is stored."""

    name = "Report"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        uri = XCom.get_value(ti_key=ti_key, key=XCOM_REPORT_HTML)
        return report_url(str(uri)) if uri else ""


def report_url(uri: str) -> str:
    """The api-server's page for the report at ``uri`` (``[api] base_url`` + ``/parity/reports?uri=``)."""
    from urllib.parse import quote

    base = str(conf.get("api", "base_url", fallback="") or "").rstrip("/")
    return f"{base}/parity/reports?uri={quote(uri, safe='')}"


def as_version(value: Any, name: str = "version") -> int | None:
    """A Delta version from a parameter that templating may have turned into text.

    Raises:
        ConfigurationError: not a non-negative integer.
    """
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    from airflow_provider_parity.exceptions import ConfigurationError

    try:
        version = int(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be an integer Delta version, got {value!r}") from None
    if version < 0:
        raise ConfigurationError(f"{name} must be >= 0, got {version}")
    return version


def check_source(operator: str, argument: str, value: Any, sql: str | None, conn_id: str | None) -> None:
    """A gate reads either ``argument=`` or ``sql=`` (through ``conn_id=``): say so at DAG parse time.

    Raises:
        OperatorArgumentError: neither or both were given, or ``sql=`` without ``conn_id=``.
    """
    from airflow_provider_parity.exceptions import OperatorArgumentError

    if (value is None) == (sql is None):
        raise OperatorArgumentError(f"{operator} needs exactly one of {argument}= and sql=")
    if sql is not None and not conn_id:
        raise OperatorArgumentError(f"{operator}: sql= needs conn_id=")


def _connection_hook(conn_id: str) -> tuple[str, Any]:
    """The connection's type and hook, or one line naming the connection.

    Raises:
        ConfigurationError: no such connection.
    """
    from airflow_provider_parity.compat import BaseHook
    from airflow_provider_parity.exceptions import ConfigurationError

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as exc:  # AirflowNotFoundException's module moved between Airflow versions
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "not found"
        raise ConfigurationError(f"connection {conn_id!r}: {reason}") from None
    return connection.conn_type or "", connection.get_hook()  # type: ignore[no-untyped-call]


def _fetch(hook: Any, sql: str, source: str) -> pa.Table:
    from airflow_provider_parity.exceptions import DataError
    from airflow_provider_parity.validation.native import to_arrow

    try:
        frame = hook.get_df(sql, df_type="pandas")
    except Exception as exc:  # each DB-API driver has its own error classes
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise DataError(f"the database refused the query: {reason}", source=source) from None
    return to_arrow(frame)


def read_sql(conn_id: str, sql: str) -> pa.Table:
    """The result of ``sql`` through a common-sql connection, as an Arrow table."""
    return _fetch(_connection_hook(conn_id)[1], sql, f"{conn_id}:{sql}")


PUSHDOWN_DIALECTS = {"postgres": "postgres"}
"""Connection types whose database runs the compiled rules itself (tested against a real server);
other connections' rows are fetched and checked by the engine in the worker."""


def open_sql(conn_id: str, sql: str, *, engine: str) -> Any:
    """A ``sql=`` source (a table name or a query): pushed down to the database for the default
    engine where the dialect is supported (a ``PushdownSource``), else fetched (a ``LoadedData``).

    Raises:
        ConfigurationError: no such connection.
        DataError: the database refused the query or table.
    """
    from airflow_provider_parity.validation.sources import LoadedData

    source = f"{conn_id}:{sql}"
    conn_type, hook = _connection_hook(conn_id)
    dialect = PUSHDOWN_DIALECTS.get(conn_type)
    if engine == "duckdb" and dialect is not None:
        from airflow_provider_parity.validation.pushdown import open_pushdown

        return open_pushdown(hook, sql, dialect=dialect, source=source)
    return LoadedData(_fetch(hook, sql, source), source, None, "sql")


def fail_fast(operator: Any, call: Callable[[], T]) -> T:
    """``call()`` inside :func:`~airflow_provider_parity.operators.base.guard`."""
    with guard(operator):
        return call()
