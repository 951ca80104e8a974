"""Compile a contract into a Feast feature repository: the features defined once, by the contract.

``parity contract feast`` writes two files (all or none): ``feature_store.yaml`` and
``definitions.py``, which declares one ``Entity`` per entity-key column, one ``FeatureView``
with the served columns and their Feast types, the TTL from the freshness SLO, the event
timestamp column and the contract's ref and hash as tags. Nothing here imports Feast: the
repository is Python source text, imported by Feast (``feast apply``) where Feast is installed.

Choices, and why:

* **Offline source: a Parquet export of the pinned Delta version** (:func:`export_source`).
  Feast's core reads Delta only through its duckdb offline store (``ibis.read_delta``), which
  always reads the table's latest version (no version to pin) and needs ibis, which this project
  does not install; the default ``file`` (dask) store reads Parquet. Exporting the pinned,
  contract-clean version keeps Feast reading exactly the snapshot the gates passed.
* **Entity key**: the contract's primary key without its date/timestamp columns, the rule of the
  project's online store and skew gate (a feature table's ``(customer_id, feature_date)`` key is
  an entity plus time); Feast entities hold one join key each, so a compound key is one entity per column.
* **Registry**: Feast's file registry (``data/registry.db``), resolved against the repository's
  folder; a SQL registry on SQLite would take its path relative to the process's working directory.
* **Online store**: SQLite in the repository's ``data/`` by default; Redis with the connection
  string read from an environment variable (Feast expands ``${VAR}`` in ``feature_store.yaml``),
  so no secret is ever written into the repository.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from airflow_provider_parity.contracts.model import Contract
from airflow_provider_parity.exceptions import ConfigurationError, ContractError

if TYPE_CHECKING:
    from collections.abc import Mapping

OnlineStoreKind = Literal["sqlite", "redis"]
REDIS_ENV = "PARITY_FEAST_REDIS"
"""Default variable holding Feast's Redis connection string (``host:port[,password=...]``)."""
DEFINITIONS = "definitions.py"
CONFIG = "feature_store.yaml"

FEAST_TYPES: dict[str, str] = {"string": "String", "integer": "Int64", "float": "Float64", "boolean": "Bool",
                               "timestamp": "UnixTimestamp"}
"""Contract type -> the name of its ``feast.types`` type (Feast has no date type)."""
_VALUE_TYPES: dict[str, str] = {"string": "STRING", "integer": "INT64", "float": "DOUBLE", "boolean": "BOOL"}
"""Contract type -> Feast ``ValueType`` of an entity's join key."""
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FeastRepo:
    """What the repository declares, decided from the contract before any text is rendered.

    Attributes:
        project: the Feast project (the dataset's name, Feast-safe).
        view: the feature view's name (the dataset's name: the project's online store uses it too).
        entities: ``(join key, Feast ValueType name)`` per entity-key column.
        fields: ``(column, feast.types name)`` per served feature.
        ttl_seconds: the freshness SLO's ``max_age`` (0: no SLO, Feast keeps values forever).
        timestamp_field: the contract's ``role: event_time`` column.
        source: the Parquet export Feast reads (relative paths: from the repository's folder).
        tags: the contract's ref and hash.
    """

    project: str
    view: str
    entities: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, str], ...]
    ttl_seconds: int
    timestamp_field: str
    source: str
    tags: tuple[tuple[str, str], ...]


def feast_name(name: str) -> str:
    """A Feast-safe name: letters, digits and underscores, not starting with an underscore."""
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name).lstrip("_")
    return safe or "parity"


def default_source(contract: Contract) -> str:
    """Where the export lands unless told otherwise: ``data/<dataset>.parquet`` inside the repository."""
    return f"data/{feast_name(contract.name)}.parquet"


