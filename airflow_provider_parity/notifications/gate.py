"""GateNotifier: page on a blocked gate through the official Slack and PagerDuty providers' notifiers.

Attach it to a gate task's ``on_failure_callback`` (beside :class:`GateAlertNotifier`), and to its
``on_success_callback`` to resolve the alert when the gate passes again. It reads the gate's
:class:`~airflow_provider_parity.outcomes.model.GateOutcome` from the task's ``parity_outcome``
XCom (a task that failed before deciding alerts with its exception), and sends:

* Slack, through ``SlackWebhookNotifier`` (an Incoming Webhook connection) and/or ``SlackNotifier``
  (a Slack API connection and a channel);
* PagerDuty Events API v2, through ``PagerdutyNotifier``, with a ``dedup_key`` per (gate, dataset)
  so PagerDuty groups repeats into one incident, and a ``resolve`` event when the gate passes.

Connections are named by id: no URL, token or routing key is a parameter. At most one alert per
(gate, dataset) per ``cooldown`` while it stays open (:mod:`.cooldown`, state in an Airflow Variable).

PagerDuty's base URL: the provider's synchronous hook builds ``pagerduty.EventsApiV2Client`` with
no ``base_url`` (always ``https://events.pagerduty.com``; the client refuses a non-https URL),
while its asynchronous hook posts through Airflow's HTTP hook to ``hook_async.base_url``. The
notifier sends through that HTTP path, with the base URL taken from the connection's host when it
has one (PagerDuty's EU region ``https://events.eu.pagerduty.com``, a proxy, or a test server).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from airflow_provider_parity.notifications.cooldown import Action, Persistence, decide, dedup_key, state_key
from airflow_provider_parity.notifications.gate_alert import data_window, failure_reason
from airflow_provider_parity.outcomes.model import GateOutcome, clip

if TYPE_CHECKING:
    from airflow.sdk import Context

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com"
_SEVERITIES = ("critical", "error", "warning", "info")


def gate_outcome(context: Any) -> GateOutcome | None:
    """The outcome the task's gate published (``parity_outcome`` XCom), or None when it decided nothing."""
    from airflow_provider_parity.operators.base import XCOM_OUTCOME

    ti = context.get("ti")
    if ti is None:
        return None
    value = ti.xcom_pull(task_ids=ti.task_id, key=XCOM_OUTCOME)
    if isinstance(value, list):  # a mapped pull gives a list
        value = next((v for v in value if v), None)
    return GateOutcome.from_dict(value) if value else None


def alert_message(outcome: GateOutcome, *, run: str, report: str | None, resolved: bool = False) -> str:
    """The alert's text: the one-line reason, then gate, dataset, contract, the check that fired, run, report."""
    from airflow_provider_parity.slo.events import dataset_key

    dataset = dataset_key(outcome)
    head = (f"RESOLVED: gate {outcome.label} on {dataset} passes again" if resolved
            else f"BLOCKED: gate {outcome.label} on {dataset}: {clip(outcome.reason, 600)}")
    lines = [head, f"gate: {outcome.label} ({outcome.gate}), status {outcome.status}", f"dataset: {dataset}"]
    if outcome.contract:
        lines.append(f"contract: {outcome.contract}")
    fired = outcome.failed_checks[:3]
    lines += [f"check: {c.message()}" for c in fired]
    lines.append(f"run: {run}")
    if report:
        lines.append(f"report: {report}")
    return "\n".join(lines)


