"""The feature pipeline's heavy steps: land the day's raw extract, then build and test the features with dbt.

Both are plain functions, JSON in and JSON out, so they run in the worker or in a pod
(``parity step run churn.features:build_features --kwargs '{...}'``) unchanged. A failed
dbt test raises ``DbtTestFailed``: the task fails and nothing downstream reads the day.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from airflow_provider_parity.exceptions import ConfigurationError, DataError
from churn.datagen import annotations_path, day_annotations, generate_raw, is_local, raw_paths, write_parquet, write_raw

FEATURES_MODEL = "customer_features"
# How the dbt project's schema is compiled from the contract: data types resolved by the dbt
# target (one committed file for duckdb and Spark), and no not_null constraints, so a null
# reaches the data test, which counts the offending rows, instead of aborting the build.
DBT_SCHEMA_OPTIONS: dict[str, Any] = {"adapter": "target", "constraints": False}


def parse_day(day: str) -> date:
    """``YYYY-MM-DD`` as a date.

    Raises:
        ConfigurationError: anything else.
    """
    try:
        return date.fromisoformat(day)
    except (TypeError, ValueError):
        raise ConfigurationError(f"day {day!r} is not a date (YYYY-MM-DD)") from None


def features_path(lake_uri: str, day: date) -> str:
    """Where ``build_features`` exports one day's feature table."""
    return f"{lake_uri.rstrip('/')}/staging/{FEATURES_MODEL}/date={day.isoformat()}.parquet"


def ingest_raw(day: str, lake_uri: str, faults: Sequence[str] | str = (), n_customers: int = 2000,
               seed: int = 7) -> dict[str, Any]:
    """Generate the day's raw extract (customers, orders) and land it in the lake.

    Args:
        day: the extract's date, ``YYYY-MM-DD``.
        lake_uri: the lake's root.
        faults: faults to inject (``churn.datagen.FAULTS``), a list or a comma-separated string
            (what a DAG param renders to); empty for a clean day.
        n_customers: size of the customer base.
        seed: the generator's seed.

    Returns:
        ``{"day", "paths": {table: uri}, "rows": {table: n}, "faults", "inputs": [], "outputs": [{"uri"}...]}``.

    Raises:
        ConfigurationError: a malformed day or an unknown fault.
    """
    when = parse_day(day)
    if isinstance(faults, str):
        faults = [f.strip() for f in faults.split(",") if f.strip()]
    try:
        raw = generate_raw(when, n_customers=n_customers, seed=seed, faults=faults)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    paths = write_raw(lake_uri, when, raw)
    # The day's labelled items, for the label-quality gate of daily_retraining.
    paths["annotations"] = write_parquet(day_annotations(raw.customers, when, seed=seed, faults=faults),
                                         annotations_path(lake_uri, when))
    return {
        "day": when.isoformat(),
        "paths": paths,
        "rows": {"customers": raw.customers.num_rows, "orders": raw.orders.num_rows},
        "faults": sorted(faults),
        "inputs": [],
        "outputs": [{"uri": uri} for uri in paths.values()],
    }


