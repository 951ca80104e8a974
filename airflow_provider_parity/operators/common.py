"""What the gate operators share: report folders and links, templated versions, SQL sources.

Kept free of heavy imports, like every module the dag-processor reaches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseOperatorLink

from airflow_provider_parity.compat import parity_option

if TYPE_CHECKING:
    import pyarrow as pa
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

T = TypeVar("T")
XCOM_REPORT_HTML = "report_html"
XCOM_REPORT_JSON = "report_json"


def run_report_dir(dag_id: str, run_id: str, base: str | None = None) -> Path:
    """``<base>/<dag_id>/<run_id>``: one folder per DAG run, so reports of two runs never mix.

    ``base`` defaults to the ``[parity] report_dir`` option, else ``{AIRFLOW_HOME}/parity/reports``.
    """
    root = base or parity_option("report_dir", "") or os.path.join(
        os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "parity", "reports")
    return Path(root) / dag_id / str(run_id).replace(":", "_").replace("/", "_")


def report_dir(context: Context, base: str | None) -> Path:
    """The report folder of the context's DAG run (see :func:`run_report_dir`)."""
    return run_report_dir(context["dag"].dag_id, context["run_id"], base)


class HtmlReportLink(BaseOperatorLink):
    """Opens the HTML report a gate wrote (its path is the ``report_html`` XCom)."""

    name = "Report"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        path = XCom.get_value(ti_key=ti_key, key=XCOM_REPORT_HTML)
        return f"file://{path}" if path else ""


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


def read_sql(conn_id: str, sql: str) -> pa.Table:
    """The result of ``sql`` through a common-sql connection, as an Arrow table."""
    from airflow_provider_parity.compat import BaseHook
    from airflow_provider_parity.validation.native import to_arrow

    hook = BaseHook.get_connection(conn_id).get_hook()  # type: ignore[no-untyped-call]
    return to_arrow(hook.get_df(sql, df_type="pandas"))


@contextmanager
def failing_fast(operator: Any) -> Iterator[None]:
    """A gate failure or bad input inside the block fails the task at once, without retry.

    Retrying would meet the same data or the same configuration; the task fails with the
    exception's one-line message. Any exception is kept on ``operator._error`` for the
    OpenLineage failure event.
    """
    from airflow_provider_parity.compat import AirflowFailException
    from airflow_provider_parity.exceptions import BadInputError, GateFailure

    operator._error = None
    try:
        yield
    except (BadInputError, GateFailure) as exc:
        operator._error = exc
        raise AirflowFailException(str(exc)) from exc
    except BaseException as exc:
        operator._error = exc
        raise


def fail_fast(operator: Any, call: Callable[[], T]) -> T:
    """``call()`` inside :func:`failing_fast`."""
    with failing_fast(operator):
        return call()
