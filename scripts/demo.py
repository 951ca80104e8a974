"""The README's first command: the reference DAGs end to end, on one machine, no services.

Sets a local AIRFLOW_HOME (SQLite metadata, Delta tables under .parity/demo/lake, MLflow's
SQLite store, dbt on duckdb, OpenLineage events to a file), generates churn data, and runs
three days through feature_pipeline, daily_retraining and serving_skew_monitor with Airflow's
own ``dag.test()``:

  day 1  clean data                 -> the model trains and becomes champion
  day 2  drifted serving traffic    -> the skew gate blocks retraining; the monitor alerts
  day 3  a broken data contract     -> dbt's contract tests block the features; retraining
                                       is blocked because the features are now stale

Ends with a summary: which gates passed or blocked and why, the model and data versions,
each SLO's attainment and error budget over the simulated days, where the reports are and the
generated Prometheus rules. Exit 0 when every day ended as it should, 1 otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / ".parity" / "demo"
# (label, raw-data faults, what the online path does wrong: "drift" shifts the served distribution,
# "rounding" serves 2% of customers a rounded average ticket).
DAYS = [("clean day", (), ""), ("serving drift", (), "drift"), ("broken contract", ("null_spike",), ""),
        ("online rounding", (), "rounding")]


def configure(out: Path) -> None:
    """The embedded default, under ``out``: set before Airflow is imported (it reads config once)."""
    home = out / "airflow"
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__PARITY__LAKE_URI": str(out / "lake"),
        "AIRFLOW__PARITY__REPORT_DIR": str(out / "reports"),
        "AIRFLOW__PARITY__ALERT_FILE": str(out / "alerts.jsonl"),
        # A blocked freshness gate should say so in seconds here, not after the production 6 h.
        "AIRFLOW__PARITY__FRESHNESS_TIMEOUT": "4",
        "AIRFLOW__OPENLINEAGE__TRANSPORT": f'{{"type": "file", "log_file_path": "{out / "openlineage.jsonl"}", '
                                           '"append": true}',
        "MLFLOW_TRACKING_URI": f"sqlite:///{out / 'mlflow' / 'mlflow.db'}",
        "GX_ANALYTICS_ENABLED": "false",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DO_NOT_TRACK": "1",
    }
    os.environ.update(env)
    (out / "mlflow").mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO / "dags"))  # what Airflow does for a DAG bundle


@contextmanager
def quiet(log: Path) -> Iterator[None]:
    """Send Airflow's task logs (stdout and stderr, at the descriptor level) to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log, "ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def progress(log: Path) -> Callable[[str, Callable[[], Any]], Any]:
    def wrap(label: str, step: Callable[[], Any]) -> Any:
        print(f"    {label:<22}", end=" ", flush=True)
        started = time.perf_counter()
        with quiet(log):
            result = step()
        print(f"{_status(result):<60.60} {time.perf_counter() - started:5.1f} s", flush=True)
        return result

    return wrap


def _status(result: Any) -> str:
    if isinstance(result, dict):  # serving traffic
        return f"{result['rows']} requests logged (serving log v{result['version']})"
    if result.blocked_by:
        return f"BLOCKED at {result.blocked_by}"
    return "skipped (no champion yet)" if result.state == "success" and not any(
        result.ran(t) for t in ("serving_skew", "write_features", "promotion_gate")) else result.state


