"""The provider as Airflow sees it: discovered without warnings, cheap to import."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import airflow_provider_parity
from airflow_provider_parity.get_provider_info import get_provider_info

HEAVY = ("great_expectations", "pyspark", "mlflow", "deltalake", "dbt", "sklearn", "pandas", "pyarrow", "scipy",
         "openlineage", "duckdb", "feast")
FACES = ("hooks", "operators", "sensors", "triggers")


def _face_modules() -> list[str]:
    modules = ["airflow_provider_parity", "airflow_provider_parity.get_provider_info"]
    for face in FACES:
        package = __import__(f"airflow_provider_parity.{face}", fromlist=["_"])
        modules += [f"airflow_provider_parity.{face}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return modules


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_importing_the_airflow_face_pulls_in_no_heavy_library():
    modules = _face_modules()
    assert "airflow_provider_parity.operators.contract_gate" in modules
    code = (f"import importlib, sys, json\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(json.dumps([h for h in {HEAVY!r} if h in sys.modules]))")
    assert json.loads(_python(code)) == []


def test_provider_info_names_only_importable_classes():
    info = get_provider_info()
    for group in ("operators", "sensors", "hooks", "triggers"):
        for entry in info[group]:
            for module in entry["python-modules"]:
                __import__(module)
    for conn in info["connection-types"]:
        module, _, cls = conn["hook-class-name"].rpartition(".")
        assert hasattr(__import__(module, fromlist=[cls]), cls)
    for link in info["extra-links"]:
        module, _, cls = link.rpartition(".")
        assert hasattr(__import__(module, fromlist=[cls]), cls)


def test_providers_manager_loads_the_provider_without_warnings():
    code = """
import json, logging, warnings
records = []
class Keep(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.WARNING:
            records.append(record.getMessage())
logging.getLogger().addHandler(Keep())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    from airflow.providers_manager import ProvidersManager
    pm = ProvidersManager()
    providers = pm.providers
    pm.initialize_providers_configuration()
    ui = pm.field_behaviours
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime
    hooks = dict(ProvidersManagerTaskRuntime().hooks)
ours = [str(w.message) for w in caught if "parity" in str(w.message).lower()]
print(json.dumps({"found": "airflow-provider-parity" in providers,
                  "version": providers["airflow-provider-parity"].version if "airflow-provider-parity" in providers else None,
                  "warnings": ours + [r for r in records if "parity" in r.lower()],
                  "conn_types": sorted(k for k, v in hooks.items()
                                       if v and "airflow_provider_parity" in (v.hook_class_name or "")),
                  "ui": sorted(k for k in ui)}))
"""
    outcome = json.loads(_python(code))
    assert outcome["found"], outcome
    assert outcome["version"] == airflow_provider_parity.__version__
    assert outcome["warnings"] == []
    expected = sorted(c["connection-type"] for c in get_provider_info()["connection-types"])
    assert outcome["conn_types"] == expected
    with_ui = [c["connection-type"] for c in get_provider_info()["connection-types"] if c.get("ui-field-behaviour")]
    assert set(with_ui) <= set(outcome["ui"])
