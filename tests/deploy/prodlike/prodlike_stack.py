"""A production-like stack on loopback: PostgreSQL, ``mlflow server`` and Airflow's four services.

Every piece is a real process started here, in its own session, with its output in a log file:

* PostgreSQL from the distribution's packages (``initdb`` and ``postgres``; run as the
  ``postgres`` user when we are root, because ``initdb`` refuses root), TCP on 127.0.0.1 only,
  password authentication, one database and role each for Airflow and MLflow.
* ``mlflow server`` on that PostgreSQL, serving artifacts from a local folder.
* Airflow on that PostgreSQL with the LocalExecutor: ``airflow db migrate``, then
  ``api-server``, ``scheduler``, ``dag-processor`` and ``triggerer``. Configuration comes from
  the environment only (nothing from the caller's ``AIRFLOW_*`` variables leaks in), with the
  real SimpleAuthManager login, an ``mlflow_default`` connection and OpenLineage events
  written to a file.
* Or (``running_stack(executor="celery")``) the CeleryExecutor as a cluster runs it: Redis
  from the distribution's packages as the broker, results in PostgreSQL, two ``airflow celery
  worker`` processes that share nothing local (own queue, hostname, log server, folders), and
  moto's S3 server holding the lake, the gate reports and the results ledger.

``Stack`` stops everything it started whatever happened (Airflow, MLflow and the workers
together, then the databases, the broker and the object store); a stop ends every process still
in the session the service was started in, so task processes and server workers go too, and the
kernel stops the services if the process that started them dies without cleaning up.
``scripts/prodlike.py``, ``tests/deploy/prodlike`` and ``tests/deploy/celery`` use this module.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

REPO = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
ADMIN_USER = "parity"
OPENLINEAGE_NAMESPACE = "parity-prodlike"
# Variables of the caller that must not reach the stack: the test session's own Airflow home,
# its SQLite database, unit-test mode and disabled lineage, and any MLflow target.
_FOREIGN_PREFIXES = ("AIRFLOW", "_AIRFLOW", "MLFLOW_", "OPENLINEAGE_")

T = TypeVar("T")


class StackError(RuntimeError):
    """A service did not start or died, or a wait ran out of time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float, interval: float = 0.5,
              alive: Callable[[], None] | None = None) -> T:
    """Call ``probe`` until it returns something other than None.

    Args:
        what: what we wait for, for the error message.
        probe: returns the awaited value, or None to try again; OSError counts as None.
        timeout: seconds before giving up.
        interval: seconds between tries.
        alive: called before each try; raises when a process we depend on died.

    Returns:
        The probe's first non-None value.

    Raises:
        StackError: the deadline passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        if alive is not None:
            alive()
        with contextlib.suppress(OSError):
            value = probe()
            if value is not None:
                return value
        if time.monotonic() > deadline:
            raise StackError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _session_members(sid: int) -> list[int]:
    """Process ids in session ``sid``: a service and every descendant that did not leave it."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start at the last ')'.
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def _die_with_parent(signum: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to send ``signum`` to the child when we die, even by SIGKILL.

    The finalizers cannot run if the test process is killed outright; the kernel's parent-death
    signal still stops the services. None off Linux.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signum, 0, 0, 0)

    return arm


