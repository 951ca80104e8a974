"""Calibration study of the drift gate's defaults, beside Evidently 0.7's DataDriftPreset defaults.

Every scenario is one column of one reference/current parquet pair per size (a
fixed seed), so each engine runs once per size:

* controls: the same distribution, fresh samples;
* immaterial: real but tiny changes (0.02 sd, 1.03x spread, half a point of
  nulls, a 1% new category, ...), statistically certain at 1M rows;
* material: the README's "material" effects (0.2 sd, 1.25x spread, 3 points of
  nulls, 3% of rows on a new value or a point mass, total variation 0.1, a
  count rate +20%, a unit change, a relabelled category, ...).

The gate runs as a user runs it: ``parity drift --reference R --current C
--json OUT`` as a whole process, no contract, default thresholds. Evidently
runs in a throwaway virtual environment (as ``bench_drift_evidently.py``);
``--no-evidently`` skips it. 10M rows are not run (the generation alone takes
minutes here); the checks are effect sizes whose noise only shrinks with n.

Prints one markdown table: per family and size, material changes detected /
total and false alarms / total on controls and immaterial changes.

Usage: python benchmarks/drift_calibration.py [--sizes 5000,100000,1000000] [--no-evidently] [--detail]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

Kind = Literal["control", "immaterial", "material"]
Gen = Callable[[np.random.Generator, int], Any]


@dataclass(frozen=True)
class Scenario:
    name: str
    family: str
    kind: Kind
    reference: Gen
    current: Gen


# --- generators --------------------------------------------------------------------

CATS = ["alpha", "beta", "gamma", "delta", "epsilon"]
SHARES = [0.4, 0.3, 0.15, 0.1, 0.05]


def normal(mu: float = 50.0, sd: float = 10.0) -> Gen:
    return lambda rng, n: rng.normal(mu, sd, n)


def lognormal(shift: float = 0.0) -> Gen:
    # sd of lognormal(3, 1) is about 44: ``shift`` is in those sds.
    return lambda rng, n: rng.lognormal(3.0, 1.0, n) + shift * 43.9


def poisson(rate: float) -> Gen:
    return lambda rng, n: rng.poisson(rate, n).astype(np.int64)


def mixture(weight: float) -> Gen:
    def gen(rng: np.random.Generator, n: int) -> Any:
        high = rng.random(n) < weight
        return np.where(high, rng.normal(4.0, 1.0, n), rng.normal(0.0, 1.0, n))
    return gen


def zero_inflated(zero_share: float = 0.6) -> Gen:
    def gen(rng: np.random.Generator, n: int) -> Any:
        values = rng.lognormal(4.0, 0.7, n)
        values[rng.random(n) < zero_share] = 0.0
        return values
    return gen


def scaled_tails(share: float, factor: float) -> Gen:
    def gen(rng: np.random.Generator, n: int) -> Any:
        values = rng.normal(0.0, 1.0, n)
        pick = rng.random(n) < share
        values[pick] *= factor
        return values
    return gen


def replaced(base: Gen, share: float, value: float) -> Gen:
    """A share of ``base``'s values replaced by one constant (a fill value)."""
    def gen(rng: np.random.Generator, n: int) -> Any:
        values = np.asarray(base(rng, n), dtype=np.float64)
        values[rng.random(n) < share] = value
        return values
    return gen


def scaled_rows(base: Gen, share: float, factor: float) -> Gen:
    """A share of rows in another unit (one source sending cents, say)."""
    def gen(rng: np.random.Generator, n: int) -> Any:
        values = np.asarray(base(rng, n), dtype=np.float64)
        pick = rng.random(n) < share
        values[pick] *= factor
        return values
    return gen


def nulls(base: Gen, rate: float) -> Gen:
    def gen(rng: np.random.Generator, n: int) -> Any:
        import pyarrow as pa

        values = base(rng, n)
        mask = rng.random(n) < rate
        return pa.array(values, mask=mask)
    return gen


def category(shares: list[float], labels: list[str] | None = None) -> Gen:
    names = np.array(labels or CATS[: len(shares)])
    weights = np.asarray(shares) / np.sum(shares)
    return lambda rng, n: names[rng.choice(len(names), n, p=weights)]


def with_new(base: Gen, share: float, label: str = "zeta") -> Gen:
    def gen(rng: np.random.Generator, n: int) -> Any:
        values = np.asarray(base(rng, n), dtype=object)
        values[rng.random(n) < share] = label
        return values
    return gen