def feast_repo(contract: Contract, *, source: str | None = None) -> FeastRepo:
    """The repository's declarations for ``contract``.

    Raises:
        ContractError: no entity key, no event-time column, no feature to serve, or a served
            column of a type Feast cannot hold (``date``).
    """
    from airflow_provider_parity.exceptions import DataError
    from airflow_provider_parity.serving.online_store import entity_keys, event_time_column

    try:
        keys, event_time = entity_keys(contract), event_time_column(contract)
    except DataError as exc:
        raise ContractError(f"cannot compile to Feast: {exc}") from None
    time_keys = {k for k in contract.primary_key if k not in keys}
    entities = []
    for key in keys:
        kind = contract.column(key).type
        if kind not in _VALUE_TYPES:
            raise ContractError(f"a Feast join key cannot be of type {kind}", field=f"columns.{key}")
        entities.append((key, _VALUE_TYPES[kind]))
    fields = []
    # What the project's online store serves, minus the entity, its time and the event time (Feast's own).
    for col in contract.columns_for("serving"):
        if col.name in keys or col.name in time_keys or col.name == event_time or col.role == "label":
            continue
        if col.type not in FEAST_TYPES:
            raise ContractError(f"Feast has no {col.type} type: serve it as a string or a timestamp, or "
                                "list it in environments.training_only", field=f"columns.{col.name}")
        fields.append((col.name, FEAST_TYPES[col.type]))
    if not fields:
        raise ContractError(f"contract {contract.ref} serves no feature: nothing for a Feast feature view")
    ttl = int(contract.freshness.max_age_delta.total_seconds()) if contract.freshness else 0
    return FeastRepo(project=feast_name(contract.name), view=feast_name(contract.name), entities=tuple(entities),
                     fields=tuple(fields), ttl_seconds=ttl, timestamp_field=event_time,
                     source=source or default_source(contract),
                     tags=(("parity_contract", contract.ref), ("parity_contract_hash", contract.fingerprint)))


def _generated_by(online_store: OnlineStoreKind, redis_env: str, source: str | None) -> str:
    """The header line: the command (and its non-default options) that regenerates the file."""
    options = ""
    if online_store != "sqlite":
        options += f" --online-store {online_store}"
        if redis_env != REDIS_ENV:
            options += f" --redis-env {redis_env}"
    if source:
        options += f" --source {source}"
    return f"Generated by `parity contract feast{options}`: edit the contract, not this file."


def feature_store_yaml(repo: FeastRepo, *, online_store: OnlineStoreKind = "sqlite", redis_env: str = REDIS_ENV,
                       header: str = "") -> str:
    """``feature_store.yaml``: the project, the file registry, the online store, the file offline store."""
    if online_store == "redis":
        variable = "${" + redis_env + "}"
        online = (f"  type: redis\n  # Feast expands {variable} when it reads this file: the secret stays in the environment.\n"
                  f"  connection_string: {variable}\n")
    else:
        online = "  type: sqlite\n  path: data/online_store.db\n"
    return (f"# {header}\n"
            f"project: {repo.project}\n"
            "provider: local\n"
            "registry: data/registry.db\n"
            f"online_store:\n{online}"
            "offline_store:\n  type: file\n"
            "entity_key_serialization_version: 3\n")


def _q(text: str) -> str:
    """A Python string literal in double quotes (JSON's escaping is valid Python for these names)."""
    return json.dumps(text)


def definitions_py(repo: FeastRepo, *, header: str = "") -> str:
    """``definitions.py``: the entities, the Parquet source and the feature view, as Python source."""
    types = sorted({t for _, t in repo.fields})
    entity_vars = [f"{key}_entity" for key, _ in repo.entities]
    ref = dict(repo.tags)["parity_contract"]
    lines = [f'"""{header}', "", f"Feature view {_q(repo.view)}: {ref}.", '"""', "",
             "from datetime import timedelta", "", "from feast import Entity, FeatureView, Field, FileSource, ValueType",
             "from feast.data_format import ParquetFormat", f"from feast.types import {', '.join(types)}", ""]
    for (key, value_type), var in zip(repo.entities, entity_vars, strict=True):
        lines += ["", f"{var} = Entity(name={_q(key)}, join_keys=[{_q(key)}], value_type=ValueType.{value_type})"]
    lines += ["", "# The pinned, contract-clean Delta version exported to Parquet (parity's export_source).",
              f"{repo.view}_source = FileSource(", f"    name={_q(repo.view + '_source')},",
              f"    path={_q(repo.source)},", "    file_format=ParquetFormat(),",
              f"    timestamp_field={_q(repo.timestamp_field)},", ")", "",
              f"{repo.view} = FeatureView(", f"    name={_q(repo.view)},",
              f"    entities=[{', '.join(entity_vars)}],",
              "    # The contract's freshness SLO: point-in-time retrieval takes no row older than this."
              if repo.ttl_seconds else "    # No freshness SLO in the contract: values never expire.",
              f"    ttl=timedelta(seconds={repo.ttl_seconds}),", "    schema=["]
    lines += [f"        Field(name={_q(name)}, dtype={dtype})," for name, dtype in repo.fields]
    lines += ["    ],", f"    source={repo.view}_source,", "    online=True,", "    tags={"]
    lines += [f"        {_q(key)}: {_q(value)}," for key, value in repo.tags]
    lines += ["    },", ")", ""]
    return "\n".join(lines)