@dataclass
class Service:
    """One started process: its name, its log, and how to stop it.

    Attributes:
        tier: services stop in tiers, highest first, all of a tier at once (the databases last).
        whole_group: send the stop signal to the whole process group, so server workers and
            helpers shut down cleanly together; False for a server that stops its own children.
    """

    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    stop_signal: int = signal.SIGTERM
    tier: int = 1
    whole_group: bool = True

    def check_alive(self) -> None:
        """Raise with the log's tail if the process has exited.

        Raises:
            StackError: it exited.
        """
        if self.proc.poll() is not None:
            raise StackError(f"{self.name} exited with {self.proc.returncode}:\n{tail(self.log)}")

    def request_stop(self) -> None:
        """Send the stop signal (no wait)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                if self.whole_group:
                    os.killpg(self.proc.pid, self.stop_signal)
                else:
                    os.kill(self.proc.pid, self.stop_signal)

    def finish_stop(self, grace: float = 20) -> None:
        """Wait for the exit (SIGKILL after ``grace`` seconds), then end what is left in its session."""
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # A task process or worker that moved to its own process group is still in the session.
        if sys.platform.startswith("linux"):
            for pid in _session_members(self.proc.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def stop(self, grace: float = 20) -> None:
        """Stop the process and everything it started."""
        self.request_stop()
        self.finish_stop(grace)


@dataclass
class Stack:
    """Services started in one folder, stopped together, newest first."""

    root: Path
    services: list[Service] = field(default_factory=list)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def note(self, message: str) -> None:
        """Append a timed milestone to ``<root>/logs/stack.log`` (where the minutes go)."""
        log = self.root / "logs" / "stack.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a") as out:
            out.write(f"{time.monotonic() - self.started:7.1f}s {message}\n")

    def start(self, name: str, cmd: list[str], *, env: Mapping[str, str], user: str | None = None,
              cwd: Path | None = None, stop_signal: int = signal.SIGTERM, tier: int = 1,
              whole_group: bool = True) -> Service:
        """Start ``cmd`` in a new session with its output in ``<root>/logs/<name>.log``.

        Args:
            name: the service's name (log file, messages).
            cmd: the command line.
            env: its whole environment.
            user: run as this user (we must be root for that).
            cwd: its working folder (default: the stack's root).
            stop_signal: the signal that shuts it down cleanly.
            tier: stop order, highest first (see ``Service``).
            whole_group: signal its whole process group when stopping (see ``Service``).

        Returns:
            The running service, registered for ``stop_all``.
        """
        log = self.root / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        identity: dict[str, Any] = {}
        if user is not None:
            account = pwd.getpwnam(user)
            identity = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
        with log.open("ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=dict(env), cwd=cwd or self.root, start_new_session=True,
                                    preexec_fn=_die_with_parent(stop_signal), **identity)
        service = Service(name, proc, log, stop_signal, tier, whole_group)
        self.services.append(service)
        return service

    def run(self, name: str, cmd: list[str], *, env: Mapping[str, str], user: str | None = None,
            cwd: Path | None = None, timeout: float = 300) -> None:
        """Run a one-off command to completion, its output in ``<root>/logs/<name>.log``.

        Raises:
            StackError: it failed or ran past ``timeout`` (the log's tail is in the message).
        """
        service = self.start(name, cmd, env=env, user=user, cwd=cwd)
        try:
            code = service.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            service.stop()
            raise StackError(f"{name} ran longer than {timeout:.0f}s:\n{tail(service.log)}") from None
        finally:
            self.services.remove(service)
        if code != 0:
            raise StackError(f"{name} failed with exit code {code}:\n{tail(service.log)}")

    def check_alive(self) -> None:
        """Raise if any service has died."""
        for service in self.services:
            service.check_alive()

    def log_tails(self, lines: int = 30) -> str:
        """The tail of every service's log, for a failure message."""
        return "\n".join(f"----- {s.name} ({s.log}) -----\n{tail(s.log, lines)}" for s in self.services)

    def stop_all(self) -> None:
        """Stop every service, tier by tier, then run the cleanups; errors do not stop the rest."""
        while self.services:
            tier = max(service.tier for service in self.services)
            stopping = [service for service in self.services if service.tier == tier]
            for service in stopping:
                with contextlib.suppress(Exception):
                    service.request_stop()
            for service in stopping:
                with contextlib.suppress(Exception):
                    service.finish_stop()
                self.services.remove(service)
                self.note(f"stopped {service.name} (exit code {service.proc.returncode})")
        while self.cleanups:
            with contextlib.suppress(Exception):
                self.cleanups.pop()()


# --------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class Database:
    """A database on the stack's PostgreSQL and the role that owns it."""

    host: str
    port: int
    name: str
    user: str
    password: str = field(repr=False)

    def url(self, driver: str = "postgresql") -> str:
        """A SQLAlchemy URL, e.g. ``postgresql+psycopg2://user:pw@127.0.0.1:5432/db``."""
        return (f"{driver}://{self.user}:{urllib.parse.quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{self.name}")


def missing_tools(executor: Literal["local", "celery"] = "local") -> list[str]:
    """What this machine lacks to run the stack with ``executor`` (empty when nothing)."""
    import importlib.util

    modules = [("psycopg2-binary", "psycopg2"), ("asyncpg", "asyncpg")]
    if executor == "celery":
        modules += [("apache-airflow-providers-celery", "airflow.providers.celery"), ("moto[server]", "moto.server")]
    missing = [f"the Python package {name} (dev group: uv sync)" for name, module in modules
               if importlib.util.find_spec(module.split(".")[0]) is None or importlib.util.find_spec(module) is None]
    if postgres_bin_dir() is None:
        missing.append("PostgreSQL's server binaries (apt-get install postgresql, or set PARITY_PG_BIN)")
    if executor == "celery" and shutil.which("redis-server") is None:
        missing.append("redis-server (apt-get install redis-server)")
    return missing


def postgres_bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``postgres``: ``$PARITY_PG_BIN``, Debian's newest, or PATH."""
    if configured := os.environ.get("PARITY_PG_BIN"):
        return Path(configured)
    # Debian keeps server binaries off PATH, one folder per major version.
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                    if p.parent.parent.name.isdigit() else 0)
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def start_postgres(stack: Stack, databases: tuple[str, ...], *, timeout: float = 60,
                   settings: Mapping[str, str] | None = None, superuser: bool = False) -> dict[str, Database]:
    """Initialise and start a throw-away PostgreSQL on 127.0.0.1 with one database per name.

    The cluster lives in its own temporary folder (not under ``stack.root``, which may be private
    to root) owned by the server's user, removed by the stack's cleanup. Durability settings are
    off: nothing here must survive a crash.

    Args:
        stack: where the server is registered.
        databases: a database and an owning role (same name, random password) for each.
        timeout: seconds to wait for the server to accept connections.
        settings: more server settings (``-c name=value``), e.g. ``shared_preload_libraries``.
        superuser: the roles are superusers (a test reading server-wide statistics).

    Returns:
        The databases by name.

    Raises:
        StackError: PostgreSQL is not installed, or did not start.
    """
    import psycopg2

    bin_dir = postgres_bin_dir()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        raise StackError("PostgreSQL server binaries not found (apt-get install postgresql, or set PARITY_PG_BIN)")
    # initdb refuses to run as root: use the account the distribution's package created.
    user = "postgres" if os.geteuid() == 0 else None
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise StackError("running as root needs a 'postgres' user for the server (apt-get install postgresql)") \
                from None
    cluster = Path(tempfile.mkdtemp(prefix="parity-pg-"))
    stack.cleanups.append(lambda: shutil.rmtree(cluster, ignore_errors=True))
    superuser_password = secrets.token_urlsafe(16)
    (cluster / "pwfile").write_text(superuser_password + "\n")
    if user is not None:
        account = pwd.getpwnam(user)
        os.chown(cluster, account.pw_uid, account.pw_gid)
        os.chown(cluster / "pwfile", account.pw_uid, account.pw_gid)
    data = cluster / "data"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    stack.run("initdb", [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "scram-sha-256",
                         f"--pwfile={cluster / 'pwfile'}", "-E", "UTF8", "--no-sync"],
              env=env, user=user, cwd=cluster, timeout=120)
    port = free_port()
    command = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
               "-c", f"listen_addresses={LOOPBACK}", "-c", "unix_socket_directories=",
               "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
               "-c", "max_connections=200"]
    command += [arg for name, value in (settings or {}).items() for arg in ("-c", f"{name}={value}")]
    # SIGINT to the postmaster alone is PostgreSQL's fast shutdown; it stops its backends itself.
    server = stack.start("postgres", command, env=env, user=user, cwd=cluster, stop_signal=signal.SIGINT,
                         tier=0, whole_group=False)

    def connect() -> Any:
        try:
            return psycopg2.connect(host=LOOPBACK, port=port, user="postgres", password=superuser_password,
                                    dbname="postgres", connect_timeout=2)
        except psycopg2.OperationalError:
            return None

    admin = wait_for("PostgreSQL to accept connections", connect, timeout=timeout, alive=server.check_alive)
    admin.autocommit = True
    found = {}
    # CREATE DATABASE refuses a transaction block, so no ``with admin:`` here.
    with admin.cursor() as cur:
        for name in databases:
            password = secrets.token_urlsafe(16)
            cur.execute(f'CREATE ROLE "{name}" LOGIN {"SUPERUSER " if superuser else ""}PASSWORD %s', (password,))
            cur.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
            found[name] = Database(LOOPBACK, port, name, name, password)
    admin.close()
    return found