def build_features(day: str, lake_uri: str, dbt_project_dir: str, dbt_target: str = "duckdb") -> dict[str, Any]:
    """Build and test ``customer_features`` for ``day`` with dbt, then export it to the lake's staging area.

    Args:
        day: the feature date, ``YYYY-MM-DD``; its raw extract must be in the lake.
        lake_uri: the lake's root: a local path (the embedded default) or an object-store URI
            (``s3://``; credentials from ``AWS_*`` environment variables), whose raw extract is
            staged in a temp folder for duckdb.
        dbt_project_dir: the dbt project (``dbt_project/``).
        dbt_target: the profile target; the export reads the duckdb database, so only
            ``duckdb`` is supported by this step.

    Returns:
        ``{"day", "features_path", "rows", "dbt": {summary}, "inputs": [{"uri"}...], "outputs": [{"uri"}]}``.

    Raises:
        DbtTestFailed: a dbt data test failed (names the test, model, column, observed vs expected).
        DbtBuildFailed: a model could not be built, e.g. a raw column is missing.
        DataError: the day's raw extract is not in the lake or cannot be read.
        ConfigurationError: a malformed day, a target this step cannot export from, a broken project.
    """
    from airflow_provider_parity.transform.dbt_build import run_dbt_build

    when = parse_day(day)
    if dbt_target != "duckdb":
        raise ConfigurationError(f"build_features exports the features from duckdb; dbt target {dbt_target!r} "
                                 "builds them in the cluster: run the dbt project there and read its table")
    with ExitStack() as stack:
        if is_local(lake_uri):
            lake = str(Path(lake_uri.removeprefix("file://")).resolve())
            missing = [uri for uri in raw_paths(lake, when).values() if not Path(uri).is_file()]
            if missing:
                raise DataError(f"no raw extract for {when}: run ingest_raw first", source=missing[0])
            staged, scratch = lake, f"{lake}/warehouse/date={when.isoformat()}"
        else:
            # duckdb reads the extract from local files: stage the day's raw Parquet in a temp
            # folder laid out like the lake; the database is scratch there too.
            lake = lake_uri.rstrip("/")
            scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="parity-dbt-"))
            staged = _stage_raw(lake, when, scratch)
        database = os.environ.get("PARITY_DUCKDB_PATH") or f"{scratch}/churn.duckdb"
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        result = run_dbt_build(dbt_project_dir, target=dbt_target,
                               vars={"feature_date": when.isoformat(), "lake_uri": staged, "duckdb_path": database,
                                     # Freshness is judged at the end of the day built, not by the wall clock.
                                     "parity_as_of": datetime.combine(when + timedelta(days=1), time(),
                                                                      tzinfo=UTC).isoformat()})
        table = _read_relation(database, result.node(FEATURES_MODEL).relation or FEATURES_MODEL)
    # On an object store the export is one PUT, which readers see whole or not at all: atomic
    # enough without the temp-file-and-rename a local lake gets (S3 has no rename).
    out = write_parquet(table, features_path(lake, when))
    summary = {k: v for k, v in asdict(result).items() if k != "nodes"}
    summary.update(summary=result.summary(), tests=sum(n.resource_type == "test" for n in result.nodes))
    return {
        "day": when.isoformat(),
        "features_path": out,
        "rows": table.num_rows,
        "dbt": summary,
        "inputs": [{"uri": uri} for uri in raw_paths(lake, when).values()],
        "outputs": [{"uri": out}],
    }


def _stage_raw(lake_uri: str, day: date, into: str) -> str:
    """Copy ``day``'s raw extract from an object-store lake to ``into``, laid out as in the lake; returns ``into``.

    Credentials and endpoint come from the environment (``AWS_*`` for S3), as for every
    other reader of the lake.

    Raises:
        DataError: the extract is not in the lake or cannot be read.
    """
    from pyarrow import fs

    for remote, local in zip(raw_paths(lake_uri, day).values(), raw_paths(into, day).values(), strict=True):
        try:
            filesystem, path = fs.FileSystem.from_uri(remote)
            if filesystem.get_file_info(path).type != fs.FileType.File:
                raise DataError(f"no raw extract for {day}: run ingest_raw first", source=remote)
            Path(local).parent.mkdir(parents=True)
            fs.copy_files(path, local, source_filesystem=filesystem, destination_filesystem=fs.LocalFileSystem())
        except OSError as exc:
            raise DataError(f"cannot read the raw extract: {str(exc).splitlines()[0]}", source=remote) from None
    return into


def _read_relation(database: str, relation: str) -> Any:
    """The model's table as Arrow, read straight from the duckdb file dbt built it in."""
    import duckdb
    import pyarrow as pa

    with duckdb.connect(database, read_only=True) as con:
        table = con.sql(f"select * from {relation} order by customer_id").to_arrow_table()
    # duckdb names the session zone "Etc/UTC"; write the canonical "UTC" every other writer uses.
    schema = pa.schema([f.with_type(pa.timestamp(f.type.unit, tz="UTC")) if pa.types.is_timestamp(f.type)
                        and f.type.tz in ("Etc/UTC", "UTC") else f for f in table.schema])
    return table.cast(schema)


def write_dbt_contracts(contracts_dir: str | Path, project_dir: str | Path) -> list[Path]:
    """(Re)generate the dbt project's model contract, data tests and test macros from the data contract.

    Args:
        contracts_dir: the folder of contract YAML files (holds ``customer_features.yaml``).
        project_dir: the dbt project.

    Returns:
        The files written.
    """
    from airflow_provider_parity.contracts.dbt import write_dbt
    from airflow_provider_parity.contracts.loader import load_contract

    contract = load_contract(Path(contracts_dir) / f"{FEATURES_MODEL}.yaml")
    return write_dbt([contract], project_dir, **DBT_SCHEMA_OPTIONS)