class GateNotifier(BaseNotifier):
    """Send a blocked gate's alert (and its resolve) through the Slack and/or PagerDuty providers.

    Args:
        slack_webhook_conn_id: a Slack Incoming Webhook connection (``slackwebhook``).
        slack_conn_id: a Slack API connection (``slack``); needs ``slack_channel``.
        slack_channel: the channel for ``slack_conn_id``.
        pagerduty_events_conn_id: a PagerDuty Events connection (``pagerduty_events``): the integration
            (routing) key in its password; its host, when set, replaces ``https://events.pagerduty.com``.
        cooldown: quiet time after an alert for the same (gate, dataset) while it stays open (``"1h"``).
        severity: PagerDuty's severity: ``critical``, ``error``, ``warning`` or ``info``.
        persistence: ``"N/M"``: page once N of the last M runs' windows blocked (``"1/1"``: at the first),
            the windows being the DAG's data intervals, counted on the wall clock as the cooldown is.

    Raises:
        ConfigurationError: no destination, a Slack API connection without a channel, a bad
            cooldown, severity or persistence.

    Example:
        >>> GateNotifier(slack_webhook_conn_id="slack_alerts", pagerduty_events_conn_id="pagerduty_data")
    """

    template_fields: Sequence[str] = ("slack_webhook_conn_id", "slack_conn_id", "slack_channel",
                                      "pagerduty_events_conn_id", "severity")

    def __init__(self, *, slack_webhook_conn_id: str | None = None, slack_conn_id: str | None = None,
                 slack_channel: str | None = None, pagerduty_events_conn_id: str | None = None,
                 cooldown: str = "1h", severity: str = "critical", persistence: str = "1/1") -> None:
        from airflow_provider_parity.contracts.model import parse_duration
        from airflow_provider_parity.exceptions import ConfigurationError

        super().__init__()
        if not (slack_webhook_conn_id or slack_conn_id or pagerduty_events_conn_id):
            raise ConfigurationError("GateNotifier needs a destination: slack_webhook_conn_id, slack_conn_id "
                                     "or pagerduty_events_conn_id")
        if slack_conn_id and not slack_channel:
            raise ConfigurationError(f"GateNotifier: slack_conn_id {slack_conn_id!r} needs slack_channel")
        if severity not in _SEVERITIES:
            raise ConfigurationError(f"GateNotifier: severity must be one of {', '.join(_SEVERITIES)}, got {severity!r}")
        try:
            self.cooldown = parse_duration(cooldown)
        except ValueError as exc:
            raise ConfigurationError(f"GateNotifier: cooldown: {exc}") from None
        try:
            self.persistence = Persistence.parse(persistence)
        except ValueError as exc:
            raise ConfigurationError(f"GateNotifier: {exc}") from None
        self.slack_webhook_conn_id = slack_webhook_conn_id
        self.slack_conn_id = slack_conn_id
        self.slack_channel = slack_channel
        self.pagerduty_events_conn_id = pagerduty_events_conn_id
        self.severity = severity

    def notify(self, context: Context) -> None:
        import json

        from airflow.sdk import Variable

        from airflow_provider_parity.slo.events import dataset_key

        outcome = self._outcome(context)
        if outcome is None:
            return  # a task that is not a gate succeeded: nothing to resolve
        key = state_key(outcome.label, dataset_key(outcome))
        stored = Variable.get(key, default=None)
        previous = json.loads(stored) if stored else None
        decision = decide(previous, blocked=outcome.blocking, now=datetime.now(UTC), cooldown=self.cooldown,
                          persistence=self.persistence, window=data_window(context)[1])
        if decision.action is None:
            if outcome.blocking:  # held back: the blocked window (persistence) and the count are kept
                Variable.set(key, json.dumps(decision.state))
                self.log.warning("gate %s blocked, no alert sent: %s", outcome.label, decision.why)
            return
        # Claim before sending, so a second worker reading now sees the alert as sent; put the
        # previous state back if nothing went out (the next failure must not be held back).
        Variable.set(key, json.dumps(decision.state))
        try:
            self._send(context, outcome, decision.action)
        except Exception:
            Variable.set(key, json.dumps(previous or {}))
            raise
        self.log.info("gate %s: %s sent (%s)", outcome.label, decision.action, decision.why)

    def _outcome(self, context: Any) -> GateOutcome | None:
        outcome = gate_outcome(context)
        if outcome is None and context.get("exception") is not None:
            # The gate failed before deciding (bad input, an unreachable store): that blocks too.
            ti = context.get("ti")
            label = getattr(ti, "task_id", None) or "gate"
            outcome = GateOutcome(gate=label, status="error", blocking=True, reason=failure_reason(context))
        return outcome

    def _send(self, context: Any, outcome: GateOutcome, action: Action) -> None:
        from airflow_provider_parity.operators.common import report_url

        ti = context.get("ti")
        run = f"{getattr(ti, 'dag_id', '?')}/{getattr(ti, 'run_id', '?')}/{getattr(ti, 'task_id', '?')}"
        uri = outcome.reports.get("html") or outcome.reports.get("json")
        report = report_url(uri) if uri else None
        text = alert_message(outcome, run=run, report=report, resolved=action == "resolve")
        if self.slack_webhook_conn_id:
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

            # The providers' notify() are unannotated.
            SlackWebhookNotifier(slack_webhook_conn_id=self.slack_webhook_conn_id,
                                 text=text).notify(context)  # type: ignore[no-untyped-call]
        if self.slack_conn_id:
            from airflow.providers.slack.notifications.slack import SlackNotifier

            SlackNotifier(slack_conn_id=self.slack_conn_id, channel=self.slack_channel or "",
                          text=text).notify(context)  # type: ignore[no-untyped-call]
        if self.pagerduty_events_conn_id:
            self._page(context, outcome, action, text, report, run)

    def _page(self, context: Any, outcome: GateOutcome, action: Action, text: str, report: str | None,
              run: str) -> None:
        import asyncio

        from airflow.providers.pagerduty.notifications.pagerduty import PagerdutyNotifier

        from airflow_provider_parity.compat import BaseHook
        from airflow_provider_parity.slo.events import dataset_key

        dataset = dataset_key(outcome)
        notifier = PagerdutyNotifier(
            summary=clip(text.splitlines()[0], 1000), severity=self.severity, source=dataset, action=action,
            dedup_key=dedup_key(outcome.label, dataset), component=dataset, group=run.split("/")[0],
            class_type=outcome.gate, pagerduty_events_conn_id=self.pagerduty_events_conn_id,
            custom_details={"gate": outcome.label, "kind": outcome.gate, "dataset": dataset,
                            "contract": outcome.contract, "run": run, "report": report,
                            "checks": [c.message() for c in outcome.failed_checks[:5]]},
            links=[{"href": report, "text": "Gate report"}] if report else None)
        conn = BaseHook.get_connection(self.pagerduty_events_conn_id or "")
        notifier.hook_async.base_url = _events_url(conn)
        asyncio.run(notifier.async_notify(context))


def _events_url(conn: Any) -> str:
    """The Events API base URL: the connection's host when set (with its schema and port), else PagerDuty's."""
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        return PAGERDUTY_EVENTS_URL
    url = host if "://" in host else f"{conn.schema or 'https'}://{host}"
    return f"{url}:{conn.port}" if conn.port else url
