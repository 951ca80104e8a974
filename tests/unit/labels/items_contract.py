"""The small labelled-items contract the label-gate tests share, with the thresholds each test needs."""

from __future__ import annotations


def items_contract(thresholds: str, *, level: str = "nominal", features: str = "", time: bool = True) -> str:
    """Contract YAML for items ``item_id`` labelled ``low``/``mid``/``high`` in column ``label``.

    Args:
        thresholds: the ``labels.thresholds`` mapping, as YAML flow text.
        features: extra column lines (feature columns) under ``columns``.
        time: whether the annotations name ``annotated_at`` as their time column.
    """
    annotations = "  annotations: {time: annotated_at}\n" if time else ""
    return (
        "dataset: {name: items, owner: team, version: 1.0.0}\n"
        "columns:\n"
        "  - {name: item_id, type: string, nullable: false, role: key}\n"
        f"{features}"
        "  - {name: label, type: string, role: label}\n"
        "labels:\n"
        "  column: label\n"
        f"  level: {level}\n"
        "  classes: [low, mid, high]\n"
        f"{annotations}"
        f"  thresholds: {thresholds}\n"
    )