# --------------------------------------------------------------------------- MLflow


def http_ok(url: str) -> bool | None:
    """True when ``url`` answers 200, None otherwise (for ``wait_for``)."""
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return True if answer.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def clean_environment() -> dict[str, str]:
    """The caller's environment without its Airflow, MLflow and OpenLineage settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}


def start_mlflow(stack: Stack, database: Database) -> tuple[Service, str]:
    """Start ``mlflow server`` on the database, artifacts served from ``<root>/mlflow-artifacts``.

    It takes a while to import its app; call ``wait_healthy`` once the rest is under way.

    Returns:
        The service and its URL.
    """
    port = free_port()
    env = clean_environment() | {
        # In the environment, not on the command line: ``ps`` would show the password.
        "MLFLOW_BACKEND_STORE_URI": database.url("postgresql+psycopg2"),
        # No job runner: it starts seven more Python processes for GenAI jobs nothing here uses.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    server = stack.start("mlflow", [
        str(VENV_BIN / "mlflow"), "server", "--host", LOOPBACK, "--port", str(port), "--workers", "1",
        "--serve-artifacts", "--artifacts-destination", str(stack.root / "mlflow-artifacts"),
    ], env=env)
    return server, f"http://{LOOPBACK}:{port}"


def wait_healthy(service: Service, url: str, *, timeout: float = 180) -> None:
    """Wait until ``url`` answers 200.

    Raises:
        StackError: the service exited or the deadline passed.
    """
    wait_for(f"{service.name} at {url}", lambda: http_ok(url), timeout=timeout, alive=service.check_alive)


# --------------------------------------------------------------------------- Redis and S3 (CeleryExecutor layout)


def start_redis(stack: Stack) -> tuple[Service, str]:
    """Start a throw-away ``redis-server`` on 127.0.0.1 with a password and no persistence (no wait).

    The password is in its configuration file, not on its command line (``ps`` would show it).

    Returns:
        The service and the broker URL (``redis://:<password>@127.0.0.1:<port>/0``).

    Raises:
        StackError: redis-server is not installed.
    """
    server = shutil.which("redis-server")
    if server is None:
        raise StackError("redis-server not found (apt-get install redis-server)")
    folder = stack.root / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port, password = free_port(), secrets.token_urlsafe(24)
    config = folder / "redis.conf"
    config.write_text(f"bind {LOOPBACK}\nport {port}\nrequirepass {password}\nsave \"\"\nappendonly no\n"
                      f"dir {folder}\nprotected-mode yes\n")
    config.chmod(0o600)
    service = stack.start("redis", [server, str(config)], env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                          tier=0)
    return service, f"redis://:{urllib.parse.quote(password, safe='')}@{LOOPBACK}:{port}/0"


@dataclass(frozen=True)
class ObjectStore:
    """moto's S3 server: where the lake, the reports and the ledger live in the CeleryExecutor layout."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str = field(repr=False)

    def environment(self) -> dict[str, str]:
        """The ``AWS_*`` variables every reader and writer of the lake gets (as docker compose sets for MinIO)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": self.access_key,
                "AWS_SECRET_ACCESS_KEY": self.secret_key, "AWS_REGION": "us-east-1", "AWS_ALLOW_HTTP": "true",
                "AWS_CONDITIONAL_PUT": "etag"}

    def client(self) -> Any:
        """A boto3 S3 client on the server."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=self.access_key,
                            aws_secret_access_key=self.secret_key, region_name="us-east-1")

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under ``prefix`` in the bucket."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def start_object_store(stack: Stack, bucket: str = "lake") -> tuple[Service, ObjectStore]:
    """Start moto's S3 server on 127.0.0.1 (no wait; ``create_bucket`` waits).

    Returns:
        The service and the store, with a random secret key (moto accepts any; the secrets scan looks for it).
    """
    port = free_port()
    service = stack.start("moto-s3", [str(VENV_BIN / "python"), "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
                          env=clean_environment(), tier=0)
    return service, ObjectStore(f"http://{LOOPBACK}:{port}", bucket, "AKIAPARITYCELERY", secrets.token_urlsafe(24))


def create_bucket(service: Service, store: ObjectStore, *, timeout: float = 60) -> None:
    """Wait for the S3 server, then create the store's bucket."""
    host, port = store.endpoint.rsplit("/", 1)[-1].split(":")
    wait_for(f"{service.name} at {store.endpoint}", lambda: socket.create_connection((host, int(port)), 1).close() or True,
             timeout=timeout, interval=0.2, alive=service.check_alive)
    store.client().create_bucket(Bucket=store.bucket)


CELERY_QUEUES = ("parity_a", "parity_b")
POLICY_FOLDER = Path(__file__).resolve().parent / "cluster_policy"
"""Holds the ``airflow_local_settings.py`` whose ``task_policy`` alternates ``CELERY_QUEUES`` along each DAG."""


def celery_workers(root: Path) -> tuple[CeleryWorker, ...]:
    """Two workers, one per queue, on 127.0.0.2 and 127.0.0.3 (loopback too, on Linux), with empty homes."""
    workers = tuple(CeleryWorker(f"worker-{letter}", queue, f"127.0.0.{n}", root / "workers" / f"worker-{letter}")
                    for n, letter, queue in zip((2, 3), "ab", CELERY_QUEUES, strict=True))
    for worker in workers:
        worker.home.mkdir(parents=True)
    return workers


def celery_environment(*, broker_url: str, database: Database, store: ObjectStore, mlflow_url: str,
                       mlflow_password: str) -> dict[str, str]:
    """The CeleryExecutor on Redis and PostgreSQL, the bundle's lake, reports and ledger on S3.

    Connections carry secrets a task must never print: the S3 secret key (``delta_default``,
    which the storage layer uses, and ``aws_default``; also in ``AWS_SECRET_ACCESS_KEY``, which
    the lake's readers and writers use) and a password on ``mlflow_default`` (the server has no
    auth and ignores it).
    """
    mlflow = {"conn_type": "mlflow", "host": mlflow_url, "login": "parity", "password": mlflow_password,
              "extra": {"max_retries": 2, "backoff_factor": 0, "timeout": 30}}
    aws = {"conn_type": "aws", "login": store.access_key, "password": store.secret_key,
           "extra": {"endpoint_url": store.endpoint, "region_name": "us-east-1"}}
    lake = f"s3://{store.bucket}"
    return store.environment() | {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": database.url("db+postgresql+psycopg2"),
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": CELERY_QUEUES[0],
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        # airflow_local_settings (the cluster policy) for the dag-processor, which applies it.
        "PYTHONPATH": str(POLICY_FOLDER),
        "PARITY_POLICY_QUEUES": ",".join(CELERY_QUEUES),
        "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(mlflow),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(aws),
        "AIRFLOW_CONN_DELTA_DEFAULT": json.dumps(aws | {"conn_type": "delta", "extra": {
            "endpoint_url": store.endpoint, "region": "us-east-1"}}),
        # Reports, profiles and the ledger reach S3 through that connection; the lake through AWS_*.
        "AIRFLOW__PARITY__STORAGE_CONN_ID": "delta_default",
        "AIRFLOW__PARITY__MLFLOW_CONN_ID": "mlflow_default",
        "AIRFLOW__PARITY__LAKE_URI": f"{lake}/churn",
        "AIRFLOW__PARITY__REPORT_DIR": f"{lake}/reports",
        "AIRFLOW__PARITY__LEDGER_URI": f"{lake}/parity/ledger",
        "AIRFLOW__PARITY__EXECUTION_MODE": "local",
    }


# --------------------------------------------------------------------------- Airflow


AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")


@dataclass(frozen=True)
class CeleryWorker:
    """One ``airflow celery worker`` playing a machine of its own.

    It consumes one queue, has its own loopback address (its hostname: the api-server fetches
    its task logs from the log server there) and its own empty folders: ``HOME``, ``TMPDIR``,
    ``AIRFLOW_HOME`` with its task logs and its OpenLineage file. Nothing local is shared with
    the other worker or the scheduler.
    """

    name: str
    queue: str
    address: str
    home: Path

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def log_folder(self) -> Path:
        return self.airflow_home / "logs"

    @property
    def openlineage_file(self) -> Path:
        return self.airflow_home / "openlineage" / "events.jsonl"


@dataclass(frozen=True)
class Airflow:
    """A running Airflow: where it lives and how to reach its REST API."""

    home: Path
    url: str
    username: str
    # Out of repr: pytest prints fixtures' values in failure reports.
    password: str = field(repr=False)
    env: dict[str, str] = field(repr=False)
    openlineage_file: Path
    workers: tuple[CeleryWorker, ...] = ()
    """The Celery workers (none with the LocalExecutor)."""

    @property
    def log_folder(self) -> Path:
        """Where the scheduler's processes (and the LocalExecutor's tasks) write task logs."""
        return self.home / "logs"

    @property
    def log_folders(self) -> tuple[Path, ...]:
        """Every folder holding task logs: this home's and each worker's."""
        return (self.log_folder, *(worker.log_folder for worker in self.workers))

    @property
    def openlineage_files(self) -> tuple[Path, ...]:
        """Every OpenLineage file transport: the scheduler's and each worker's."""
        return (self.openlineage_file, *(worker.openlineage_file for worker in self.workers))


def airflow_environment(home: Path, *, database: Database, api_port: int, dags_folder: Path,
                        extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Everything Airflow's processes read, as environment variables (no airflow.cfg edits).

    Args:
        home: ``AIRFLOW_HOME``.
        database: the metadata database.
        api_port: the api-server's port; tasks reach the Execution API there.
        dags_folder: the DAG bundle's folder.
        extra: more variables (connections, ``[parity]`` settings); they win.

    Returns:
        The whole environment for ``airflow`` commands.
    """
    from cryptography.fernet import Fernet

    api = f"http://{LOOPBACK}:{api_port}"
    env = clean_environment() | {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Two cores: a few task slots are enough and keep memory and CPU in check.
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database.url("postgresql+psycopg2"),
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": api,
        # Shared by every process: the scheduler signs the tokens the api-server checks.
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        # React quickly: the defaults suit a long-lived deployment, not a four-minute test.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": OPENLINEAGE_NAMESPACE,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(home / "openlineage" / "events.jsonl"), "append": True}),
        "GX_ANALYTICS_ENABLED": "false",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    env.update(extra or {})
    return env


def prepare_airflow(stack: Stack, database: Database, *, dags_folder: Path, extra_env: Mapping[str, str],
                    workers: tuple[CeleryWorker, ...] = (), timeout: float = 240) -> Airflow:
    """Write the Airflow home (login) and migrate the metadata database; no service runs yet.

    Args:
        stack: where the migration's log goes.
        database: the (empty) metadata database.
        dags_folder: the DAG bundle.
        extra_env: connections and ``[parity]`` settings for the bundle.
        workers: the Celery workers ``start_airflow`` starts too (extra_env then selects the CeleryExecutor).
        timeout: seconds for the migration.

    Returns:
        The Airflow to start with ``start_airflow``.

    Raises:
        StackError: the migration failed.
    """
    home = stack.root / "airflow-home"
    (home / "openlineage").mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    (home / "passwords.json").write_text(json.dumps({ADMIN_USER: password}))
    api_port = free_port()
    env = airflow_environment(home, database=database, api_port=api_port, dags_folder=dags_folder, extra=extra_env)
    stack.run("airflow-db-migrate", [str(VENV_BIN / "airflow"), "db", "migrate"], env=env, timeout=timeout)
    return Airflow(home=home, url=f"http://{LOOPBACK}:{api_port}", username=ADMIN_USER, password=password,
                   env=env, openlineage_file=home / "openlineage" / "events.jsonl", workers=workers)


def start_airflow(stack: Stack, airflow: Airflow) -> Service:
    """Start the api-server, scheduler, dag-processor and triggerer, and the Celery workers (no wait).

    Returns:
        The api-server, for ``wait_healthy`` on ``{url}/api/v2/monitor/health``.
    """
    services = [stack.start(f"airflow-{name}", [str(VENV_BIN / "airflow"), name], env=airflow.env)
                for name in AIRFLOW_SERVICES]
    for worker in airflow.workers:
        start_celery_worker(stack, airflow, worker)
    return services[0]


def kill_and_restart(stack: Stack, airflow: Airflow, name: str = "scheduler") -> Service:
    """``kill -9`` an Airflow service and everything in its session (its task processes), then start it again.

    What a lost node looks like: no clean shutdown, tasks gone mid-run. The new process has the
    same command and environment, as a supervisor would restart it.

    Returns:
        The new service.
    """
    service = next(s for s in stack.services if s.name == f"airflow-{name}")
    members = _session_members(service.proc.pid)
    for pid in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    service.proc.wait(timeout=30)
    stack.services.remove(service)
    stack.note(f"killed {service.name} and {len(members) - 1} process(es) of its session")
    return stack.start(service.name, [str(VENV_BIN / "airflow"), name], env=airflow.env)


def worker_environment(airflow: Airflow, worker: CeleryWorker) -> dict[str, str]:
    """Airflow's environment with the worker's own folders and hostname."""
    (worker.home / "tmp").mkdir(parents=True, exist_ok=True)
    worker.openlineage_file.parent.mkdir(parents=True, exist_ok=True)
    transport = json.loads(airflow.env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    return airflow.env | {
        "HOME": str(worker.home),
        "TMPDIR": str(worker.home / "tmp"),
        "AIRFLOW_HOME": str(worker.airflow_home),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(worker.log_folder),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport | {"log_file_path": str(worker.openlineage_file)}),
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "airflow_local_settings.worker_hostname",
        "PARITY_WORKER_HOSTNAME": worker.address,
    }


def start_celery_worker(stack: Stack, airflow: Airflow, worker: CeleryWorker, *, concurrency: int = 2) -> None:
    """Start ``airflow celery worker`` on its queue, and its task log server on its own address.

    Airflow's own log server listens on every address at ``[logging] worker_log_server_port``,
    which the api-server reads from its own configuration: two workers on one machine would
    fight for it. Each gets that port on its own loopback address instead, as on two machines.
    """
    env = worker_environment(airflow, worker)
    stack.start(f"celery-{worker.name}", [
        str(VENV_BIN / "airflow"), "celery", "worker", "--queues", worker.queue, "--concurrency", str(concurrency),
        "--celery-hostname", f"{worker.name}@parity", "--skip-serve-logs", "--without-mingle", "--without-gossip",
    ], env=env, cwd=worker.home)
    stack.start(f"logs-{worker.name}", [
        str(VENV_BIN / "python"), "-m", "uvicorn", "--factory", "--no-access-log", "--host", worker.address,
        "--port", airflow.env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"], "airflow.utils.serve_logs.log_server:get_app",
    ], env=env, cwd=worker.home)


class ApiError(RuntimeError):
    """A REST call answered with an error status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: HTTP {status}: {body[:500]}")
        self.status = status


class AirflowApi:
    """Airflow's REST API v2 with a JWT from the SimpleAuthManager's token endpoint.

    Args:
        airflow: the running Airflow.
    """

    def __init__(self, airflow: Airflow, *, token: str | None = None) -> None:
        self.base = airflow.url
        self._credentials = (airflow.username, airflow.password)
        self._token = token

    def login(self, username: str, password: str) -> str:
        """A JWT from ``POST /auth/token`` (the SimpleAuthManager's login).

        Raises:
            ApiError: the credentials were refused.
        """
        answer = self._send("POST", "/auth/token", {"username": username, "password": password}, auth=False)
        return str(answer["access_token"])

    def token(self) -> str:
        """The admin user's JWT, fetched once."""
        if self._token is None:
            self._token = self.login(*self._credentials)
        return self._token

    def get(self, path: str, **query: Any) -> Any:
        """GET ``path`` (below the base URL) and decode its JSON."""
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        return self._send("GET", path + suffix)

    def post(self, path: str, body: Any) -> Any:
        """POST JSON to ``path``."""
        return self._send("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        """PATCH JSON to ``path``."""
        return self._send("PATCH", path, body)

    def _send(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as error:
            raise ApiError(method, path, error.code, error.read().decode(errors="replace")) from None
        return json.loads(raw) if raw else None


FINISHED_RUN_STATES = ("success", "failed")


def wait_dag_parsed(api: AirflowApi, dag_id: str, *, timeout: float = 120, alive: Callable[[], None] | None = None
                    ) -> dict[str, Any]:
    """Wait until the dag-processor has stored ``dag_id`` (``GET /api/v2/dags/{dag_id}``).

    Raises:
        StackError: not parsed in time; the message lists the import errors Airflow recorded.
    """
    def probe() -> dict[str, Any] | None:
        try:
            return dict(api.get(f"/api/v2/dags/{dag_id}"))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    try:
        return wait_for(f"DAG {dag_id} to be parsed", probe, timeout=timeout, interval=1, alive=alive)
    except StackError as error:
        errors = api.get("/api/v2/importErrors").get("import_errors", [])
        detail = "; ".join(f"{e['filename']}: {e['stack_trace'].strip().splitlines()[-1]}" for e in errors)
        raise StackError(f"{error} (import errors: {detail or 'none'})") from None


def trigger_run(api: AirflowApi, dag_id: str, *, logical_date: str | None, conf: Mapping[str, Any] | None = None,
                run_id: str | None = None) -> str:
    """Unpause ``dag_id`` and trigger a run for ``logical_date`` (ISO 8601 with a zone; None: a run without one,
    as the UI's and the REST client's manual triggers make).

    Returns:
        The new run's id.
    """
    api.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
    body: dict[str, Any] = {"logical_date": logical_date, "conf": dict(conf or {})}
    if run_id:
        body["dag_run_id"] = run_id
    return str(api.post(f"/api/v2/dags/{dag_id}/dagRuns", body)["dag_run_id"])


def task_states(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, str | None]:
    """Each task instance's state (mapped ones as ``task_id[i]``)."""
    answer = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)
    states: dict[str, str | None] = {}
    for ti in answer["task_instances"]:
        key = ti["task_id"] if ti.get("map_index", -1) < 0 else f"{ti['task_id']}[{ti['map_index']}]"
        states[key] = ti["state"]
    return states


def wait_run(api: AirflowApi, dag_id: str, run_id: str, *, timeout: float,
             alive: Callable[[], None] | None = None) -> str:
    """Poll a DAG run until it succeeds or fails.

    Returns:
        The final state, ``success`` or ``failed``.

    Raises:
        StackError: still running at the deadline; the message holds the task states.
    """
    def probe() -> str | None:
        state = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
        return str(state) if state in FINISHED_RUN_STATES else None

    try:
        return wait_for(f"{dag_id} run {run_id}", probe, timeout=timeout, interval=2, alive=alive)
    except StackError as error:
        raise StackError(f"{error}; task states: {task_states(api, dag_id, run_id)}") from None


def run_to_end(env: RunningStack, dag_id: str, *, conf: Mapping[str, Any], run_id: str, logical_date: str | None,
               timeout: float) -> str:
    """``start_run``, then ``finish_run``.

    Returns:
        The run's final state, ``success`` or ``failed``.

    Raises:
        StackError: see ``finish_run``.
    """
    start_run(env, dag_id, conf=conf, run_id=run_id, logical_date=logical_date)
    return finish_run(env, dag_id, run_id, timeout=timeout)


def start_run(env: RunningStack, dag_id: str, *, conf: Mapping[str, Any], run_id: str, logical_date: str | None) -> None:
    """Wait for ``dag_id`` to be parsed, then trigger it (no wait for the run)."""
    wait_dag_parsed(env.api, dag_id, alive=env.stack.check_alive)
    env.stack.note(f"triggering {dag_id} {dict(conf)}")
    trigger_run(env.api, dag_id, logical_date=logical_date, conf=conf, run_id=run_id)


def finish_run(env: RunningStack, dag_id: str, run_id: str, *, timeout: float) -> str:
    """Wait for a triggered run to finish.

    Returns:
        The run's final state, ``success`` or ``failed``.

    Raises:
        StackError: not finished in time, or a service died; the message has the task logs' and services' tails.
    """
    try:
        state = wait_run(env.api, dag_id, run_id, timeout=timeout, alive=env.stack.check_alive)
    except StackError as error:
        raise StackError(f"{error}\n{task_log_tails(env.airflow, dag_id, run_id)}\n{env.stack.log_tails()}") from None
    env.stack.note(f"{dag_id} {run_id} finished: {state}")
    return state


def task_log_tails(airflow: Airflow, dag_id: str, run_id: str, lines: int = 15) -> str:
    """The tail of every task log of one DAG run (any try), one short line per record."""
    parts = []
    for base in airflow.log_folders:
        folder = base / f"dag_id={dag_id}" / f"run_id={run_id}"
        for path in sorted(folder.rglob("*.log")):
            records = [_short_record(line) for line in tail(path, lines).splitlines()]
            parts.append(f"----- {path} -----\n" + "\n".join(records))
    return "\n".join(parts) or f"(no task logs under {', '.join(map(str, airflow.log_folders))})"


def _short_record(line: str, width: int = 300) -> str:
    """``HH:MM:SS level event [exception]`` from a structured log line (other lines as they are)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line[:width]
    if not isinstance(record, dict):
        return line[:width]
    text = f"{str(record.get('timestamp', ''))[11:19]} {record.get('level', '')} {record.get('event', '')}"
    for detail in record.get("error_detail") or []:
        text += f" [{detail.get('exc_type')}: {detail.get('exc_value')}]"
    return text[:width]


def bundle_environment(root: Path, mlflow_url: str) -> dict[str, str]:
    """The reference bundle's settings: a lake and reports under ``root``, MLflow on the server.

    Args:
        root: the stack's folder.
        mlflow_url: the mlflow server.

    Returns:
        ``AIRFLOW_CONN_MLFLOW_DEFAULT`` and the ``[parity]`` variables.
    """
    connection = {"conn_type": "mlflow", "host": mlflow_url,
                  "extra": {"max_retries": 2, "backoff_factor": 0, "timeout": 30}}
    return {
        "AIRFLOW_CONN_MLFLOW_DEFAULT": json.dumps(connection),
        "AIRFLOW__PARITY__MLFLOW_CONN_ID": "mlflow_default",
        "AIRFLOW__PARITY__LAKE_URI": str(root / "lake"),
        "AIRFLOW__PARITY__REPORT_DIR": str(root / "reports"),
        "AIRFLOW__PARITY__ALERT_FILE": str(root / "alerts.jsonl"),
        "AIRFLOW__PARITY__EXECUTION_MODE": "local",
    }


def serve_traffic(airflow: Airflow, day: str) -> dict[str, Any]:
    """Play the online service for ``day``: log served features where the skew gates read them.

    Runs the bundle's stand-in (``churn.serving.log_serving_traffic``, which needs ``dags/`` on
    ``sys.path``) in this process, with the ``[parity]`` settings the stack's workers see.

    Returns:
        What it wrote: ``{"rows", "version", "boundary"}``.
    """
    previous = os.environ.copy()
    # The [parity] options, and the object store's endpoint and credentials when the lake is on one.
    os.environ.update({key: value for key, value in airflow.env.items() if key.startswith(("AIRFLOW__PARITY__", "AWS_"))})
    try:
        from churn.serving import log_serving_traffic
        from churn.settings import load_settings

        settings = load_settings()
        return dict(log_serving_traffic(lake_uri=settings.lake_uri, features_table=settings.features_table,
                                        contract_path=settings.contract_path, day=day))
    finally:
        os.environ.clear()
        os.environ.update(previous)


@dataclass(frozen=True)
class RunningStack:
    """A started stack: its folder and services, Airflow with its REST client, the mlflow server."""

    root: Path
    stack: Stack
    airflow: Airflow
    api: AirflowApi
    mlflow_url: str
    store: ObjectStore | None = None
    """The S3 server holding the lake, reports and ledger (CeleryExecutor layout only)."""
    secrets: dict[str, str] = field(default_factory=dict, repr=False)
    """Every secret the stack handed out, by what it is: none may show up in a log, report, event or tag."""


@contextlib.contextmanager
def running_stack(root: Path, *, dags_folder: Path = REPO / "dags",
                  extra_env: Callable[[Path, str], Mapping[str, str]] | None = None, scheduled_runs: bool = True,
                  executor: Literal["local", "celery"] = "local") -> Iterator[RunningStack]:
    """PostgreSQL, ``mlflow server`` and Airflow, up for the ``with`` block, then all stopped.

    Args:
        root: an empty folder for data, logs and the Airflow home.
        dags_folder: the DAG bundle Airflow runs.
        extra_env: ``(root, mlflow_url) -> variables`` added to Airflow's environment
            (default: ``bundle_environment`` with the LocalExecutor, ``celery_environment``'s
            S3 lake with the CeleryExecutor).
        scheduled_runs: False stops the scheduler from creating runs by itself (timetables and
            asset events, ``[scheduler] use_job_schedule``): only triggered runs happen, so a test
            knows exactly which runs exist.
        executor: ``local``: tasks run beside the scheduler, on its disk. ``celery``: workers
            that share nothing local (see ``celery_workers``): Redis as the broker, results in
            PostgreSQL, the lake, reports and ledger on moto's S3 server, queues alternated by
            the cluster policy in ``POLICY_FOLDER``.

    Yields:
        The running stack.

    Raises:
        StackError: a service did not start; the message has the tail of its log.
    """
    stack = Stack(root)
    # A Ctrl-C or a SIGTERM from a CI timeout must still stop the services: turn SIGTERM into
    # an exception so the ``finally`` below runs.
    previous = signal.getsignal(signal.SIGTERM)
    if previous in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        databases = start_postgres(stack, ("airflow", "mlflow"))
        stack.note("PostgreSQL ready")
        # mlflow's slow start overlaps Airflow's migration.
        mlflow, mlflow_url = start_mlflow(stack, databases["mlflow"])
        env, store, workers = dict((extra_env or bundle_environment)(root, mlflow_url)), None, ()
        if executor == "celery":
            # The S3 server and Redis start while Airflow migrates.
            moto, store = start_object_store(stack)
            _, broker_url = start_redis(stack)
            env = celery_environment(broker_url=broker_url, database=databases["airflow"], store=store,
                                     mlflow_url=mlflow_url, mlflow_password=secrets.token_urlsafe(24)) \
                | dict(extra_env(root, mlflow_url) if extra_env else {})
            workers = celery_workers(root)
        if not scheduled_runs:
            env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
        airflow = prepare_airflow(stack, databases["airflow"], dags_folder=dags_folder, extra_env=env,
                                  workers=workers)
        stack.note("Airflow database migrated")
        api_server = start_airflow(stack, airflow)
        if store is not None:
            create_bucket(moto, store)
            stack.note("S3 bucket created")
        # Airflow's processes import while mlflow finishes starting; tasks need it only later.
        wait_healthy(mlflow, f"{mlflow_url}/health")
        stack.note("mlflow server healthy")
        wait_healthy(api_server, f"{airflow.url}/api/v2/monitor/health", timeout=240)
        stack.check_alive()
        stack.note("Airflow api-server healthy")
        yield RunningStack(root, stack, airflow, AirflowApi(airflow), mlflow_url, store,
                           stack_secrets(airflow, databases))
    finally:
        stack.stop_all()
        if previous in (signal.SIG_DFL, None):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


SECRET_VARIABLES = ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
                    "AWS_SECRET_ACCESS_KEY")


def stack_secrets(airflow: Airflow, databases: Mapping[str, Database]) -> dict[str, str]:
    """Every secret value the stack configured, named for a failure message (the values stay out of it)."""
    found = {name: airflow.env[name] for name in SECRET_VARIABLES if airflow.env.get(name)}
    found["admin password"] = airflow.password
    found |= {f"{name} database password": database.password for name, database in databases.items()}
    for variable, value in airflow.env.items():
        if variable.startswith("AIRFLOW_CONN_"):
            password = json.loads(value).get("password")
            if password:
                found[f"{variable} password"] = password
    broker = urllib.parse.urlsplit(airflow.env.get("AIRFLOW__CELERY__BROKER_URL", ""))
    if broker.password:
        found["Redis password"] = urllib.parse.unquote(broker.password)
    return found


@contextlib.contextmanager
def stack_for_tests(root: Path, **options: Any) -> Iterator[RunningStack]:
    """``running_stack(root, **options)`` for a test module's fixture.

    Skips when this machine lacks a tool the stack needs (fails instead under CI, which must
    have them); a service that does not start fails the module with every service's log tail.
    """
    import pytest

    missing = missing_tools(options.get("executor", "local"))
    if missing:
        message = "the stack needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        with running_stack(root, **options) as running:
            yield running
    except StackError as error:
        logs = "\n".join(f"----- {path.name} -----\n{tail(path)}" for path in sorted((root / "logs").glob("*.log")))
        pytest.fail(f"stack failed: {error}\n{logs}", pytrace=False)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