def relabelled(base: Gen, old: str, new: str) -> Gen:
    def gen(rng: np.random.Generator, n: int) -> Any:
        values = np.asarray(base(rng, n), dtype=object)
        values[values == old] = new
        return values
    return gen


def zipf_ids(count: int = 2000, new_share: float = 0.0, boost: float = 1.0) -> Gen:
    """High-cardinality ids with Zipf shares; ``new_share`` of rows on ids never seen; the top ten ``boost``-ed."""
    ranks = np.arange(1, count + 1)
    weights = 1.0 / ranks**1.1
    weights[:10] *= boost
    weights /= weights.sum()

    def gen(rng: np.random.Generator, n: int) -> Any:
        values = np.char.add("id_", rng.choice(count, n, p=weights).astype(str)).astype(object)
        fresh = rng.random(n) < new_share
        values[fresh] = np.char.add("new_", rng.integers(0, 10**6, int(fresh.sum())).astype(str))
        return values
    return gen


def flags(rate: float) -> Gen:
    return lambda rng, n: rng.random(n) < rate


def scenarios() -> list[Scenario]:
    base_n = normal()
    rare = [0.45, 0.3, 0.15, 0.08, 0.02]
    grown = [0.45, 0.3, 0.15, 0.16, 0.10]
    out = [
        # controls: the same distribution, fresh samples
        Scenario("normal", "control", "control", base_n, base_n),
        Scenario("lognormal", "control", "control", lognormal(), lognormal()),
        Scenario("poisson", "control", "control", poisson(3.0), poisson(3.0)),
        Scenario("sparse counts", "control", "control", poisson(0.7), poisson(0.7)),
        Scenario("zero-inflated", "control", "control", zero_inflated(), zero_inflated()),
        Scenario("bimodal", "control", "control", mixture(0.3), mixture(0.3)),
        Scenario("with nulls", "control", "control", nulls(base_n, 0.05), nulls(base_n, 0.05)),
        Scenario("category", "control", "control", category(SHARES), category(SHARES)),
        Scenario("rare categories", "control", "control", category(rare), category(rare)),
        Scenario("high-cardinality ids", "control", "control", zipf_ids(), zipf_ids()),
        Scenario("boolean", "control", "control", flags(0.3), flags(0.3)),
        # immaterial: real but tiny
        Scenario("shift 0.02 sd", "location", "immaterial", base_n, normal(50.2)),
        Scenario("spread 1.03x", "spread", "immaterial", base_n, normal(50, 10.3)),
        Scenario("count rate +2%", "counts", "immaterial", poisson(3.0), poisson(3.06)),
        Scenario("point mass 0.5%", "point mass", "immaterial", base_n, replaced(base_n, 0.005, 45.0)),
        Scenario("nulls +0.5 points", "null rate", "immaterial", nulls(base_n, 0.01), nulls(base_n, 0.015)),
        Scenario("new category 1%", "new category", "immaterial", category(SHARES), with_new(category(SHARES), 0.01)),
        Scenario("one point from 'alpha' to 'epsilon'", "category mix", "immaterial", category(SHARES),
                 category([0.39, 0.3, 0.15, 0.1, 0.06])),
        Scenario("ids: 0.5% new", "high cardinality", "immaterial", zipf_ids(), zipf_ids(new_share=0.005)),
        # material
        Scenario("shift 0.2 sd", "location", "material", base_n, normal(52.0)),
        Scenario("shift -0.25 sd", "location", "material", base_n, normal(47.5)),
        Scenario("lognormal +0.25 sd", "location", "material", lognormal(), lognormal(0.25)),
        Scenario("spread 1.25x", "spread", "material", base_n, normal(50, 12.5)),
        Scenario("spread 0.8x", "spread", "material", base_n, normal(50, 8.0)),
        Scenario("spread 1.5x", "spread", "material", base_n, normal(50, 15.0)),
        Scenario("mixture weights 0.3->0.45", "shape", "material", mixture(0.3), mixture(0.45)),
        Scenario("10% of values x3 (tails)", "shape", "material", scaled_tails(0.0, 1.0), scaled_tails(0.1, 3.0)),
        Scenario("count rate +20%", "counts", "material", poisson(3.0), poisson(3.6)),
        Scenario("sparse count rate +20%", "counts", "material", poisson(0.7), poisson(0.84)),
        Scenario("unit x10", "unit change", "material", base_n, scaled_rows(base_n, 1.0, 10.0)),
        Scenario("5% of rows x1000", "unit change", "material", zero_inflated(), scaled_rows(zero_inflated(), 0.05, 1000)),
        Scenario("3% filled with 45", "point mass", "material", base_n, replaced(base_n, 0.03, 45.0)),
        Scenario("10% filled with 0 (in range)", "point mass", "material", lognormal(), replaced(lognormal(), 0.1, 0.0)),
        Scenario("nulls 1% -> 4%", "null rate", "material", nulls(base_n, 0.01), nulls(base_n, 0.04)),
        Scenario("nulls 1% -> 6%", "null rate", "material", nulls(base_n, 0.01), nulls(base_n, 0.06)),
        Scenario("categorical nulls 1% -> 6%", "null rate", "material", nulls(category(SHARES), 0.01),
                 nulls(category(SHARES), 0.06)),
        Scenario("new category 3%", "new category", "material", category(SHARES), with_new(category(SHARES), 0.03)),
        Scenario("new category 5%", "new category", "material", category(SHARES), with_new(category(SHARES), 0.05)),
        Scenario("two minor categories x2, x5", "category mix", "material", category(rare), category(grown)),
        Scenario("swap 15% and 5% shares", "category mix", "material", category(SHARES),
                 category([0.4, 0.3, 0.05, 0.1, 0.15])),
        Scenario("boolean 30% -> 40%", "category mix", "material", flags(0.3), flags(0.4)),
        Scenario("rare category 0.2% -> 3.2%", "rare category", "material", category([0.5, 0.298, 0.2, 0.002]),
                 category([0.485, 0.288, 0.195, 0.032])),
        Scenario("'gamma' -> 'Gamma' (case)", "label encoding", "material", category(SHARES),
                 relabelled(category(SHARES), "gamma", "Gamma")),
        Scenario("'delta' -> 'd\\u00c3\\u00a9lta' (mojibake)", "label encoding", "material", category(SHARES),
                 relabelled(category(SHARES), "delta", "d\u00c3\u00a9lta")),
        Scenario("ids: 5% on new ids", "high cardinality", "material", zipf_ids(), zipf_ids(new_share=0.05)),
        Scenario("ids: top ten x2", "high cardinality", "material", zipf_ids(), zipf_ids(boost=2.0)),
    ]
    return out


