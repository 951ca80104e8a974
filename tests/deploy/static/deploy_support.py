"""Helpers of the static deployment checks (the chart, the compose file, the image).

Nothing here needs Docker, a cluster or the network: the chart renders through helm-python-sdk
(Helm's Go SDK in a wheel), objects are checked against kubernetes-validate's bundled
Kubernetes schemas, and the compose file against the compose-spec schema check-jsonschema ships.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
CHART_DIR = REPO / "helm" / "parity"
S3_EXAMPLE_VALUES = REPO / "helm" / "values-s3-example.yaml"
COMPOSE_FILE = REPO / "docker-compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
RELEASE = "parity"
NAMESPACE = "ml"

Render = Callable[..., list[dict[str, Any]]]


class HelmFailure(Exception):
    """Helm refused a chart or values; ``kind`` is helm-python-sdk's exception class name."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class Helm:
    """helm-python-sdk in a child process (helm_worker.py), so Helm's Go runtime stays out of pytest's."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("helm_worker.py"))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def _call(self, **request: Any) -> Any:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"helm worker exited with {self._process.wait()}")
        answer = json.loads(line)
        if "error" in answer:
            raise HelmFailure(answer["error"], answer["message"])
        return answer["result"]

    def render(self, chart: Path, values: Mapping[str, Any], *, name: str = RELEASE,
               namespace: str = NAMESPACE) -> dict[str, str]:
        """``{template path: manifest}`` of ``helm template`` with ``values`` over the chart's defaults."""
        result: dict[str, str] = self._call(op="render", chart=str(chart), values=dict(values), name=name,
                                            namespace=namespace)
        return result

    def lint(self, chart: Path, values: Mapping[str, Any], *, kube_version: str,
             namespace: str = NAMESPACE) -> dict[str, Any]:
        """``helm lint``'s report: ``{"messages": [{"severity", "path", "error"}], "errors": [...]}``."""
        result: dict[str, Any] = self._call(op="lint", chart=str(chart), values=dict(values), namespace=namespace,
                                            kube_version=kube_version)
        return result

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def kubernetes_versions() -> list[str]:
    """The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schema bundled."""
    from kubernetes_validate.utils import all_versions

    versions = sorted(all_versions(), key=lambda v: tuple(int(p) for p in v.split(".")))
    return ["1.30.0", versions[-1]]


def validate_kubernetes_object(obj: Mapping[str, Any], version: str) -> None:
    """Validate one object against the strict schema (unknown fields are errors)."""
    import kubernetes_validate

    kubernetes_validate.validate(dict(obj), version, strict=True)


def documents(manifests: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every non-empty YAML document of a render, in template order."""
    objects: list[dict[str, Any]] = []
    for name in sorted(manifests):
        for doc in yaml.safe_load_all(manifests[name]):
            if doc:
                objects.append(doc)
    return objects


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def step_pod(objects: list[dict[str, Any]], prefix: str = "parity") -> dict[str, Any]:
    """The step pod template shipped in the pod-template ConfigMap, parsed."""
    template = find(objects, "ConfigMap", f"{prefix}-pod-template")
    pod: dict[str, Any] = yaml.safe_load(template["data"]["step.yaml"])
    return pod


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Values merged the way Helm coalesces -f files: maps merge, everything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- docker compose -------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


def _without_comments(text: str) -> str:
    """The YAML without its whole-line comments (compose interpolates values, not comments)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def compose_variables(text: str) -> list[tuple[str, str | None, str]]:
    """Every ``${NAME...}`` compose interpolates in ``text``: (name, operator or None, argument).

    ``$$`` is compose's escape for a literal ``$`` (passed to the container's shell) and is skipped.
    """
    found: list[tuple[str, str | None, str]] = []
    for match in _VARIABLE.finditer(_without_comments(text).replace("$$", "")):
        if match.group("plain"):
            found.append((match.group("plain"), None, ""))
            continue
        parsed = _BRACED.match(match.group("braced"))
        assert parsed, f"cannot parse ${{{match.group('braced')}}}"
        found.append((parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""))
    return found


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable interpolation (the subset this project uses), strict on ``:?``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("plain"):
            return env.get(match.group("plain"), "")
        parsed = _BRACED.match(match.group("braced"))
        assert parsed
        name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
        value = env.get(name)
        if op in (":?", "?") and (value is None or (op == ":?" and value == "")):
            raise ValueError(f"required variable {name} is missing a value: {arg}")
        if op == ":-" and not value:
            return arg
        if op == "-" and value is None:
            return arg
        return value or ""

    return re.sub(r"\$\$|" + _VARIABLE.pattern, replace, _without_comments(text))


def env_example() -> dict[str, str]:
    """The variables .env.example lists, with their (possibly empty) values."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values
