"""The online path's fixtures: a feature table, a champion in a local MLflow store, SQLite and Redis stores.

Each store kind is a parameter of ``online``: every service test runs against SQLite and against a
real ``redis-server`` on loopback.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serving_support import Lake

from airflow_provider_parity.contracts.loader import load_contract
from airflow_provider_parity.examples import customer_features
from airflow_provider_parity.serving.demo import RedisProcess, ServiceProcess, train_champion
from airflow_provider_parity.serving.online_store import materialize, open_store

CONTRACT = str(Path(__file__).resolve().parents[3] / "contracts" / "customer_features.yaml")
ENTITIES = 200


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    from deltalake import write_deltalake

    root = tmp_path_factory.mktemp("serving")
    contract = load_contract(CONTRACT)
    table = customer_features(ENTITIES)
    write_deltalake(str(root / "fresh"), table)
    write_deltalake(str(root / "stale"), customer_features(ENTITIES, fault="stale"))
    tracking_uri = f"sqlite:///{root}/mlflow.db"
    train_champion(tracking_uri, "churn", table, contract, label="churned")
    return Lake(root=root, contract=contract, fresh=str(root / "fresh"), stale=str(root / "stale"),
                tracking_uri=tracking_uri, model="churn")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it)")
    server = RedisProcess(tmp_path_factory.mktemp("redis"))
    try:
        yield server.url
    finally:
        server.stop()


_db_counter = iter(range(1, 16))


@pytest.fixture(params=["sqlite", "redis"])
def store_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty online store of each kind (Redis: a fresh database number per test)."""
    if request.param == "redis":
        return f"{request.getfixturevalue('redis_url')}/{next(_db_counter)}"
    return f"sqlite:///{tmp_path}/online.db"


@pytest.fixture
def materialised(lake: Lake, store_uri: str) -> str:
    """``store_uri`` holding the fresh table's version 0."""
    store = open_store(store_uri)
    try:
        materialize(lake.fresh, 0, lake.contract, store)
    finally:
        store.close()
    return store_uri


@pytest.fixture
def start_service(lake: Lake, tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start ``parity serve`` processes (stopped at the end of the test)."""
    started: list[ServiceProcess] = []

    def start(store: str, *extra: str, model: str | None = None, log: Path | None = None) -> ServiceProcess:
        service = ServiceProcess(contract=CONTRACT, store=store, model=model or lake.model,
                                 log=str(log or tmp_path / "serving_log"), tracking_uri=lake.tracking_uri,
                                 extra=extra, output=tmp_path / f"serve-{len(started)}.out")
        started.append(service)
        service.wait_healthy()
        return service

    yield start
    for service in started:
        service.stop()
