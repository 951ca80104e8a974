"""Table locations and the storage options delta-rs needs to reach them.

A connection gives a table root (a local folder, ``s3://``, ``gs://``, ``abfss://``)
and credentials; this module turns them into delta-rs ``storage_options`` and keeps
secrets out of anything that may be printed. No Airflow, no data library.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from airflow_provider_parity.exceptions import ConfigurationError, ServiceUnavailable

StorageKind = Literal["local", "s3", "gcs", "adls"]

_SCHEMES: dict[str, StorageKind] = {
    "": "local",
    "file": "local",
    "s3": "s3",
    "s3a": "s3",
    "gs": "gcs",
    "gcs": "gcs",
    "abfs": "adls",
    "abfss": "adls",
    "az": "adls",
    "adl": "adls",
}

# Option names whose values are credentials. Matched on the lower-cased key so
# both ``AWS_SECRET_ACCESS_KEY`` and ``aws_secret_access_key`` spellings count.
_SECRET_MARKERS = ("secret", "password", "token", "key", "sas", "credential")
_NOT_SECRET = frozenset({"aws_access_key_id", "azure_storage_account_name", "azure_storage_client_id"})

# object_store (under delta-rs) waits up to 30 s per request and retries for 180 s: a store
# that accepts connections but never answers would hold a task for minutes. With these a
# refused connection fails in about 3 s and a silent store in at most retry_timeout + timeout
# (25 s). A connection's ``storage_options`` (or the caller's options) win over them.
BOUNDED_WAITS = {"connect_timeout": "5s", "timeout": "15s", "retry_timeout": "10s"}
# Lines of object_store's error chain that mean the store did not answer (not a missing key),
# the most telling first: "error sending request" wraps the others.
_OUTAGE = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"Connection refused", r"connection reset", r"operation timed out", r"dns error",
    r"connection closed before message completed", r"tcp connect error", r"error sending request"))
# The request object_store gave up on: ``Error performing GET http://host:port/bucket/key``.
_ENDPOINT = re.compile(r"Error performing \w+ (\w+://[^/\s]+)")


def storage_kind(table_uri: str) -> StorageKind:
    """Which object store a table URI lives on.

    Raises:
        ConfigurationError: the URI scheme is not one delta-rs can reach here.
    """
    scheme = urlparse(table_uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        return "local"
    try:
        return _SCHEMES[scheme]
    except KeyError:
        raise ConfigurationError(
            f"unsupported table URI scheme {scheme!r} in {redact_uri(table_uri)}: "
            "expected a local path, s3://, gs://, abfss:// or az://"
        ) from None


def normalize_table_uri(table_uri: str) -> str:
    """An absolute, slash-terminated-free form of ``table_uri``.

    Local paths become absolute so that a pin recorded by one process points at the
    same table for every other; remote URIs keep their scheme and lose a trailing slash.
    """
    if not table_uri or not table_uri.strip():
        raise ConfigurationError("table URI is empty")
    uri = table_uri.strip()
    if storage_kind(uri) == "local":
        # Spark and Hadoop name local tables file:/path (one slash): a location from DESCRIBE DETAIL.
        path = uri.removeprefix("file://") if uri.startswith("file://") else uri.removeprefix("file:")
        return str(Path(path).expanduser().resolve())
    return uri.rstrip("/")


def join_table_uri(root: str, table: str) -> str:
    """The URI of ``table`` under ``root``; an absolute ``table`` URI wins over the root."""
    if "://" in table or table.startswith("/"):
        return table
    if not root:
        return table
    return f"{root.rstrip('/')}/{table.lstrip('/')}"


def is_secret_option(name: str) -> bool:
    """True when a storage option's value is a credential that must never be logged."""
    lowered = name.lower()
    if lowered in _NOT_SECRET:
        return False
    return any(marker in lowered for marker in _SECRET_MARKERS)


