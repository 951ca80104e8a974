"""Import and export of the Open Data Contract Standard (ODCS) v3.

What ODCS expresses natively is written natively (properties, logical types, required,
unique, primary key, ranges and patterns as ``logicalTypeOptions``, allowed values and
completeness as quality rules, freshness as an SLA property); what it has no field for
(roles, environments, drift policy, tolerances, schema policy, label quality, SLOs) travels in a ``parity``
custom property, so ``from_odcs(to_odcs(c))`` gives back the same contract (same
fingerprint). Contracts written by other tools import from the native fields alone.
"""

from __future__ import annotations

from typing import Any

import yaml

from airflow_provider_parity.contracts.loader import contract_from_text
from airflow_provider_parity.contracts.model import Contract, parse_duration

# v3.1: library quality rules name a ``metric`` (v3.0.2's JSON schema wants ``rule``, so
# datacontract-cli's ``lint`` refuses the metric form under v3.0.2).
API_VERSION = "v3.1.0"
_TO_ODCS = {"string": "string", "integer": "integer", "float": "number", "boolean": "boolean",
            "date": "date", "timestamp": "timestamp"}
_FROM_ODCS = {**{v: k for k, v in _TO_ODCS.items()}, "time": "string", "object": "string", "array": "string"}
# Contract keys with no ODCS field: carried in the "parity" custom property.
_PARITY_ONLY = ("schema_policy", "environments", "drift", "tolerances", "skew", "labels", "slos")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def _property(contract: Contract, index: int) -> dict[str, Any]:
    col = contract.columns[index]
    cons = col.constraints
    prop: dict[str, Any] = {"name": col.name, "logicalType": _TO_ODCS[col.type], "required": not col.nullable}
    if col.description:
        prop["description"] = col.description
    if cons.unique:
        prop["unique"] = True
    if col.name in contract.primary_key:
        prop["primaryKey"], prop["primaryKeyPosition"] = True, contract.primary_key.index(col.name) + 1
    options: dict[str, Any] = {}
    for ours, theirs in (("min", "minimum"), ("max", "maximum")):
        value = getattr(cons, ours)
        if value is not None:
            options[theirs] = value if isinstance(value, (int, float)) else str(value)
    if cons.regex is not None:
        options["pattern"] = cons.regex
    if options:
        prop["logicalTypeOptions"] = options
    quality = []
    if cons.allowed_values is not None:
        quality.append({"type": "library", "metric": "invalidValues", "arguments": {"validValues": cons.allowed_values},
                        "mustBe": 0})
    if col.name in contract.completeness:
        quality.append({"type": "library", "metric": "nullValues", "unit": "percent",
                        "mustBeLessOrEqualTo": round((1 - contract.completeness[col.name]) * 100, 6)})
    if quality:
        prop["quality"] = quality
    extra = {k: v for k, v in (("role", col.role),
                               ("tolerances", col.tolerances.model_dump() if col.tolerances else None),
                               ("skew_tolerance", col.skew_tolerance.model_dump(exclude_none=True)
                                if col.skew_tolerance else None),
                               # ODCS v3.0 has no property-level foreign key: it travels with parity's extras.
                               ("references", cons.references)) if v is not None}
    prop["customProperties"] = [{"property": "parity", "value": extra}]
    return prop


def _server(data: str) -> dict[str, Any]:
    """A ``local`` server entry for a parquet file or folder, or a Delta table root (datacontract-cli's form)."""
    import os

    from airflow_provider_parity.sources import source_kind

    if source_kind(data) == "delta":
        return {"server": "local", "type": "local", "path": data, "format": "delta"}
    path = os.path.join(data, "**", "*.parquet") if os.path.isdir(data) else data
    return {"server": "local", "type": "local", "path": path, "format": "parquet"}


