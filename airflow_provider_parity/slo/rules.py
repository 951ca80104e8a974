"""Prometheus recording and alerting rules, generated from the contracts' SLOs.

Per contract with ``slos``:

* a multiwindow, multi-burn-rate alert per SLO and burn-rate pair (``ParitySloBurnRate``,
  labelled ``slo``, ``severity``, ``long_window``, ``short_window``): the error ratio is above
  ``factor x (1 - objective)`` over both windows;
* ``ParityGateBlocked``: a gate's latest outcome blocks;
* ``ParityFeatureTableStale``: the newest data is older than the contract's ``freshness.max_age``
  (only with a freshness section).

The recording rules (``parity:slo_error_ratio:rate<window>``, one per window any contract uses)
are shared by every contract, so two contracts never record the same series twice; each contract
group also records its objectives (``parity:slo_objective{dataset, slo, window}``) for dashboards.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_parity.contracts.model import BurnRateAlert, Contract, Objective, SloKind
from airflow_provider_parity.slo import names


def _windows(contracts: Sequence[Contract]) -> list[str]:
    from airflow_provider_parity.contracts.model import parse_duration

    found = {w for c in contracts if c.slos for a in c.slos.alerts() for w in (a.long, a.short)}
    return sorted(found, key=parse_duration)


def _recording(window: str) -> dict[str, Any]:
    ratio = (f"sum by (dataset, slo) (rate({names.SLO_BAD_EVENTS}[{window}]))\n/\n"
             f"sum by (dataset, slo) (rate({names.SLO_EVENTS}[{window}]))")
    return {"record": names.error_ratio(window), "expr": ratio}


def _objective(contract: Contract, kind: SloKind, objective: Objective) -> dict[str, Any]:
    """The objective as a series, so a dashboard can show the budget left without knowing the contracts."""
    return {"record": names.SLO_OBJECTIVE, "expr": f"vector({objective.objective:g})",
            "labels": {"dataset": contract.name, "slo": kind, "window": objective.window}}


def _burn_alert(contract: Contract, kind: SloKind, objective: Objective, alert: BurnRateAlert) -> dict[str, Any]:
    threshold = round(alert.factor * objective.budget, 10)
    match = f'{{dataset="{contract.name}",slo="{kind}"}}'
    expr = (f"{names.error_ratio(alert.long)}{match} > {threshold:g}\nand\n"
            f"{names.error_ratio(alert.short)}{match} > {threshold:g}")
    return {
        "alert": "ParitySloBurnRate",
        "expr": expr,
        "labels": {"severity": alert.severity, "slo": kind, "long_window": alert.long, "short_window": alert.short,
                   "burn_rate": f"{alert.factor:g}x"},
        "annotations": {
            "summary": f"{contract.name}: {kind} SLO error budget burning at {alert.factor:g}x or faster",
            "description": (f"The {kind} SLO of {contract.ref} ({objective.objective:.2%} over {objective.window}) has "
                            f"an error ratio above {threshold:g} over {alert.long} and {alert.short}; "
                            "see 'parity slo report'."),
        },
    }


def _gate_alerts(contract: Contract) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [{
        "alert": "ParityGateBlocked",
        "expr": f'{names.GATE_BLOCKING}{{dataset="{contract.name}"}} == 1',
        "labels": {"severity": "page"},
        "annotations": {"summary": f"{contract.name}: gate {{{{ $labels.gate }}}} blocked the pipeline",
                        "description": "The latest outcome of {{ $labels.gate }} ({{ $labels.kind }}) blocks; "
                                       "'parity outcomes --gate {{ $labels.gate }}' shows the reason."},
    }]
    if contract.freshness is not None:
        limit = int(contract.freshness.max_age_delta.total_seconds())
        rules.append({
            "alert": "ParityFeatureTableStale",
            "expr": f'time() - {names.FRESHNESS_NEWEST}{{dataset="{contract.name}"}} > {limit}',
            "labels": {"severity": "page"},
            "annotations": {"summary": f"{contract.name}: newest data older than {contract.freshness.max_age}",
                            "description": "The newest data is {{ $value | humanizeDuration }} old; the contract "
                                           f"allows {contract.freshness.max_age}."},
        })
    return rules


def rule_groups(contracts: Sequence[Contract]) -> dict[str, Any]:
    """The rule file's content: one shared recording group, then one alerting group per contract."""
    groups: list[dict[str, Any]] = []
    windows = _windows(contracts)
    if windows:
        groups.append({"name": "parity-slo-recording", "rules": [_recording(w) for w in windows]})
    for contract in contracts:
        slos = contract.slos
        objectives = list(slos.objectives().items()) if slos else []
        recorded = [_objective(contract, kind, objective) for kind, objective in objectives]
        alerts = [_burn_alert(contract, kind, objective, alert)
                  for kind, objective in objectives for alert in (slos.alerts() if slos else ())]
        groups.append({"name": f"parity-{contract.name}", "rules": recorded + alerts + _gate_alerts(contract)})
    return {"groups": groups}


def render_rules(contracts: Sequence[Contract]) -> str:
    """The rules as Prometheus rule-file YAML (``promtool check rules`` accepts it)."""
    import yaml

    class _Literal(str):
        """A PromQL expression, written as a YAML block when it spans lines."""

    class _Dumper(yaml.SafeDumper):
        pass

    def literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    _Dumper.add_representer(_Literal, literal)
    data = rule_groups(contracts)
    for group in data["groups"]:
        for rule in group["rules"]:
            rule["expr"] = _Literal(rule["expr"])
    refs = ", ".join(c.ref for c in contracts)
    head = f"# Generated by 'parity slo rules' from {refs}; do not edit, regenerate.\n"
    return head + yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=120)