def redact_options(options: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of ``options`` that is safe to log: credential values become ``***``."""
    return {k: ("***" if is_secret_option(k) else v) for k, v in (options or {}).items()}


def redact_uri(uri: str) -> str:
    """``uri`` without any ``user:password@`` part or query string (SAS tokens live there)."""
    parsed = urlparse(uri)
    if not parsed.scheme or len(parsed.scheme) == 1:
        return uri
    host = parsed.hostname or ""
    if parsed.port:
        host = f"{host}:{parsed.port}"
    return f"{parsed.scheme}://{host}{parsed.path}"


def with_bounded_waits(table_uri: str, options: Mapping[str, str] | None) -> dict[str, str]:
    """``options`` plus :data:`BOUNDED_WAITS` for a remote table (options already set win)."""
    merged = dict(options or {})
    if storage_kind(table_uri) != "local":
        for key, value in BOUNDED_WAITS.items():
            merged.setdefault(key, value)
    return merged


def store_outage(table_uri: str, exc: BaseException, *, writing: bool = False) -> ServiceUnavailable | None:
    """A one-line error when ``exc`` is the object store not answering (None for anything else).

    The message names the endpoint object_store tried (no credentials: they travel in headers)
    and the cause, and says what the failure left behind.
    """
    text = str(exc)
    cause = next((m for m in (p.search(text) for p in _OUTAGE) if m), None)
    if cause is None or storage_kind(table_uri) == "local":
        return None
    endpoint = _ENDPOINT.search(text)
    store = f"object store {redact_uri(endpoint.group(1))}" if endpoint else "object store"
    left = ("no partial version is visible; a retry with the same write id commits once" if writing
            else "nothing was changed")
    return ServiceUnavailable(f"{store} unreachable after retries ({cause.group(0)}) for "
                              f"{redact_uri(table_uri)}; {left}")


def build_storage_options(
    kind: StorageKind,
    *,
    login: str | None = None,
    password: str | None = None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, str]:
    """delta-rs ``storage_options`` for one store from a connection's fields.

    ``login``/``password`` are the store's key pair (AWS access key id and secret,
    Azure account name and key, or Azure client id and secret when ``tenant_id`` is
    given). Extra keys map to the delta-rs names: ``region``, ``endpoint_url``
    (S3-compatible stores such as MinIO; ``http://`` endpoints also allow plain HTTP),
    ``session_token``, ``service_account_key`` (GCS, JSON text), ``tenant_id``,
    ``sas_token``; ``storage_options`` is passed through verbatim and wins.

    Args:
        kind: the object store.
        login: access key id, account name or client id.
        password: the matching secret.
        extra: the connection's extra fields.

    Returns:
        A new dict of string options.
    """
    extra = dict(extra or {})
    options: dict[str, str] = {}
    if kind == "s3":
        _put(options, "AWS_ACCESS_KEY_ID", login)
        _put(options, "AWS_SECRET_ACCESS_KEY", password)
        _put(options, "AWS_SESSION_TOKEN", extra.get("session_token"))
        _put(options, "AWS_REGION", extra.get("region") or extra.get("region_name"))
        endpoint = extra.get("endpoint_url")
        _put(options, "AWS_ENDPOINT_URL", endpoint)
        if isinstance(endpoint, str) and endpoint.startswith("http://"):
            options["AWS_ALLOW_HTTP"] = "true"
        if endpoint:
            # S3-compatible stores (MinIO, R2) support conditional puts; without it
            # delta-rs refuses concurrent-unsafe writes to S3.
            options.setdefault("aws_conditional_put", "etag")
    elif kind == "gcs":
        _put(options, "GOOGLE_SERVICE_ACCOUNT_KEY", extra.get("service_account_key") or password)
    elif kind == "adls":
        tenant = extra.get("tenant_id")
        if tenant:
            _put(options, "AZURE_STORAGE_CLIENT_ID", login)
            _put(options, "AZURE_STORAGE_CLIENT_SECRET", password)
            _put(options, "AZURE_STORAGE_TENANT_ID", tenant)
            _put(options, "AZURE_STORAGE_ACCOUNT_NAME", extra.get("account_name"))
        else:
            _put(options, "AZURE_STORAGE_ACCOUNT_NAME", login or extra.get("account_name"))
            _put(options, "AZURE_STORAGE_ACCOUNT_KEY", password)
        _put(options, "AZURE_STORAGE_SAS_TOKEN", extra.get("sas_token"))
    passthrough = extra.get("storage_options") or {}
    if not isinstance(passthrough, Mapping):
        raise ConfigurationError("connection extra 'storage_options' must be a mapping of option name to value")
    options.update({str(k): str(v) for k, v in passthrough.items()})
    return options


def _put(options: dict[str, str], name: str, value: object) -> None:
    if value not in (None, ""):
        options[name] = str(value)