def column_name(index: int) -> str:
    return f"s{index:02d}"


def write_pair(folder: Path, rows: int, items: list[Scenario], seed: int) -> tuple[Path, Path]:
    """The reference and current parquet files of one size: column ``sNN`` is scenario NN."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = folder / f"ref_{rows}.parquet", folder / f"cur_{rows}.parquet"
    for side, path in enumerate(paths):
        columns = {}
        for index, item in enumerate(items):
            # One stream per (size, scenario, side): adding a scenario changes no other column.
            rng = np.random.default_rng([seed, rows, index, side])
            columns[column_name(index)] = pa.array((item.reference if side == 0 else item.current)(rng, rows))
        pq.write_table(pa.table(columns), path, row_group_size=256 * 1024)
    return paths


def run_parity(ref: Path, cur: Path, out: Path) -> tuple[dict[str, list[str]], float]:
    """``parity drift`` as a whole process: the fired checks per column, and the wall time."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "airflow_provider_parity.cli", "drift", "--reference", str(ref),
                           "--current", str(cur), "--json", str(out)], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"parity drift failed ({proc.returncode}): {proc.stderr.strip()}")
    data = json.loads(out.read_text())
    fired = {f["name"]: [c["check"] for c in f["checks"] if c["fired"]] for f in data["features"]}
    for name in data.get("skipped_features", {}):
        fired[name] = ["(skipped)"]
    return fired, seconds


EVIDENTLY_COLUMNS = """
import json, sys, time
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset

ref = pd.read_parquet(sys.argv[1])
cur = pd.read_parquet(sys.argv[2])
started = time.perf_counter()
result = Report([DataDriftPreset()]).run(cur, ref).dict()
seconds = time.perf_counter() - started
drifted = {}
for metric in result["metrics"]:
    config = metric.get("config", {})
    if config.get("type", "").endswith("ValueDrift"):
        value, threshold = metric["value"], config.get("threshold")
        method = str(config.get("method", ""))
        is_p_value = "p_value" in method or "test" in method.lower()
        drifted[config["column"]] = bool(value < threshold if is_p_value else value >= threshold)
print(json.dumps({"seconds": round(seconds, 1), "drifted": drifted}))
"""


