"""Benchmark: the label-quality gate on 100,000 items, 20 annotators, 3 labels per item (300,000 ratings).

Times ``evaluate_labels`` (read the ratings, every agreement statistic, per-annotator and per-pair
kappas, the checks) on an Arrow table already in memory; prints the median of the runs.

Usage: python benchmarks/bench_labels.py [--repeat 3] [--items 100000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pyarrow as pa

from airflow_provider_parity.contracts.loader import contract_from_text
from airflow_provider_parity.labels.gate import evaluate_labels

CONTRACT = """dataset: {name: items, owner: bench, version: 1.0.0}
columns:
  - {name: item_id, type: string, nullable: false, role: key}
  - {name: label, type: string, role: label}
labels:
  column: label
  level: ordinal
  classes: [low, mid, high]
  annotations: {time: annotated_at}
  thresholds: {min_cohen_kappa: 0.6, min_fleiss_kappa: 0.6, min_krippendorff_alpha: 0.667, min_class_kappa: 0.6,
               min_annotator_kappa: 0.6, max_conflict_share: 0.3}
"""


def annotations(items: int, annotators: int = 20, per_item: int = 3, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, items)
    who = np.argsort(rng.random((items, annotators)), axis=1)[:, :per_item]
    label = np.where(rng.random((items, per_item)) < 0.9, truth[:, None], rng.integers(0, 3, (items, per_item)))
    return pa.table({"item_id": np.repeat([f"i{i}" for i in range(items)], per_item),
                     "annotator_id": [f"a{a}" for a in who.ravel()],
                     "label": np.array(["low", "mid", "high"])[label.ravel()],
                     "annotated_at": np.arange(items * per_item)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    contract, table = contract_from_text(CONTRACT), annotations(args.items)
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = evaluate_labels(contract, table)
        times.append(time.perf_counter() - start)
    print(f"{table.num_rows} ratings, {result.items} items, {result.annotators} annotators: "
          f"median {statistics.median(times):.2f} s over {args.repeat} runs ({result.status}, "
          f"alpha {result.krippendorff_alpha:.4f})")


if __name__ == "__main__":
    main()
