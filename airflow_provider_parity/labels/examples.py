"""Synthetic annotations for tests and demos, with a fault switch: one annotator flipping one class."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa


def synthetic_annotations(n_items: int = 400, *, annotators: Sequence[str] = ("ann_1", "ann_2", "ann_3", "ann_4", "ann_5"),
                classes: Sequence[str] = ("low", "mid", "high"), per_item: int = 3, accuracy: float = 0.95,
                flip: tuple[str, str, str] | None = None, seed: int = 0, item_prefix: str = "item_") -> pa.Table:
    """One row per (item, annotator) label: ``item_id``, ``annotator_id``, ``label``, ``annotated_at``.

    Each item has a true class; ``per_item`` annotators drawn at random label it, each right with
    probability ``accuracy`` and otherwise picking another class at random.

    Args:
        flip: ``(annotator, from_class, to_class)``: that annotator labels every ``from_class`` item
            ``to_class`` (the fault an annotation-guideline change produces).
    """
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    k = len(classes)
    truth = rng.integers(0, k, size=n_items)
    rows: dict[str, list[object]] = {"item_id": [], "annotator_id": [], "label": [], "annotated_at": []}
    start = 1_793_491_200  # 2026-11-01T00:00:00Z, in seconds
    for i in range(n_items):
        for j in rng.choice(len(annotators), size=per_item, replace=False):
            label = int(truth[i]) if rng.random() < accuracy else int((truth[i] + rng.integers(1, k)) % k)
            if flip is not None and annotators[j] == flip[0] and classes[int(truth[i])] == flip[1]:
                label = list(classes).index(flip[2])
            rows["item_id"].append(f"{item_prefix}{i:05d}")
            rows["annotator_id"].append(annotators[j])
            rows["label"].append(classes[label])
            rows["annotated_at"].append(int(rng.integers(0, 86400 * 7)))
    return pa.table({**{k: rows[k] for k in ("item_id", "annotator_id", "label")},
                     "annotated_at": pa.array([start + int(str(s)) for s in rows["annotated_at"]], pa.int64()).cast(
                         pa.timestamp("s", tz="UTC"))})