def render_feast_repo(contract: Contract, *, online_store: OnlineStoreKind = "sqlite", redis_env: str = REDIS_ENV,
                      source: str | None = None) -> dict[str, str]:
    """The repository's files, file name -> text.

    Raises:
        ContractError: the contract cannot become a Feast repository (see :func:`feast_repo`).
        ConfigurationError: ``redis_env`` is not an environment variable name, or ``source`` is blank or
            holds a quote, a backslash or a newline (it is written into Python source).
    """
    if not _ENV_NAME.match(redis_env):
        raise ConfigurationError(f"--redis-env {redis_env!r} is not an environment variable name")
    if source is not None and (not source.strip() or set(source) & set('"\'\\\n\r')):
        raise ConfigurationError(f"--source {source!r}: give a path or URI without quotes, backslashes or newlines")
    repo = feast_repo(contract, source=source)
    header = _generated_by(online_store, redis_env, source)
    return {CONFIG: feature_store_yaml(repo, online_store=online_store, redis_env=redis_env, header=header),
            DEFINITIONS: definitions_py(repo, header=header),
            # The registry, the SQLite online store and the default export are runtime data.
            ".gitignore": f"# {header}\ndata/\n"}


def write_feast_repo(contract: Contract, repo_dir: str | Path, *, online_store: OnlineStoreKind = "sqlite",
                     redis_env: str = REDIS_ENV, source: str | None = None,
                     export: tuple[str, int] | None = None) -> list[Path]:
    """Write the repository's files into ``repo_dir`` (all of them or none), with its source when asked.

    Args:
        contract: the dataset's contract.
        repo_dir: the feature repository's folder (made if missing).
        online_store: ``sqlite`` (in the repository's ``data/``) or ``redis``.
        redis_env: the variable holding Feast's Redis connection string.
        source: the Parquet export's path or URI (default: ``data/<dataset>.parquet``).
        export: ``(table_uri, version)``: also write that pinned Delta version as the source
            (a local path; relative to ``repo_dir``), in the same all-or-nothing commit.

    Returns:
        The files written.

    Raises:
        ContractError, ConfigurationError: see :func:`render_feast_repo`; an ``export`` to a remote source.
        SnapshotError, DataError: see :func:`source_parquet`.

    Example:
        >>> write_feast_repo(load_contract("contracts/customer_features.yaml"), "feature_repo")
        [PosixPath('feature_repo/feature_store.yaml'), PosixPath('feature_repo/definitions.py'), ...]
    """
    from airflow_provider_parity.fileio import Output, check_output, commit_outputs

    root = Path(repo_dir)
    files = render_feast_repo(contract, online_store=online_store, redis_env=redis_env, source=source)
    outputs: dict[Path, Output] = {root / name: text for name, text in files.items()}
    if export is not None:
        target = source or default_source(contract)
        if "://" in target:
            raise ConfigurationError(f"the source {target} is not a local path: export to it with export_source, "
                                     "or give a local --source")
        path = root / target  # an absolute target stays itself
        check_output(path)  # before the table is read
        outputs[path] = source_parquet(export[0], export[1], contract)[0]
    return commit_outputs(outputs)


def source_parquet(table_uri: str, version: int, contract: Contract, *,
                   storage_options: Mapping[str, str] | None = None) -> tuple[bytes, int]:
    """The pinned Delta ``version`` of the feature table as the Parquet file the repository's source reads.

    Only the columns Feast reads are kept (entity keys, event time, features). Returns the file's
    bytes and its number of rows.

    Raises:
        SnapshotError: no such table or version.
        DataError: the version lacks a column the contract serves.
    """
    import io

    import pyarrow.parquet as pq

    from airflow_provider_parity.delta.readers import read_arrow

    repo = feast_repo(contract)
    columns = [*(k for k, _ in repo.entities), repo.timestamp_field, *(f for f, _ in repo.fields)]
    table = read_arrow(table_uri, version, storage_options=storage_options, columns=columns)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue(), int(table.num_rows)


def export_source(table_uri: str, version: int, contract: Contract, out: str | Path, *,
                  storage_options: Mapping[str, str] | None = None) -> int:
    """Write :func:`source_parquet` to ``out`` atomically (Feast never reads half a file); returns the rows."""
    from airflow_provider_parity.fileio import commit_outputs

    data, rows = source_parquet(table_uri, version, contract, storage_options=storage_options)
    commit_outputs({Path(out): data})
    return rows
