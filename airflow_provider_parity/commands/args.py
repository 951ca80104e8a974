"""Argument types shared by the ``parity`` commands: a value out of range is a usage error, not a traceback."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import timedelta


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer not below ``minimum`` (``--limit -1`` is refused, not ignored)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds longer than zero (``--poll-seconds 0`` would spin)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text[:40]!r}") from None
    if not 0 < value < 86400 * 365:
        raise argparse.ArgumentTypeError(f"must be more than 0 and less than a year, got {text[:40]!r}")
    return value


def positive_duration(text: str) -> timedelta:
    """An argparse type: a duration such as ``1d`` that is longer than zero."""
    from airflow_provider_parity.contracts.model import parse_duration

    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= timedelta(0):
        raise argparse.ArgumentTypeError(f"must be longer than zero, got {text[:40]!r}")
    return value


def tracking_server(given: str | None, *, must_exist: bool = True) -> tuple[str, tuple[str | None, ...]]:
    """The MLflow tracking URI a command talks to (``--tracking-uri``, else ``MLFLOW_TRACKING_URI``) and
    the credentials to keep out of its messages.

    ``must_exist=False`` accepts a SQLite store that is not there yet (a service started before the
    first training, which creates it).

    Raises:
        ConfigurationError: neither is set. MLflow would fall back to a new, empty store in the
            working folder: it would answer "no such model" and leave a ``mlflow.db`` behind.
    """
    import os

    from airflow_provider_parity.exceptions import ConfigurationError

    uri = given or os.environ.get("MLFLOW_TRACKING_URI")
    if not uri:
        raise ConfigurationError("no MLflow tracking server: pass --tracking-uri or set MLFLOW_TRACKING_URI")
    # The same for a SQLite store that is not there: MLflow would create it (and its folders) to
    # answer from it. A mistyped path is bad input, not an empty registry.
    if must_exist and uri.startswith("sqlite:///") and uri != "sqlite:///:memory:":
        path = uri.removeprefix("sqlite:///").partition("?")[0]
        if not os.path.isfile(path):
            raise ConfigurationError(f"no MLflow store at {path}: the SQLite file does not exist")
    return uri, (os.environ.get("MLFLOW_TRACKING_PASSWORD"), os.environ.get("MLFLOW_TRACKING_TOKEN"))
