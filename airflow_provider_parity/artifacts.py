"""One storage layer for everything a task leaves behind: reports, profiles, verdicts.

Addressed by URI, the same on a local path and on object storage (``s3://``, MinIO included,
``gs://``, ``abfs://``/``abfss://``/``az://``), so a report written by one worker opens on
another, in the Airflow UI and in the CLI.

Why ``pyarrow.fs`` and not Airflow's ``ObjectStoragePath``: this module is used by code that
imports no Airflow (the CLI, step pods, the serving service); pyarrow is already a core
dependency with S3, GCS and Azure built in, whereas ObjectStoragePath needs Airflow plus an
fsspec backend per store (s3fs, gcsfs, adlfs). Credentials use the delta-rs option names the
lake already uses (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``, ...), so one ``delta``
connection (or the worker's environment, or its cloud role) reaches both the lake and the
artifacts.

Atomicity: a local file is written to a temporary name and renamed; an object store makes a
single PUT visible whole or not at all, and :meth:`ArtifactStore.commit` writes several
artifacts so that a failure removes those already written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_parity.exceptions import ConfigurationError, DataError, ServiceUnavailable

if TYPE_CHECKING:
    import pyarrow.fs as pafs

REMOTE_SCHEMES = frozenset({"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az"})


def is_remote(uri: str) -> bool:
    """True for an object-store URI, False for a local path (or ``file://``)."""
    scheme = urlsplit(str(uri)).scheme.lower()
    return scheme in REMOTE_SCHEMES


def join_uri(base: str, *parts: str) -> str:
    """``base/part/...`` for a path or a URI; parts are cleaned of characters stores dislike."""
    clean = [str(p).replace(":", "_").replace("/", "_").replace("\\", "_") for p in parts]
    if is_remote(base):
        return "/".join([str(base).rstrip("/"), *clean])
    return os.path.join(str(base).removeprefix("file://"), *clean)


def _option(options: Mapping[str, str], *names: str) -> str | None:
    lowered = {k.lower(): v for k, v in options.items()}
    for name in names:
        value = lowered.get(name.lower()) or os.environ.get(name.upper())
        if value:
            return str(value)
    return None


def _s3(options: Mapping[str, str]) -> pafs.FileSystem:
    import pyarrow.fs as pafs

    kwargs: dict[str, Any] = {
        # Bounded waits: a store that does not answer fails the task within seconds, not minutes.
        "connect_timeout": float(_option(options, "connect_timeout") or 10),
        "request_timeout": float(_option(options, "request_timeout") or 30),
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=int(_option(options, "max_retries") or 3)),
    }
    key, secret = _option(options, "AWS_ACCESS_KEY_ID"), _option(options, "AWS_SECRET_ACCESS_KEY")
    if key and secret:
        kwargs.update(access_key=key, secret_key=secret, session_token=_option(options, "AWS_SESSION_TOKEN"))
    region = _option(options, "AWS_REGION", "AWS_DEFAULT_REGION")
    if region:
        kwargs["region"] = region
    endpoint = _option(options, "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "endpoint_url")
    if endpoint:
        parts = urlsplit(endpoint)
        kwargs["endpoint_override"] = parts.netloc or parts.path
        kwargs["scheme"] = parts.scheme or "https"
        # S3-compatible stores (MinIO, moto) want path-style addressing.
        kwargs["force_virtual_addressing"] = False
    return pafs.S3FileSystem(**kwargs)


def _filesystem(uri: str, options: Mapping[str, str]) -> tuple[pafs.FileSystem, str]:
    import pyarrow.fs as pafs

    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in ("s3", "s3a"):
        return _s3(options), f"{parts.netloc}{parts.path}"
    if scheme in ("gs", "gcs"):
        return pafs.GcsFileSystem(), f"{parts.netloc}{parts.path}"
    if scheme in ("abfs", "abfss", "az"):
        account = _option(options, "AZURE_STORAGE_ACCOUNT_NAME") or parts.netloc.partition("@")[2].split(".")[0]
        if not account:
            raise ConfigurationError(f"{uri}: no Azure storage account (set AZURE_STORAGE_ACCOUNT_NAME)")
        container = parts.netloc.partition("@")[0] if "@" in parts.netloc else parts.netloc
        fs = pafs.AzureFileSystem(account_name=account, account_key=_option(options, "AZURE_STORAGE_ACCOUNT_KEY"))
        return fs, f"{container}{parts.path}"
    raise ConfigurationError(f"unsupported artifact URI scheme {scheme!r}: use a local path, s3://, gs:// or abfss://")


class ArtifactStore:
    """Read and write artifacts by URI.

    Args:
        storage_options: credentials and endpoint in delta-rs option names; missing ones come
            from the environment (``AWS_*``, ``AZURE_*``) or the runtime's cloud identity.

    Example:
        >>> store = ArtifactStore()
        >>> uri = store.write_json("s3://lake/reports/run1/contract_gate.json", {"status": "passed"})
        >>> store.read_json(uri)["status"]
        'passed'
    """

    def __init__(self, storage_options: Mapping[str, str] | None = None) -> None:
        self.storage_options = dict(storage_options or {})
        self._filesystems: dict[str, pafs.FileSystem] = {}

    def _resolve(self, uri: str) -> tuple[pafs.FileSystem, str]:
        parts = urlsplit(uri)
        key = f"{parts.scheme}://{parts.netloc}"
        fs, path = _filesystem(uri, self.storage_options)
        self._filesystems.setdefault(key, fs)
        return self._filesystems[key], path

    @contextmanager
    def _errors(self, uri: str, action: str) -> Iterator[None]:
        from airflow_provider_parity.delta.storage import redact_uri

        try:
            yield
        except FileNotFoundError:
            raise DataError(f"no such artifact ({action})", source=redact_uri(uri)) from None
        except (ConfigurationError, DataError):
            raise
        except OSError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if is_remote(uri):
                raise ServiceUnavailable(f"{redact_uri(uri)}: cannot {action}: {first}; nothing was changed") from None
            raise DataError(f"cannot {action}: {first}", source=uri) from None

    def write_bytes(self, uri: str, data: bytes) -> str:
        """Write one artifact whole (never a truncated one) and return its URI."""
        with self._errors(uri, "write"):
            if not is_remote(uri):
                from airflow_provider_parity.fileio import atomic_write_bytes

                return str(atomic_write_bytes(uri.removeprefix("file://"), data))
            fs, path = self._resolve(uri)
            with fs.open_output_stream(path) as handle:
                handle.write(data)
        return uri

    def write_text(self, uri: str, text: str) -> str:
        return self.write_bytes(uri, text.encode("utf-8"))

    def write_json(self, uri: str, payload: Any) -> str:
        return self.write_text(uri, json.dumps(payload, indent=2, sort_keys=True, allow_nan=False, default=str) + "\n")

    def commit(self, artifacts: Mapping[str, bytes | str]) -> list[str]:
        """Write several artifacts together: when one fails, the others written so far are removed."""
        written: list[str] = []
        try:
            for uri, data in artifacts.items():
                written.append(self.write_bytes(uri, data.encode("utf-8") if isinstance(data, str) else data))
        except BaseException:
            for uri in written:
                self.delete(uri, missing_ok=True)
            raise
        return written

    def read_bytes(self, uri: str) -> bytes:
        with self._errors(uri, "read"):
            if not is_remote(uri):
                with open(uri.removeprefix("file://"), "rb") as handle:
                    return handle.read()
            fs, path = self._resolve(uri)
            with fs.open_input_stream(path) as stream:
                return bytes(stream.read())
        raise AssertionError("unreachable")  # pragma: no cover - _errors always raises or returns

    def read_text(self, uri: str) -> str:
        return self.read_bytes(uri).decode("utf-8")

    def read_json(self, uri: str) -> Any:
        try:
            return json.loads(self.read_text(uri))
        except ValueError as exc:
            raise DataError(f"not JSON: {exc}", source=uri) from None

    def exists(self, uri: str) -> bool:
        import pyarrow.fs as pafs

        with self._errors(uri, "look up"):
            if not is_remote(uri):
                return os.path.exists(uri.removeprefix("file://"))
            fs, path = self._resolve(uri)
            return bool(fs.get_file_info(path).type != pafs.FileType.NotFound)
        raise AssertionError("unreachable")  # pragma: no cover

    def delete(self, uri: str, *, missing_ok: bool = False) -> None:
        try:
            with self._errors(uri, "delete"):
                if not is_remote(uri):
                    os.remove(uri.removeprefix("file://"))
                    return
                fs, path = self._resolve(uri)
                fs.delete_file(path)
        except DataError:
            if not missing_ok:
                raise