def to_odcs(contract: Contract, *, data: str | None = None) -> dict[str, Any]:
    """The contract as an ODCS v3 document (a dict, validated by the ``open-data-contract-standard`` model).

    The schema object's ``name`` and ``physicalName`` are the dataset's name: tools that test the
    data (datacontract-cli) query a table or view of that name.

    Args:
        contract: the contract.
        data: where the data lies (a parquet file or folder, a Delta table root): written as a
            ``local`` server entry, so ``datacontract test`` runs on it unchanged.

    Raises:
        ImportError: the ``odcs`` extra is not installed.
    """
    from open_data_contract_standard.model import OpenDataContractStandard

    ds = contract.dataset
    schema: dict[str, Any] = {"name": ds.name, "physicalName": ds.name, "logicalType": "object",
                              "properties": [_property(contract, i) for i in range(len(contract.columns))]}
    if contract.row_count:
        bounds = [contract.row_count.min or 0, contract.row_count.max] if contract.row_count.max is not None else None
        rule: dict[str, Any] = {"type": "library", "metric": "rowCount"}
        if bounds:
            rule["mustBeBetween"] = bounds
        else:
            rule["mustBeGreaterOrEqualTo"] = contract.row_count.min or 0
        schema["quality"] = [rule]
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION, "kind": "DataContract", "id": ds.name, "name": ds.name, "version": ds.version,
        "status": "active", "team": [{"username": ds.owner, "role": "owner"}], "schema": [schema],
        "customProperties": [{"property": "parity", "value": {k: v for k, v in contract.canonical_dict().items()
                                                             if k in _PARITY_ONLY}}],
    }
    if data is not None:
        doc["servers"] = [_server(data)]
    if ds.description:
        doc["description"] = {"purpose": ds.description}
    if contract.freshness:
        seconds = int(contract.freshness.max_age_delta.total_seconds())
        unit = next(u for u in ("w", "d", "h", "m", "s") if seconds % _UNIT_SECONDS[u] == 0)
        sla: dict[str, Any] = {"property": "freshness", "value": seconds // _UNIT_SECONDS[unit], "unit": unit}
        if contract.freshness.column:
            sla["element"] = f"{ds.name}.{contract.freshness.column}"
        doc["slaProperties"] = [sla]
    return OpenDataContractStandard.model_validate(doc).model_dump(by_alias=True, exclude_none=True)


def _parity(custom: list[dict[str, Any]] | None) -> dict[str, Any]:
    for prop in custom or []:
        if prop.get("property") == "parity" and isinstance(prop.get("value"), dict):
            return dict(prop["value"])
    return {}


def _column(prop: dict[str, Any], completeness: dict[str, float]) -> dict[str, Any]:
    extra = _parity(prop.get("customProperties"))
    references = extra.pop("references", None)
    options = prop.get("logicalTypeOptions") or {}
    constraints: dict[str, Any] = {"min": options.get("minimum"), "max": options.get("maximum"),
                                   "regex": options.get("pattern"), "unique": bool(prop.get("unique")),
                                   "references": references}
    for rule in prop.get("quality") or []:
        if rule.get("metric") == "invalidValues" and "validValues" in (rule.get("arguments") or {}):
            constraints["allowed_values"] = rule["arguments"]["validValues"]
        if rule.get("metric") == "nullValues" and rule.get("unit") == "percent":
            completeness[prop["name"]] = round(1 - float(rule["mustBeLessOrEqualTo"]) / 100, 9)
    col: dict[str, Any] = {"name": prop["name"], "type": _FROM_ODCS.get(str(prop.get("logicalType")), "string"),
                           "nullable": not prop.get("required", False),
                           "constraints": {k: v for k, v in constraints.items() if v is not None and v is not False}}
    if prop.get("description"):
        col["description"] = prop["description"]
    col.update(extra)
    return col


def from_odcs(document: dict[str, Any]) -> Contract:
    """A contract from an ODCS v3 document with exactly one schema object.

    Raises:
        ContractError: the document is not valid ODCS, or it cannot become a contract.
    """
    from open_data_contract_standard.model import OpenDataContractStandard
    from pydantic import ValidationError

    from airflow_provider_parity.exceptions import ContractError

    try:
        odcs = OpenDataContractStandard.model_validate(document).model_dump(by_alias=True, exclude_none=True)
    except ValidationError as exc:
        raise ContractError(f"not a valid ODCS document: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}") from None
    schemas = odcs.get("schema") or []
    if len(schemas) != 1:
        raise ContractError(f"one schema object per contract, the document has {len(schemas)}")
    schema = schemas[0]
    completeness: dict[str, float] = {}
    columns = [_column(p, completeness) for p in schema.get("properties") or []]
    team = odcs.get("team")
    owner = next((m.get("username") for m in team if m.get("role") == "owner"), None) if isinstance(team, list) else None
    data: dict[str, Any] = {
        "dataset": {"name": schema.get("name") or odcs.get("name"), "owner": owner or odcs.get("domain") or "unknown",
                    "version": odcs.get("version") or "0.0.0"},
        "columns": columns,
        "primary_key": [p["name"] for p in sorted((p for p in schema.get("properties") or [] if p.get("primaryKey")),
                                                  key=lambda p: p.get("primaryKeyPosition") or 0)],
        "completeness": completeness,
        **_parity(odcs.get("customProperties")),
    }
    if (odcs.get("description") or {}).get("purpose"):
        data["dataset"]["description"] = odcs["description"]["purpose"]
    for rule in schema.get("quality") or []:
        if rule.get("metric") == "rowCount":
            low, high = rule.get("mustBeBetween") or [rule.get("mustBeGreaterOrEqualTo"), None]
            data["row_count"] = {k: int(v) for k, v in (("min", low), ("max", high)) if v is not None}
    for sla in odcs.get("slaProperties") or []:
        if sla.get("property") == "freshness":
            column = str(sla.get("element", "")).rpartition(".")[2] or None
            data["freshness"] = {"max_age": f"{sla['value']}{sla.get('unit', 'h')}", "column": column}
            parse_duration(data["freshness"]["max_age"])
    # Through the loader, so an imported contract gets the same checks as a written one.
    return contract_from_text(yaml.safe_dump(data, sort_keys=False), "<odcs>")