def run_evidently(python: Path, ref: Path, cur: Path, folder: Path) -> tuple[dict[str, bool], float]:
    script = folder / "evidently_columns.py"
    script.write_text(EVIDENTLY_COLUMNS)
    out = subprocess.run([str(python), str(script), str(ref), str(cur)], check=True, capture_output=True,
                         text=True).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["drifted"], float(data["seconds"])


def _cell(flags: list[bool], kind: Kind) -> str:
    hits = sum(flags)
    return f"{hits}/{len(flags)}" if kind == "material" else (f"{hits}/{len(flags)}" if hits else "0")


def table(items: list[Scenario], sizes: list[int], parity: dict[int, dict[str, list[str]]],
          evidently: dict[int, dict[str, bool]]) -> str:
    """One markdown row per (kind, family): detections (material) or false alarms (others) per size and engine."""
    groups: dict[tuple[Kind, str], list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault((item.kind, item.family), []).append(index)
    head = ["scenarios", "kind"] + [f"{label} {size // 1000:,}k" for size in sizes
                                    for label in ("parity", "Evidently")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    order = {"material": 0, "control": 1, "immaterial": 2}
    totals: dict[tuple[Kind, int, str], list[bool]] = {}
    for (kind, family), indexes in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        row = [f"{family} ({len(indexes)})", "detected" if kind == "material" else "false alarms"]
        for size in sizes:
            ours = [bool(parity[size].get(column_name(i))) for i in indexes]
            theirs = [evidently[size].get(column_name(i), False) for i in indexes] if size in evidently else None
            totals.setdefault((kind, size, "parity"), []).extend(ours)
            row.append(_cell(ours, kind))
            if theirs is None:
                row.append("not run")
            else:
                totals.setdefault((kind, size, "evidently"), []).extend(theirs)
                row.append(_cell(theirs, kind))
        lines.append("| " + " | ".join(row) + " |")
    for kind, label in (("material", "**all material**"), ("control", "**all controls**"),
                        ("immaterial", "**all immaterial**")):
        row = [label, "detected" if kind == "material" else "false alarms"]
        for size in sizes:
            for engine in ("parity", "evidently"):
                flags = totals.get((kind, size, engine))  # type: ignore[arg-type]
                row.append("not run" if flags is None else f"**{sum(flags)}/{len(flags)}**")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def detail(items: list[Scenario], sizes: list[int], parity: dict[int, dict[str, list[str]]],
           evidently: dict[int, dict[str, bool]]) -> str:
    lines = ["| column | scenario | kind | " + " | ".join(f"{s // 1000:,}k" for s in sizes) + " |",
             "|---|---|---|" + "---|" * len(sizes)]
    for index, item in enumerate(items):
        cells = []
        for size in sizes:
            fired = ", ".join(parity[size].get(column_name(index), [])) or "-"
            ev = evidently.get(size, {}).get(column_name(index))
            cells.append(fired + ("" if ev is None else f" / Ev {'yes' if ev else 'no'}"))
        lines.append(f"| {column_name(index)} | {item.name} | {item.kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,100000,1000000", help="comma-separated row counts")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-evidently", action="store_true", help="run the gate only")
    parser.add_argument("--evidently-max-rows", type=int, default=1_000_000,
                        help="run Evidently up to this size only (it takes minutes at 1M rows)")
    parser.add_argument("--venv", default=None, help="reuse (or create) Evidently's virtual environment here")
    parser.add_argument("--detail", action="store_true", help="also print which check fired per scenario")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    items = scenarios()
    parity: dict[int, dict[str, list[str]]] = {}
    evidently: dict[int, dict[str, bool]] = {}
    with tempfile.TemporaryDirectory(prefix="drift-calibration-") as tmp:
        folder = Path(tmp)
        python = None
        if not args.no_evidently:
            from bench_drift_evidently import _evidently_python

            python = _evidently_python(Path(args.venv) if args.venv else folder / "venv")
        for size in sizes:
            ref, cur = write_pair(folder, size, items, args.seed)
            parity[size], seconds = run_parity(ref, cur, folder / f"result_{size}.json")
            note = f"{size:,} rows x {len(items)} columns: parity drift {seconds:.1f} s"
            if python is not None and size <= args.evidently_max_rows:
                evidently[size], ev_seconds = run_evidently(python, ref, cur, folder)
                note += f", Evidently {ev_seconds:.1f} s"
            print(note, file=sys.stderr, flush=True)
    print(table(items, sizes, parity, evidently))
    if args.detail:
        print()
        print(detail(items, sizes, parity, evidently))


if __name__ == "__main__":
    main()
