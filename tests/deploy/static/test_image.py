"""The Dockerfile, read statically (no Docker engine here): base tag, sources, user, lock export."""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field

import pytest
from deploy_support import REPO
from packaging.markers import Marker

DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"


@dataclass
class Stage:
    """One build stage: its base image, name and instructions (keyword, arguments)."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse_dockerfile(text: str) -> list[Stage]:
    """Stages of a Dockerfile, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, rest.strip()))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def _locked_airflow_version(python: str) -> str:
    """The apache-airflow version uv.lock resolves on Linux for ``python`` (e.g. ``3.11``)."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    environment = {"python_full_version": f"{python}.0", "python_version": python, "sys_platform": "linux",
                   "platform_system": "Linux", "platform_machine": "x86_64", "implementation_name": "cpython"}
    matches = []
    for package in lock["package"]:
        if package["name"] != "apache-airflow":
            continue
        markers = package.get("resolution-markers") or ["python_full_version >= '0'"]
        if any(Marker(m).evaluate(environment) for m in markers):
            matches.append(package["version"])
    assert len(matches) == 1, matches
    return str(matches[0])


def _uv() -> list[str]:
    """The uv executable: the one running us (``uv run`` sets UV), else PATH's, else python3's module."""
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else ["python3", "-m", "uv"]


def test_the_image_extends_the_official_airflow_image_of_the_locked_version(stages: list[Stage]) -> None:
    final = stages[-1]
    match = re.fullmatch(r"apache/airflow:(?P<airflow>\d+\.\d+\.\d+)-python(?P<python>\d+\.\d+)", final.image)
    assert match, final.image
    assert match["airflow"] == _locked_airflow_version(match["python"])


def test_uv_in_the_build_stage_is_the_one_setup_installs(stages: list[Stage]) -> None:
    setup = (REPO / "scripts" / "setup.sh").read_text()
    wanted = re.search(r"^UV_VERSION=(\S+)", setup, re.M)
    assert wanted
    args = [rest for stage in stages for keyword, rest in stage.instructions if keyword == "ARG"]
    assert f"UV_VERSION={wanted.group(1)}" in args


def test_the_lock_export_in_the_dockerfile_works_and_pins_airflow(stages: list[Stage]) -> None:
    """Run the very `uv export` command of the build stage here, on the committed lock (offline)."""
    runs = [rest for stage in stages for keyword, rest in stage.instructions if keyword == "RUN"]
    export = next(r for r in runs if "uv export" in r)
    command = shlex.split(export.split("&&")[0])
    assert command[:2] == ["uv", "export"] and "--frozen" in command
    out = command.index("--output-file")
    command = command[:out] + command[out + 2:]
    result = subprocess.run([*_uv(), *command[1:]], cwd=REPO, capture_output=True, text=True, check=True)
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) ; .*python_full_version < '3\.15'", result.stdout, re.M))
    final = stages[-1].image
    assert pins["apache-airflow"] == final.split(":")[1].split("-")[0]
    # Every extra of the provider is in: the image runs every kind of step.
    requirements = {line.split("==")[0].lower() for line in result.stdout.splitlines() if "==" in line}
    assert {"pyspark", "deltalake", "mlflow", "great-expectations", "dbt-core",
            "apache-airflow-providers-cncf-kubernetes", "apache-airflow-providers-openlineage"} <= requirements


def test_copy_sources_exist_and_are_in_the_build_context(stages: list[Stage]) -> None:
    ignored = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    copied = []
    for stage in stages:
        for keyword, rest in stage.instructions:
            if keyword not in ("COPY", "ADD") or "--from=" in rest:
                continue
            sources = [part for part in rest.split() if not part.startswith("--")][:-1]
            copied += sources
    assert {"pyproject.toml", "uv.lock", "airflow_provider_parity", "dags", "dbt_project", "contracts"} <= set(copied)
    for source in copied:
        assert (REPO / source).exists(), f"COPY {source}: not in the repository"
        for pattern in ignored:
            assert not fnmatch.fnmatch(source, pattern.rstrip("/")), f".dockerignore excludes {source} ({pattern})"


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    assert {".venv", ".parity", ".env", ".git", "**/__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"} <= ignored


def test_bundle_is_baked_into_opt_airflow(stages: list[Stage]) -> None:
    copies = [rest.split()[-2:] for keyword, rest in stages[-1].instructions if keyword == "COPY" and "--from" not in rest]
    assert ["dags", "/opt/airflow/dags"] in copies
    assert ["dbt_project", "/opt/airflow/dbt_project"] in copies
    assert ["contracts", "/opt/airflow/contracts"] in copies


def test_java_is_installed_as_root_and_the_image_runs_as_the_airflow_user(stages: list[Stage]) -> None:
    final = stages[-1].instructions
    users = [(i, rest) for i, (keyword, rest) in enumerate(final) if keyword == "USER"]
    assert users and users[-1][1] not in ("root", "0", "0:0"), "the image must end as a non-root user"
    java = next(i for i, (keyword, rest) in enumerate(final) if keyword == "RUN" and "jre" in rest)
    user_at_java = [rest for i, rest in users if i < java][-1]
    assert user_at_java == "root"
    pip = next(i for i, (keyword, rest) in enumerate(final) if keyword == "RUN" and "pip install" in rest)
    user_at_pip = [rest for i, rest in users if i < pip][-1]
    assert user_at_pip == "airflow", "the official image installs Python packages as the airflow user"
    install = final[pip][1]
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in install and "requirements.txt" in install


def _mvn_arguments(command: str) -> list[str]:
    """The arguments of one ``mvn`` command, without its output folder (the one thing that differs)."""
    words = shlex.split(command)
    return [w for w in words[words.index("mvn") + 1:] if not w.startswith("-DoutputDirectory=") and w != ">/dev/null"]


def test_the_image_resolves_delta_jars_like_setup_and_points_spark_at_them(stages: list[Stage], tmp_path) -> None:
    [jars] = [s for s in stages if s.name == "delta-jars"]
    [run] = [rest for keyword, rest in jars.instructions if keyword == "RUN"]
    setup = (REPO / "scripts" / "setup.sh").read_text()
    setup_mvn = re.search(r"^\s*(mvn .*?)$", setup.replace("\\\n", " "), re.M)
    assert setup_mvn is not None
    assert _mvn_arguments(run) == _mvn_arguments(setup_mvn.group(1).replace('"$PWD/.parity/jars"', "X"))
    output = re.search(r"-DoutputDirectory=(\S+)", run)
    assert output is not None
    final = stages[-1].instructions
    [copy] = [rest for keyword, rest in final if keyword == "COPY" and "--from=delta-jars" in rest]
    source, target = copy.split()[-2:]
    assert source == output.group(1)
    assert ("ENV", f"PARITY_DELTA_JARS={target}") in final
    if shutil.which("mvn") is None:
        pytest.skip("no Maven here to run the stage's command")
    # The stage's own command, offline from the local repository setup.sh filled: it yields delta-spark.
    command = [*shlex.split(run.replace(output.group(1), str(tmp_path / "jars"))), "-o"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    assert any(p.name.startswith("delta-spark_") for p in (tmp_path / "jars").glob("*.jar"))
