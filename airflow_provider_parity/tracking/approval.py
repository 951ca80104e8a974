"""Promotion with a person in the loop: the evidence they read, and their decision recorded.

When a promotion policy says ``approval: required``, the promotion gate decides and records but
leaves the alias (``promote(..., hold=True)``); a person then approves or rejects with the
evidence in front of them (each gate's outcome, champion versus challenger per slice, the
``explain`` summary), and only an approval moves ``champion``. The decision, who made it and why
are model-version tags; a rejection (or a timeout under ``on_timeout: block``) leaves the
champion as it was. No Airflow here: the operator (``operators/approval.py``) asks the question
through Airflow's human-in-the-loop API and hands the answer to :func:`decide`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.exceptions import ConfigurationError, PromotionBlocked
from airflow_provider_parity.tracking import keys

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from airflow_provider_parity.tracking.promotion import PromotionDecision, PromotionPolicy, PromotionResult

Verdict = Literal["approved", "rejected"]
_EXPLAIN_LINES = 40
"""The evidence shows at most this many explain lines (a body is read, not scrolled)."""


@dataclass(frozen=True)
class Approval:
    """A person's (or the timeout's) answer to a promotion request."""

    verdict: Verdict
    by: str
    """Who answered: the Airflow user's name, or ``timeout`` when nobody did."""
    reason: str
    at: str
    """When (ISO 8601, UTC)."""

    @property
    def note(self) -> str:
        """One line for the champion history: ``approved by alice: looks good``."""
        return f"{self.verdict} by {self.by}" + (f": {self.reason}" if self.reason else "")


def from_answer(chosen: str, *, user: Mapping[str, Any] | None, reason: str, at: datetime | None,
                timed_out: bool) -> Approval:
    """The approval of a human-in-the-loop answer (``Approve``/``Reject``; no user after a timeout)."""
    if chosen not in ("Approve", "Reject"):
        raise ConfigurationError(f"an approval answer is 'Approve' or 'Reject', got {chosen!r}")
    who = "timeout" if timed_out or not user else str(user.get("name") or user.get("id") or "unknown")
    why = reason.strip() or ("no answer before the approval timeout" if timed_out else "")
    return Approval("approved" if chosen == "Approve" else "rejected", who, why[:1000],
                    (at or datetime.now(UTC)).isoformat())


def record(client: MlflowClient, name: str, version: str, approval: Approval) -> None:
    """The decision as tags on the model version (before any alias move: the record comes first)."""
    for key, value in ((keys.APPROVAL_STATUS, approval.verdict), (keys.APPROVAL_BY, approval.by),
                       (keys.APPROVAL_REASON, approval.reason), (keys.APPROVAL_AT, approval.at)):
        client.set_model_version_tag(name, version, key, value)


def decide(client: MlflowClient, name: str, version: str, policy: PromotionPolicy | Mapping[str, Any],
           approval: Approval, *, request_id: str | None = None) -> PromotionResult:
    """Record ``approval``, then promote on an approval (the policy is evaluated again: the data or the
    champion may have changed while the request waited).

    Raises:
        PromotionBlocked: a rejection (the champion is unchanged), or the policy no longer passes.
    """
    from airflow_provider_parity.tracking.promotion import promote

    record(client, name, version, approval)
    if approval.verdict == "rejected":
        client.set_model_version_tag(name, version, keys.PROMOTION_STATUS, "rejected")
        raise PromotionBlocked(f"{name} v{version} not promoted: {approval.note}")
    return promote(client, name, policy, challenger_version=version, request_id=request_id, report=False,
                   note=approval.note)


def pending_decision(client: MlflowClient, name: str, version: str,
                     policy: PromotionPolicy | Mapping[str, Any]) -> PromotionDecision:
    """The policy's decision on ``version`` against the current champion, without writing anything."""
    from airflow_provider_parity.tracking.client import aliases_of, load_version
    from airflow_provider_parity.tracking.history import champion_since, read_history
    from airflow_provider_parity.tracking.promotion import PromotionPolicy, evaluate

    current = aliases_of(client, name).get(keys.CHAMPION)
    champion = load_version(client, name, current) if current else None
    return evaluate(PromotionPolicy.coerce(policy), load_version(client, name, version), champion,
                    champion_promoted_at=champion_since(read_history(client, name), current))


def evidence(client: MlflowClient, name: str, version: str, policy: PromotionPolicy,
             decision: PromotionDecision, *, storage_options: Mapping[str, str] | None = None) -> str:
    """The request's body (Markdown): every check of the gate, champion versus challenger per slice,
    and what changed since the champion (``explain``)."""
    from airflow_provider_parity.tracking.client import load_version
    from airflow_provider_parity.tracking.compare import build_comparison

    challenger = load_version(client, name, version)
    champion = load_version(client, name, decision.champion) if decision.champion else None
    comparison = build_comparison(challenger, champion, policy, decision)
    lines = [f"**{name} v{version}** passed the promotion gate over "
             f"{'v' + decision.champion if decision.champion else 'no champion'}: {decision.reason}.", "",
             "### Checks", "", "| Check | Result | Observed | Expected |", "|---|---|---|---|"]
    lines += [f"| {c.kind} {c.name}{'@' + c.slice if c.slice else ''} | {'passed' if c.passed else 'FAILED'} "
              f"| {_cell(c.observed)} | {_cell(c.expected)} |" for c in decision.checks]
    lines += ["", "### Champion vs challenger per slice", "",
              "| Slice | Metric | Challenger | Champion | Δ |", "|---|---|---|---|---|"]
    lines += [f"| {r.slice or '-'} | {r.metric} | {_num(r.challenger)} | {_num(r.champion)} "
              f"| {'-' if r.delta is None else f'{r.delta:+.4f}'} |" for r in comparison.rows]
    lines += ["", "### What changed since the champion", "", *_explained(client, name, decision.champion, version,
                                                                        storage_options)]
    return "\n".join(lines)


def _explained(client: MlflowClient, name: str, champion: str | None, version: str,
               storage_options: Mapping[str, str] | None) -> list[str]:
    from airflow_provider_parity.exceptions import ParityError
    from airflow_provider_parity.tracking.explain import explain

    if champion is None:
        return ["No champion yet: nothing to compare with."]
    try:
        # No drift here: it reads both training sets, and the request must not wait on it.
        summary = explain(client, name, champion, version, drift=False, storage_options=storage_options).summary()
    except ParityError as exc:  # the request still goes out; the person reads why explain is missing
        return [f"explain unavailable: {exc}"]
    shown = summary[:_EXPLAIN_LINES] + ([f"... {len(summary) - _EXPLAIN_LINES} more lines"]
                                        if len(summary) > _EXPLAIN_LINES else [])
    return ["```", *shown, "```"]


def approvals_of(versions: Any) -> list[list[str]]:
    """(version, verdict, by, reason, at) of each model version with a recorded approval answer."""
    rows = []
    for mv in versions:
        tags = dict(mv.tags or {})
        if keys.APPROVAL_STATUS in tags:
            rows.append([f"v{mv.version}", tags[keys.APPROVAL_STATUS], tags.get(keys.APPROVAL_BY, ""),
                         tags.get(keys.APPROVAL_REASON, ""), tags.get(keys.APPROVAL_AT, "")])
    return rows


def _cell(value: Any) -> str:
    return "-" if value in (None, "") else str(value).replace("|", "\\|")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"
