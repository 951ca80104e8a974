"""What a data URI is, decided once for every gate, the serving check and the writer.

A Delta table must always be read through its log (a folder of Parquet files also holds files
the log has removed: reading them directly gives silently wrong data), whatever reads it. So
"is this a Delta table?" is answered here, the same way for the contract gate, the drift gate
and the CLI: a local folder or an object-store prefix holding ``_delta_log`` is Delta; a
``.json`` file is a stored drift profile; anything else is Parquet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

SourceKind = Literal["delta", "parquet", "profile"]


def source_kind(uri: str, storage_options: Mapping[str, str] | None = None) -> SourceKind:
    """``delta``, ``parquet`` or ``profile`` for ``uri`` (a local path or an object-store URI).

    On object storage this costs one listing request for ``<uri>/_delta_log``.
    """
    from airflow_provider_parity.artifacts import ArtifactStore, is_remote, join_uri

    text = os.fspath(uri)
    if text.endswith(".json"):
        return "profile"
    if not is_remote(text):
        return "delta" if os.path.isdir(os.path.join(text.removeprefix("file://"), "_delta_log")) else "parquet"
    if text.rstrip("/").endswith(".parquet"):
        return "parquet"
    log = join_uri(text.rstrip("/"), "_delta_log")
    return "delta" if ArtifactStore(storage_options).exists(log) else "parquet"