def summary(results: list[tuple[str, Any]], out: Path) -> bool:
    from churn.serving import champion_training_input
    from churn.settings import load_settings

    settings = load_settings()
    print("\nsummary")
    expected_ok = True
    for (label, _faults, _drift), (_, day) in zip(DAYS, results, strict=True):
        print(f"  {day.day}  {label}")
        for outcome in (day.features, day.retraining, day.monitor):
            verdict = f"BLOCKED at {outcome.blocked_by}: {outcome.reason}" if outcome.blocked_by else "passed"
            print(f"      {outcome.dag_id:<22} {verdict}")
        request = day.monitor.tasks.get("request_retraining")
        if day.monitor.blocked_by:
            print(f"      {'':<22} retraining request: {'sent (asset event)' if request == 'success' else request}"
                  f"{' (the newest model is younger than the minimum retraining interval)' if request == 'skipped' else ''}")
        for note in day.notes:
            print(f"      note: {note}")
    with quiet(out / "airflow.log"):
        champion = champion_training_input(model_name=settings.model_name, mlflow_conn_id=settings.mlflow_conn_id)
    first, second, third, fourth = (day for _, day in results)
    expected_ok = (first.retraining.ran("promotion_gate") and second.retraining.blocked_by == "skew_gate"
                   and third.features.blocked_by == "dbt_build" and third.retraining.blocked_by == "features_fresh"
                   and fourth.monitor.blocked_by == "feature_skew" and not second.retraining.ran("register")
                   and champion is not None)
    if champion:
        print(f"\n  champion: {settings.model_name} v{champion['model_version']}, trained on {champion['uri']} "
              f"version {champion['version']} (fingerprint {champion['fingerprint'][:16]}...)")
    alerts = out / "alerts.jsonl"
    print(f"  alerts:   {alerts} ({len(alerts.read_text().splitlines()) if alerts.exists() else 0} alerts)")
    print(f"  reports:  {out / 'reports'}  (HTML per gate and run; verdict.json per run)")
    ledger = out / "lake" / "parity" / "ledger"
    with quiet(out / "airflow.log"):
        from airflow_provider_parity.outcomes.ledger import read_outcomes

        outcomes = read_outcomes(str(ledger))
    blocked = sum(o.blocking for o in outcomes)
    print(f"  ledger:   {ledger}  ({len(outcomes)} gate outcomes, {blocked} blocking: "
          f"parity outcomes --ledger {ledger})")
    slo_summary(outcomes, out, settings.contract_path)
    print(f"  lineage:  {out / 'openlineage.jsonl'}")
    print(f"  mlflow:   mlflow ui --backend-store-uri {os.environ['MLFLOW_TRACKING_URI']}")
    print(f"  logs:     {out / 'airflow.log'}")
    print("\n" + ("every day ended as it should: clean data promoted; drift, the broken contract and the "
                  "rounding online path blocked"
                  if expected_ok else "UNEXPECTED: see the rows above and the log"))
    return bool(expected_ok)


def slo_summary(outcomes: list[Any], out: Path, contract_path: str) -> None:
    """Each SLO of the contract measured over the simulated days, and the Prometheus rules for it."""
    from airflow_provider_parity.contracts import load_contract
    from airflow_provider_parity.fileio import atomic_write_text
    from airflow_provider_parity.slo.attainment import measure
    from airflow_provider_parity.slo.report import report_lines
    from airflow_provider_parity.slo.rules import render_rules

    contract = load_contract(contract_path)
    now = datetime.now(UTC)
    ledger = out / "lake" / "parity" / "ledger"
    print(f"  slos:     parity slo report --contract {contract_path} --ledger {ledger}")
    for line in report_lines([contract], measure(contract, outcomes, now=now), now):
        print(f"    {line}")
    rules = atomic_write_text(out / "prometheus-rules.yaml", render_rules([contract]))
    print(f"  rules:    {rules}  (parity slo rules: burn-rate, blocked-gate and stale-table alerts)")
    print(f"  metrics:  parity slo metrics --ledger {ledger}  (exact null ratios, skew rates, model metrics per slice)")
    print(f"  grafana:  {REPO / 'helm' / 'parity' / 'files' / 'grafana-dashboard.json'}  (import in Grafana)")


def main(argv: list[str] | None = None) -> int:
    from demo_serve import explain_models, parse_args, serve

    args = parse_args(argv)
    out = Path(args.out).resolve() if args.out else OUT
    if args.serve_only:
        configure(out)
        return serve(out, args.port)
    shutil.rmtree(out, ignore_errors=True)  # every demo starts from nothing
    out.mkdir(parents=True)
    configure(out)
    log = out / "airflow.log"
    print(f"parity demo: AIRFLOW_HOME={os.environ['AIRFLOW_HOME']}")
    print("  migrating the Airflow metadata database (SQLite) ...", flush=True)
    with open(log, "ab") as sink:
        subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, stdout=sink, stderr=sink)
    from churn.scenario import run_day

    today = datetime.now(UTC).date()
    results = []
    for offset, (label, faults, serving) in enumerate(DAYS):
        day = today - timedelta(days=len(DAYS) - offset)
        print(f"\n  day {offset + 1} ({day}): {label}")
        results.append((label, run_day(day, faults=faults, serving_drift=serving == "drift",
                                       serving_rounding=serving == "rounding", wrap=progress(log))))
    ok = summary(results, out)
    explain_models(out, quiet)
    if args.serve:
        serve(out, args.port)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
