"""Every error the project raises, in one place.

Errors are types that carry what a person needs to fix the input: the file, the
line, the field or column, what was observed and what was expected. The CLI maps
them to exit codes (``exit_code``); operators turn them into task failures whose
message is ``str(error)``, a single line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_MESSAGE = 1000
"""Characters of an error message kept: a message echoing a whole column stays readable."""


def shorten(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters, saying how much was cut."""
    return text if len(text) <= width else f"{text[:width]}... ({len(text) - width} more characters)"


def sample(values: Iterable[Any], limit: int = 3, width: int = 40) -> str:
    """A few values for a message: the count and the first ``limit``, each cut to ``width``.

    Example:
        >>> sample(["a", "b" * 100, "c", "d"], limit=2, width=5)
        "4 value(s), e.g. 'a', 'bbbb... (97 more characters)'"
    """
    items = list(values)
    shown = ", ".join(shorten(repr(v), width) for v in items[:limit])
    return f"{len(items)} value(s), e.g. {shown}" if len(items) > limit else f"{len(items)} value(s): {shown}"


class ParityError(Exception):
    """Base class. ``exit_code`` is what the ``parity`` CLI exits with."""

    exit_code = 2

    def __str__(self) -> str:
        # Keep every message on one line, and short: it is printed as the CLI's only
        # output and becomes an Airflow task's failure reason.
        return shorten(" ".join(super().__str__().split()), MAX_MESSAGE)


# --- bad input: exit code 2 ---------------------------------------------------


class BadInputError(ParityError):
    """Input that cannot be processed: a fix is needed before anything is checked."""

    exit_code = 2


class ContractError(BadInputError):
    """A contract file that cannot be loaded: names the file, line and field."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.line, self.field, self.reason = file, line, field, message
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        at = f"{field}: " if field else ""
        super().__init__(f"{where}{at}{message}")


class DataError(BadInputError):
    """Data that cannot be read or checked: missing path, unreadable file, empty set."""

    def __init__(self, message: str, *, source: str | None = None, column: str | None = None) -> None:
        self.source, self.column = source, column
        super().__init__(f"{source}: {message}" if source else message)


class SchemaMismatchError(DataError):
    """The data's columns or types do not match the contract's schema."""


class SnapshotError(BadInputError):
    """A Delta version that cannot be pinned or read (missing, vacuumed, expired log)."""


class WriteConflict(SnapshotError):
    """A Delta write lost to a concurrent commit it conflicts with (e.g. two overwrites of one partition).

    Nothing of this write was committed; retrying it (same write id) applies it on the new version.
    """


class EngineError(BadInputError):
    """An engine (Spark, delta-rs) cannot honour a request, e.g. an unsupported table feature."""


class ConfigurationError(BadInputError):
    """A connection, a parameter or an option that is missing or wrong."""


class OperatorArgumentError(ConfigurationError, ValueError):
    """An operator constructed with a wrong argument: raised while the DAG file is parsed."""


class UsageError(ConfigurationError):
    """A command line the ``parity`` CLI cannot parse: an unknown option, a missing or malformed argument."""


# --- a gate that fails: exit code 1 --------------------------------------------


class GateFailure(ParityError):
    """A check ran and the data (or model) did not pass it. Blocks downstream tasks."""

    exit_code = 1

    def __init__(self, message: str, *, result: Any = None) -> None:
        self.result = result
        super().__init__(message)


class ContractViolation(GateFailure):
    """Data broke its contract."""


class DriftDetected(GateFailure):
    """Current data drifted from the reference beyond the contract's policy."""


class FreshnessBreach(GateFailure):
    """Data is older than the contract's freshness SLO allows."""


class PromotionBlocked(GateFailure):
    """A challenger model failed the promotion policy."""


class ReproducibilityMismatch(GateFailure):
    """A recreated training set does not match its recorded fingerprint."""


class ServiceUnavailable(ParityError):
    """A service the task depends on (e.g. an MLflow tracking server) did not answer after retries.

    Nothing was changed: callers order their writes so that an outage leaves state as it was.
    """

    exit_code = 2


class DbtBuildFailed(GateFailure):
    """dbt could not build a model (e.g. a raw column is missing): nothing downstream may run."""


class DbtTestFailed(DbtBuildFailed):
    """A dbt data test failed: names the test, the model, the column and observed versus expected.

    ``checks`` holds every data test of the build as a gate check, set by the dbt runner.
    """

    checks: tuple[Any, ...] = ()
