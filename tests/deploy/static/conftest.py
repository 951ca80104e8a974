"""Fixtures for the static deployment checks (helpers in deploy_support.py).

The chart's dependency on the official Airflow chart cannot be downloaded here, so renders
contain this chart's own objects only (Helm renders a chart whose declared dependency is
absent; `helm lint` reports it as a warning, which the lint test expects).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    CHART_DIR,
    COMPOSE_FILE,
    NAMESPACE,
    RELEASE,
    Helm,
    Render,
    documents,
    env_example,
    interpolate,
)


@pytest.fixture(scope="session")
def chart_default_values() -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    return values


@pytest.fixture(scope="session")
def chart_helm() -> Iterator[Helm]:
    """Helm (helm-python-sdk in a child process) for the whole session."""
    helm = Helm()
    try:
        yield helm
    finally:
        helm.close()


@pytest.fixture(scope="session")
def chart_render(chart_helm: Helm) -> Render:
    """``chart_render(values)``: the parsed objects of a render with ``values`` over the defaults."""

    def _render(values: Mapping[str, Any] | None = None, *, namespace: str = NAMESPACE) -> list[dict[str, Any]]:
        return documents(chart_helm.render(CHART_DIR, values or {}, name=RELEASE, namespace=namespace))

    return _render


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    """A copy of the chart with its contracts link resolved, free to edit."""
    import shutil

    target = tmp_path / "parity"
    shutil.copytree(CHART_DIR, target, symlinks=False)
    return target


@pytest.fixture(scope="session")
def compose_text() -> str:
    return COMPOSE_FILE.read_text()


@pytest.fixture(scope="session")
def compose_env() -> dict[str, str]:
    """.env.example with every empty secret filled in, as a user's .env would be."""
    return {name: value or f"test-{name.lower()}-0123456789abcdef" for name, value in env_example().items()}


@pytest.fixture(scope="session")
def compose_config(compose_text: str, compose_env: dict[str, str]) -> dict[str, Any]:
    """The compose file after interpolation with ``compose_env`` (anchors and merge keys resolved)."""
    config: dict[str, Any] = yaml.safe_load(interpolate(compose_text, compose_env))
    return config


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema vendored by check-jsonschema."""
    from importlib.resources import files

    schema: dict[str, Any] = json.loads(
        files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    return schema
