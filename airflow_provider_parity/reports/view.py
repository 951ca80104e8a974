"""The Parity view's pages: plain server-rendered HTML built from the ledger and the MLflow registry.

No Airflow import here: the plugin (``plugins/parity.py``) reads the ledger and the registry and
hands the data to these functions, and the benchmark calls them in-process. Each page is one
self-contained document (inline style, no script, no external asset), like the gate reports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from airflow_provider_parity.reports.html import Trusted, escape, html_table, render_page, status_badge

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.reports.contract_history import ContractVersion
    from airflow_provider_parity.tracking.explain import ExplainReport
    from airflow_provider_parity.tracking.history import ChampionEntry

PAGE_COLUMNS = ("outcome_id", "day", "gate", "name", "status", "blocking", "reason", "dataset", "version",
                "as_of", "finished_at", "dag_id", "run_id", "checks", "reports", "contract")
"""The ledger columns the pages read (the whole-outcome JSON column, the largest, is never read)."""
INDEX_COLUMNS = ("outcome_id", "gate", "name", "status", "dataset", "finished_at")
DRIFT_GATES = ("drift", "skew")
SKEW_GATES = ("feature_skew",)


def short_name(dataset: str) -> str:
    """The last path segment of a dataset URI: ``s3://lake/features/`` -> ``features``."""
    return dataset.rstrip("/").rsplit("/", 1)[-1] or dataset


def dataset_href(base: str, dataset: str) -> str:
    return f"{base}/datasets/{quote(dataset, safe='')}"


def _link(href: str, text: Any) -> Trusted:
    return Trusted(f'<a href="{escape(href)}">{escape(text)}</a>')


def _gate_label(row: Mapping[str, Any]) -> str:
    return str(row["name"] or row["gate"])


def resolve_dataset(table: pa.Table, wanted: str) -> str | None:
    """The ledger's dataset URI for ``wanted``: the URI itself or its short name (None: unknown)."""
    import pyarrow.compute as pc

    names = [d for d in pc.unique(table["dataset"]).to_pylist() if d]
    if wanted in names:
        return str(wanted)
    matches = sorted(d for d in names if short_name(d) == wanted)
    return matches[-1] if matches else None


def render_index(table: pa.Table | None, *, base: str) -> str:
    """Every dataset in the ledger with its latest outcome per gate."""
    latest: dict[str, dict[str, dict[str, Any]]] = {}
    if table is not None:
        for row in table.select(list(INDEX_COLUMNS)).to_pylist():  # sorted oldest first: the last one wins
            if row["dataset"]:
                latest.setdefault(row["dataset"], {})[_gate_label(row)] = row
    rows = []
    for dataset in sorted(latest):
        gates = latest[dataset]
        cells = ", ".join(f"{escape(g)}: {status_badge(gates[g]['status'])}" for g in sorted(gates))
        last = max(r["finished_at"] for r in gates.values())
        rows.append([_link(dataset_href(base, dataset), short_name(dataset)), dataset, Trusted(cells), last])
    body = html_table(["Dataset", "URI", "Latest outcome per gate", "Last run"], rows) if rows else \
        Trusted("<p>No gate outcome in the ledger yet.</p>")
    return render_page("Parity", [("Datasets", len(rows))], [("Datasets", body)])


def dataset_contracts(table: pa.Table | None, dataset: str) -> list[ContractVersion]:
    """The contract versions the dataset's gates checked, oldest first (empty: unknown dataset)."""
    import pyarrow.compute as pc

    from airflow_provider_parity.reports.contract_history import contract_versions

    if table is None or (uri := resolve_dataset(table, dataset)) is None:
        return []
    return contract_versions(table.filter(pc.equal(table["dataset"], uri)).select(["contract", "finished_at"])
                             .to_pylist())


