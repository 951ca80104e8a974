"""The README's first command: validate bundled example data against its contract.

Writes a clean feature table and one with each kind of injected fault, validates each
through the gate's engine (Great Expectations), and prints which passed or was blocked
and why, with the report paths. Outputs go to ./.parity/demo.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from airflow_provider_parity.contracts import load_contract
from airflow_provider_parity.examples import customer_features, write_parquet
from airflow_provider_parity.exceptions import ParityError
from airflow_provider_parity.validation.report import write_reports
from airflow_provider_parity.validation.sources import load_data
from airflow_provider_parity.validation.validate import validate_table

REPO = Path(__file__).resolve().parent.parent
CONTRACT = REPO / "contracts" / "customer_features.yaml"
OUT = REPO / ".parity" / "demo"
CASES = [("clean", "none"), ("null spike", "nulls"), ("range violation", "range"),
         ("duplicate keys", "duplicates"), ("unknown category", "category"), ("stale data", "stale"),
         ("schema break", "schema")]


def main() -> int:
    contract = load_contract(CONTRACT)
    print(f"contract {contract.ref} ({CONTRACT.relative_to(REPO)})")
    rows = []
    for label, fault in CASES:
        data = write_parquet(customer_features(5000, fault=fault), str(OUT / "data" / f"{fault}.parquet"))
        started = time.perf_counter()
        print(f"  validating {label:<17}", end=" ", flush=True)
        try:
            loaded = load_data(data)
            result = validate_table(contract, loaded.table, source=loaded.source, environment="training")
            write_reports(result, json_path=OUT / "reports" / f"{fault}.json", html_path=OUT / "reports" / f"{fault}.html")
            verdict = "passed" if result.success else "BLOCKED"
            why = "" if result.success else "; ".join(r.message() for r in result.failures)
            report = result.report_html
        except ParityError as exc:
            verdict, why, report = f"BAD INPUT (exit {exc.exit_code})", str(exc), None
        print(f"{verdict:<18} {time.perf_counter() - started:5.1f} s")
        rows.append((label, verdict, why, report))
    print("\nsummary")
    for label, verdict, why, report in rows:
        print(f"  {label:<17} {verdict}")
        if why:
            print(f"      why:    {why}")
        if report:
            print(f"      report: {report}")
    clean_ok = rows[0][1] == "passed"
    others_blocked = all(v != "passed" for _, v, _, _ in rows[1:])
    print("\nthe gate let clean data through and blocked every fault" if clean_ok and others_blocked
          else "\nUNEXPECTED: see the rows above")
    return 0 if clean_ok and others_blocked else 1


if __name__ == "__main__":
    sys.exit(main())
