"""Self-contained HTML reports: one file, no scripts, no external assets.

Reports are opened from MLflow artifacts, Airflow extra links and CI artefacts,
often offline, so everything (style, plots) is inline.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:72rem;color:#1f2933;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d9e2ec}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{padding:.35rem .6rem;border-bottom:1px solid #e4e7eb;
text-align:left;vertical-align:top}th{background:#f5f7fa}dl.summary{display:grid;grid-template-columns:max-content 1fr;
gap:.25rem 1rem}dl.summary dt{font-weight:600}.pass{color:#146c2e;font-weight:600}.fail{color:#b42318;font-weight:600}
.warn{color:#9a6700;font-weight:600}code{background:#f5f7fa;padding:0 .2rem}
"""

STATUS_CLASS = {"passed": "pass", "failed": "fail", "warned": "warn", "error": "fail"}


class Trusted(str):
    """HTML built by these helpers: inserted as it is, never escaped again."""


def escape(text: Any) -> str:
    if isinstance(text, Trusted):
        return text
    return html.escape("" if text is None else str(text), quote=True)


def status_badge(status: str) -> Trusted:
    """A coloured status word: passed, failed, warned, ..."""
    return Trusted(f'<span class="{STATUS_CLASS.get(status, "")}">{escape(status)}</span>')


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Trusted:
    """An HTML table; every cell is escaped unless it is ``Trusted``."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return Trusted(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def render_page(title: str, summary: Sequence[tuple[str, Any]], sections: Sequence[tuple[str, str]]) -> str:
    """A complete HTML page.

    Args:
        title: page title and heading.
        summary: (label, value) pairs shown as a definition list; values are escaped unless ``Trusted``.
        sections: (heading, body) pairs; the body is trusted HTML built with these helpers.
    """
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in summary)
    parts = "".join(f"<section><h2>{escape(h)}</h2>{body}</section>" for h, body in sections)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1><dl class=\"summary\">{items}</dl>{parts}</body></html>\n"
    )