def render_dataset(table: pa.Table | None, dataset: str, *, base: str,
                   contract_diffs: Mapping[str, Sequence[str]] | None = None,
                   slo_lines: Sequence[str] = ()) -> str | None:
    """A dataset's gate timeline, contract versions (with ``contract_diffs``: ref -> change lines from the
    version before), drift per feature over time, per-entity skew, freshness, SLO attainment (``slo_lines``,
    ``slo.report``'s) and blocked days (None: unknown)."""
    import pyarrow.compute as pc

    from airflow_provider_parity.reports.contract_history import contract_versions

    if table is None or (uri := resolve_dataset(table, dataset)) is None:
        return None
    rows = table.filter(pc.equal(table["dataset"], uri)).select(list(PAGE_COLUMNS)).to_pylist()
    contracts = [[v.ref, v.first_seen, v.last_seen, v.outcomes,
                  Trusted("<br>".join(escape(line) for line in (contract_diffs or {}).get(v.ref, ())))]
                 for v in reversed(contract_versions(rows))]
    timeline, blocked, freshness = [], [], []
    for row in reversed(rows):  # newest first: the page answers "what happened lately"
        reports = json.loads(row["reports"] or "{}")
        links = Trusted(" ".join(_link(f"{base}/reports?uri={quote(u, safe='')}", kind)  # quote: 2x urlencode's speed
                                 for kind, u in sorted(reports.items())))
        run = f"{row['dag_id']} / {row['run_id']}" if row["dag_id"] else ""
        timeline.append([row["finished_at"], _gate_label(row), status_badge(row["status"]), row["reason"],
                         row["version"], run, links])
        if row["blocking"] and row["status"] in ("failed", "error"):
            blocked.append([row["day"], _gate_label(row), status_badge(row["status"]), row["reason"], run])
        if row["as_of"] is not None:
            freshness.append([row["finished_at"], _gate_label(row), row["as_of"], row["version"]])
    features, drift_rows = _per_feature(rows, DRIFT_GATES, base=base)
    skewed, skew_rows = _per_feature(rows, SKEW_GATES)
    sections = [
        ("Blocked days", html_table(["Day", "Gate", "Status", "Reason", "Run"], blocked) if blocked
         else Trusted("<p>No blocked day.</p>")),
        ("Contract versions", html_table(["Contract", "First checked", "Last checked", "Outcomes",
                                          "Changes from the version before"], contracts) if contracts
         else Trusted("<p>No outcome names its contract.</p>")),
        ("Gate outcomes", html_table(["Finished", "Gate", "Status", "Reason", "Version", "Run", "Reports"],
                                     timeline)),
        ("Drift per feature", html_table(["Day", *features, "Segments"], drift_rows) if drift_rows
         else Trusted("<p>No drift or skew outcome.</p>")),
        ("Per-entity skew rate", html_table(["Day", *skewed], skew_rows) if skew_rows
         else Trusted("<p>No per-entity skew outcome.</p>")),
        ("Freshness", html_table(["Finished", "Gate", "Data as of", "Version"], freshness[:50]) if freshness
         else Trusted("<p>No outcome recorded an as-of time.</p>")),
        ("SLO attainment", Trusted(f"<pre>{escape(chr(10).join(slo_lines))}</pre>") if slo_lines
         else Trusted("<p>No SLO: the dataset's contract declares none, or no training run recorded it.</p>")),
    ]
    summary = [("Dataset", uri), ("Outcomes", len(rows)), ("Blocked", len(blocked)),
               ("Latest data as of", freshness[0][2] if freshness else "unknown"), ("All datasets", _link(f"{base}/", "index"))]
    return render_page(f"Dataset {short_name(uri)}", summary, sections)


def _per_feature(rows: Sequence[Mapping[str, Any]], gates: Sequence[str], *,
                 base: str | None = None) -> tuple[list[str], list[list[Any]]]:
    """(features, one row per day newest first): each feature's observed value in the ``gates`` outcomes
    (the day's newest); with ``base``, a last cell links the day's drift report by segment."""
    by_day: dict[str, dict[str, tuple[str, bool]]] = {}
    reports: dict[str, str] = {}
    for row in reversed(rows):
        if row["gate"] not in gates:
            continue
        day = str(row["day"])
        for check in json.loads(row["checks"] or "[]"):
            if check.get("column"):
                # A skew check reads "1.29% of entities mismatched (9 of 697), ...": the rate is the cell.
                observed = str(check.get("observed") or "").split(" of entities", 1)[0]
                by_day.setdefault(day, {}).setdefault(check["column"], (observed, bool(check.get("success"))))
        report = json.loads(row["reports"] or "{}").get("json")
        if base is not None and report:
            reports.setdefault(day, report)
    features = sorted({f for per_day in by_day.values() for f in per_day})
    table = []
    for day in sorted(by_day, reverse=True):
        cells: list[Any] = [day, *(_drift_cell(by_day[day].get(f)) for f in features)]
        if base is not None:
            cells.append(_link(f"{base}/drift?uri={quote(reports[day], safe='')}", "by segment")
                         if day in reports else "")
        table.append(cells)
    return features, table


