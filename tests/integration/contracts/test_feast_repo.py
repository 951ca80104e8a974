"""The compiled Feast repository under real Feast: applied, materialised, read online (SQLite and a real
Redis on loopback) and point in time.

Feast must read what the project's own paths read: ``get_online_features`` the values of the
project's online store (``serving.online_store``), ``get_historical_features`` the rows of the
skew gate's as-of join (``skew.join``), for the same pinned Delta version and entities.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from airflow_provider_parity.contracts.feast import REDIS_ENV, export_source, feast_repo, write_feast_repo
from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.serving.online_store import materialize, open_store

pytestmark = pytest.mark.integration

ENTITIES = 20
UPDATED = 15  # customers 0..14 get a second, newer row; 15..19 keep only their first
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
DAY1, DAY2 = NOW - timedelta(days=1), NOW


@dataclass
class Stores:
    contract: Any
    table: str
    version: int
    feast: Any
    features: list[str]
    project_store: str


def _feature_table(path: Path) -> str:
    """Version 0: day 1 for every customer; version 1: day 2 (other values) for the first ``UPDATED``."""
    from deltalake import write_deltalake

    write_deltalake(str(path), customer_features(ENTITIES, now=DAY1))
    write_deltalake(str(path), customer_features(ENTITIES, now=DAY2, seed=8).slice(0, UPDATED), mode="append")
    return str(path)


def _definitions(repo: Path) -> list[Any]:
    """The repository's Feast objects, as ``feast apply`` collects them (module attributes)."""
    from feast import Entity, FeatureView, FileSource

    spec = importlib.util.spec_from_file_location("parity_feast_definitions", repo / "definitions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [v for v in vars(module).values() if isinstance(v, Entity | FeatureView | FileSource)]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory, example_contract: Any) -> Iterator[Callable[[str], Stores]]:
    """``build(online_store)``: the compiled repository applied and materialised by Feast (built once per kind),
    next to the project's online store holding the same pinned version."""
    root = tmp_path_factory.mktemp("feast")
    table = _feature_table(root / "customer_features")
    project_store = f"sqlite:///{root}/online.db"
    store = open_store(project_store)
    try:
        materialize(table, 1, example_contract, store)
    finally:
        store.close()
    built: dict[str, Stores] = {}
    servers: list[Any] = []

    def make(kind: str) -> Stores:
        if kind not in built:
            built[kind] = _feast(example_contract, table, root / kind, kind, servers)
            built[kind].project_store = project_store
        return built[kind]

    try:
        yield make
    finally:
        for server in servers:
            server.stop()


def _feast(contract: Any, table: str, repo: Path, kind: str, servers: list[Any]) -> Stores:
    from feast import FeatureStore

    if kind == "redis":
        from airflow_provider_parity.serving.demo import RedisProcess

        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
        server = RedisProcess(repo.parent / "redis")
        servers.append(server)
        # The password reaches Feast through the environment only, as in a deployment.
        os.environ[REDIS_ENV] = f"127.0.0.1:{server.port},password={server.password}"
    write_feast_repo(contract, repo, online_store="redis" if kind == "redis" else "sqlite")
    assert export_source(table, 1, contract, repo / "data" / "customer_features.parquet") == ENTITIES + UPDATED
    try:
        feast = FeatureStore(repo_path=str(repo))
    finally:
        os.environ.pop(REDIS_ENV, None)
    assert feast.config.online_store.type == kind
    feast.apply(_definitions(repo))
    feast.materialize(start_date=DAY1 - timedelta(days=30), end_date=NOW + timedelta(minutes=1))
    view = feast_repo(contract)
    return Stores(contract=contract, table=table, version=1, feast=feast, project_store="",
                  features=[f"{view.view}:{name}" for name, _ in view.fields])


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def stores(build: Callable[[str], Stores], request: pytest.FixtureRequest) -> Stores:
    return build(request.param)


@pytest.fixture(scope="module")
def offline(build: Callable[[str], Stores]) -> Stores:
    """Point-in-time retrieval reads the offline source, whichever the online store: SQLite's build."""
    return build("sqlite")


def test_online_features_equal_the_project_online_store(stores: Stores) -> None:
    ids = [f"C{i:06d}" for i in range(ENTITIES)] + ["C999999"]
    online = stores.feast.get_online_features(features=stores.features,
                                              entity_rows=[{"customer_id": c} for c in ids]).to_dict()
    store = open_store(stores.project_store)
    try:
        lookup = store.read("customer_features", [[c] for c in ids])
    finally:
        store.close()
    names = [f.split(":")[1] for f in stores.features]
    assert online["customer_id"] == ids
    for position, row in enumerate(lookup.rows):
        feast_row = {name: online[name][position] for name in names}
        expected = dict.fromkeys(names) if row is None else {name: row[name] for name in names}
        assert feast_row == expected, ids[position]
    # Both hold each customer's newest row: day 2 where there is one, else day 1.
    day2 = customer_features(ENTITIES, now=DAY2, seed=8)
    assert online["tenure_days"][:UPDATED] == day2.column("tenure_days").to_pylist()[:UPDATED]
    assert lookup.rows[-1] is None and online["plan"][-1] is None


def _requests() -> list[tuple[str, datetime]]:
    """(customer, time) pairs: each day's row in force, and a time before any row."""
    pairs = []
    for i in range(ENTITIES):
        customer = f"C{i:06d}"
        pairs += [(customer, DAY1 + timedelta(hours=1)), (customer, DAY1 - timedelta(hours=1))]
        if i < UPDATED:
            pairs.append((customer, DAY2 + timedelta(hours=2)))
    return pairs


def _asof(stores: Stores, requests: list[tuple[str, datetime]]) -> tuple[Any, pa.Table]:
    """The skew gate's as-of join of ``requests`` with the pinned version: offline row index per request."""
    from airflow_provider_parity.delta.readers import read_arrow
    from airflow_provider_parity.skew.join import asof_match, entity_codes, micros

    offline = read_arrow(stores.table, stores.version)
    log = pa.table({"customer_id": pa.array([c for c, _ in requests], pa.string()),
                    "served_at": pa.array([t for _, t in requests], pa.timestamp("us", tz="UTC"))})
    log_codes, off_codes = entity_codes(log, offline, ["customer_id"])
    match = asof_match(log_codes, micros(log["served_at"], "served_at", "serving log"), off_codes,
                       micros(offline["updated_at"], "updated_at", "offline table"))
    return match.offline_row, offline


def _historical(stores: Stores, requests: list[tuple[str, datetime]]) -> dict[tuple[str, datetime], dict[str, Any]]:
    import pandas as pd

    entity_df = pd.DataFrame({"customer_id": [c for c, _ in requests],
                              "event_timestamp": pd.to_datetime([t for _, t in requests], utc=True)})
    frame = stores.feast.get_historical_features(entity_df=entity_df, features=stores.features).to_df()
    names = [f.split(":")[1] for f in stores.features]
    out = {}
    for record in frame.to_dict("records"):
        when = pd.Timestamp(record["event_timestamp"]).tz_convert("UTC").to_pydatetime()
        out[(record["customer_id"], when)] = {n: (None if pd.isna(record[n]) else record[n]) for n in names}
    return out


def test_historical_features_agree_with_the_asof_join(offline: Stores) -> None:
    stores = offline
    requests = _requests()
    rows, offline = _asof(stores, requests)
    found = _historical(stores, requests)
    names = [f.split(":")[1] for f in stores.features]
    matched = 0
    for (customer, when), row in zip(requests, rows.tolist(), strict=True):
        feast_row = found.get((customer, when))
        if row < 0:  # before the customer's first row: no value on either side
            assert feast_row is None or set(feast_row.values()) == {None}, (customer, when)
            continue
        expected = {n: offline.column(n)[row].as_py() for n in names}
        assert feast_row == expected, (customer, when)
        matched += 1
    assert matched == ENTITIES + UPDATED  # every day-1 and day-2 request found its row


def test_the_freshness_slo_is_feasts_ttl(offline: Stores) -> None:
    """Beyond the contract's 12h max_age Feast returns no value; the skew gate's join has no TTL and still
    finds the row (its staleness is the freshness gate's business, not the join's)."""
    stores = offline
    late = [(f"C{i:06d}", DAY1 + timedelta(hours=13)) for i in range(UPDATED, ENTITIES)]
    rows, _ = _asof(stores, late)
    assert (rows >= 0).all()
    found = _historical(stores, late)
    assert all(found.get(r) is None or set(found[r].values()) == {None} for r in late)
