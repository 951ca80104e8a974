"""Start a contract from a model an existing dbt project already has.

The manifest (``dbt parse``/``build``) gives the model's columns, descriptions and data tests;
the catalog (``dbt docs generate``), when given, the warehouse's real column types. Tests
become rules: ``not_null`` -> ``nullable: false``, ``unique`` -> ``unique`` (and the primary
key when one unique, not-null column is the only one), ``accepted_values`` ->
``allowed_values``, ``relationships`` -> ``references``, the parity generic tests -> their
own constraints. The result is a starting point to review, not the last word: ranges, regexes
and tolerances the project never tested are for the owner to add.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from airflow_provider_parity.contracts.dbt_merge import logical_kind, read_catalog
from airflow_provider_parity.exceptions import ConfigurationError

_REF = re.compile(r"""^\s*ref\(\s*['"]([^'"]+)['"]\s*\)\s*$""")


def _read_manifest(path: str | Path) -> dict[str, Any]:
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read the dbt manifest: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not JSON: {exc}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("nodes"), dict):
        raise ConfigurationError(f"{path}: not a dbt manifest.json (no 'nodes')")
    return manifest


def _model_node(manifest: dict[str, Any], model: str, path: str | Path) -> dict[str, Any]:
    models = {n.get("name"): n for n in manifest["nodes"].values()
              if isinstance(n, dict) and n.get("resource_type") == "model"}
    if model not in models:
        known = ", ".join(sorted(str(m) for m in models)[:10])
        raise ConfigurationError(f"{path}: no model {model!r} in the manifest (models: {known or 'none'})")
    return models[model]


def _column_types(node: dict[str, Any], catalog: str | Path | None) -> dict[str, str]:
    """Column -> physical type: the catalog's when given, else the properties' ``data_type``."""
    if catalog is not None:
        table = read_catalog(catalog).get(str(node["name"]))
        if table is None:
            raise ConfigurationError(f"{catalog}: no model {node['name']!r} in the catalog (dbt docs generate)")
        return table
    columns = node.get("columns") or {}
    untyped = [name for name, c in columns.items() if not c.get("data_type")]
    if untyped or not columns:
        raise ConfigurationError(f"model {node['name']!r}: no type for columns {untyped or 'at all'}: "
                                 "pass --catalog target/catalog.json (from dbt docs generate)")
    return {name: str(c["data_type"]).lower() for name, c in columns.items()}


def _tests(manifest: dict[str, Any], unique_id: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(test name, column, arguments) of every generic test attached to the model."""
    found = []
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") if isinstance(node, dict) else None
        if node.get("resource_type") != "test" or not meta or node.get("attached_node") != unique_id:
            continue
        kwargs = {k: v for k, v in (meta.get("kwargs") or {}).items() if k not in ("model", "column_name")}
        found.append((str(meta.get("name")), node.get("column_name"), kwargs))
    return sorted(found, key=lambda t: (str(t[1]), t[0]))


def _apply(column: dict[str, Any], test: str, args: dict[str, Any]) -> None:
    constraints = column.setdefault("constraints", {})
    if test == "not_null":
        column["nullable"] = False
    elif test in ("unique", "parity_unique"):
        constraints["unique"] = True
    elif test == "accepted_values" and isinstance(args.get("values"), list):
        constraints["allowed_values"] = list(args["values"])
    elif test == "relationships":
        parent = _REF.match(str(args.get("to", "")))
        if parent and args.get("field"):
            constraints["references"] = f"{parent.group(1)}.{args['field']}"
    elif test == "parity_between":
        constraints.update({k: args[k] for k in ("min", "max") if k in args})
    elif test == "parity_regex" and "regex" in args:
        constraints["regex"] = args["regex"]


def contract_from_dbt(manifest_path: str | Path, model: str, *, catalog: str | Path | None = None,
                      owner: str = "unknown", version: str = "1.0.0") -> dict[str, Any]:
    """A contract document (YAML-ready) for ``model`` of a dbt project.

    Args:
        manifest_path: the project's ``target/manifest.json``.
        model: the model's name.
        catalog: the target's ``catalog.json`` for the warehouse's column types.
        owner: the dataset's owner.
        version: the contract's first version.

    Returns:
        The contract as a plain dict; it loads with ``load_contract`` unchanged.

    Raises:
        ConfigurationError: a file missing or not dbt's, no such model, a column type parity has no
            contract type for.
    """
    from airflow_provider_parity.contracts.model import Contract

    manifest = _read_manifest(manifest_path)
    node = _model_node(manifest, model, manifest_path)
    documented = node.get("columns") or {}
    columns: dict[str, dict[str, Any]] = {}
    for name, physical in _column_types(node, catalog).items():
        kind = logical_kind(physical)
        if kind is None:
            raise ConfigurationError(f"model {model!r}: column {name!r} has type {physical!r}, "
                                     "which no contract type (string, integer, float, boolean, date, timestamp) holds")
        columns[name] = {"name": name, "type": kind}
        description = (documented.get(name) or {}).get("description")
        if description and "{{" not in description:  # a doc() block is dbt's to render, not a contract's text
            columns[name]["description"] = description
    for test, column, args in _tests(manifest, str(node["unique_id"])):
        if column in columns:
            _apply(columns[column], test, args)
    for entry in columns.values():
        if not entry.get("constraints"):
            entry.pop("constraints", None)
    dataset: dict[str, Any] = {"name": model, "owner": owner, "version": version}
    if node.get("description"):
        dataset["description"] = node["description"]
    document: dict[str, Any] = {"dataset": dataset, "columns": list(columns.values())}
    keys = [c["name"] for c in columns.values()
            if c.get("nullable") is False and c.get("constraints", {}).get("unique")]
    if len(keys) == 1:
        document["primary_key"] = keys
        columns[keys[0]]["role"] = "key"
    Contract.model_validate(document)  # what is written must load
    return document