def render_segments(report: Mapping[str, Any], uri: str) -> str:
    """A drift report (``DriftResult.to_dict``) by segment: each segment's verdict and every feature's value."""
    segments = report.get("segments") or []
    features = sorted({f["name"] for seg in segments for f in seg.get("features", [])})
    rows = []
    for seg in segments:
        values = {f["name"]: f for f in seg.get("features", [])}
        rows.append([seg["segment"], status_badge(seg["verdict"]), f"{seg['rows_reference']} -> {seg['rows_current']}",
                     ", ".join(seg.get("drifted_features", [])) or "none",
                     *(_drift_cell(_feature_value(values.get(f))) for f in features)])
    body = html_table(["Segment", "Verdict", "Rows (reference -> current)", "Drifted", *features], rows) if rows \
        else Trusted("<p>This drift report has no segments (the contract's drift policy names none).</p>")
    return render_page("Drift by segment", [("Report", uri), ("Verdict", status_badge(str(report.get("verdict")))),
                                            ("Overall", report.get("message", ""))], [("Segments", body)])


def _feature_value(feature: Mapping[str, Any] | None) -> tuple[str, bool] | None:
    if feature is None:
        return None
    value = feature.get("value")
    return (f"{feature.get('metric', '')} {'n/a' if value is None else f'{value:.4g}'}", not feature.get("drifted"))


def _drift_cell(value: tuple[str, bool] | None) -> Any:
    if value is None:
        return ""
    observed, success = value
    return Trusted(f'<span class="{"pass" if success else "fail"}">{escape(observed or ("ok" if success else "drift"))}</span>')


def rollback_form(action: str, *, versions: Sequence[str], champion: str | None, token: str) -> Trusted:
    """The rollback form: a target version (default: the previous champion), a required reason, and the
    request token that makes a cross-site POST useless (``plugins/forms.py``)."""
    if champion is None:
        return Trusted("<p>No champion to roll back.</p>")
    options = '<option value="">the previous champion</option>' + "".join(
        f'<option value="{escape(v)}">v{escape(v)}</option>' for v in versions if v != champion)
    return Trusted(f'<form method="post" action="{escape(action)}" class="rollback">'
                   f'<input type="hidden" name="token" value="{escape(token)}">'
                   f'<label>Roll back v{escape(champion)} to <select name="to">{options}</select></label> '
                   '<label>because <input name="reason" required size="60" '
                   'placeholder="what the next person needs to know"></label> '
                   '<button type="submit">Roll back</button></form>')


def render_model(name: str, *, aliases: Mapping[str, str], versions: Sequence[str],
                 history: Sequence[ChampionEntry], base: str, token: str | None = None,
                 approvals: Sequence[Sequence[str]] = ()) -> str:
    """Champion and challenger, the alias history with its reasons, explain links between consecutive versions;
    with a ``token``, the rollback form; ``approvals``: (version, verdict, by, reason, at) of each answered
    approval request."""
    model = quote(name, safe="")
    explain = [[f"v{old} -> v{new}", _link(f"{base}/models/{model}/explain?{urlencode({'old': old, 'new': new})}",
                                           "explain")]
               for old, new in zip(versions, versions[1:], strict=False)]
    entries = [[e.at, e.action, f"v{e.version}", f"v{e.replaced}" if e.replaced else "", e.reason, e.request_id or ""]
               for e in reversed(history)]
    sections = [
        ("Alias history", html_table(["When", "Action", "Champion", "Replaced", "Reason", "Requested by"], entries)
         if entries else Trusted("<p>No promotion yet.</p>")),
        ("Aliases", html_table(["Alias", "Version"], sorted(aliases.items()))),
        ("Explain", html_table(["Versions", ""], explain) if explain else Trusted("<p>One version only.</p>")),
    ]
    if approvals:
        sections.insert(1, ("Approvals", html_table(["Version", "Decision", "By", "Why", "When"], approvals)))
    if token is not None:
        sections.insert(1, ("Roll back", rollback_form(f"{base}/models/{model}/rollback", versions=versions,
                                                      champion=aliases.get("champion"), token=token)))
    summary = [("Model", name), ("Champion", aliases.get("champion", "none")),
               ("Challenger", aliases.get("challenger", "none")), ("Versions", ", ".join(versions))]
    return render_page(f"Model {name}", summary, sections)


def render_explain(report: ExplainReport) -> str:
    """The explain report as a page: one row per line of its summary (the CLI's ``--html`` too)."""
    rows = [[line.split(" ", 1)[0], line.split(" ", 1)[1].strip() if " " in line else ""]
            for line in report.summary()[1:]]
    return render_page(f"What changed: {report.model} v{report.old} -> v{report.new}",
                       [("Model", report.model), ("Versions", f"v{report.old} -> v{report.new}"),
                        ("Took", f"{report.seconds:.2f} s")],
                       [("Changes", html_table(["What", "Change"], rows))])
