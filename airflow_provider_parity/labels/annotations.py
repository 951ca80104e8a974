"""The annotations table, read once into a ratings matrix (items x annotators, class codes).

Labels are compared as text (a boolean reads ``true``/``false``, as YAML writes it in the contract),
so a contract's ``classes: [false, true]`` matches a boolean, an integer or a string column alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from airflow_provider_parity.exceptions import DataError, SchemaMismatchError
from airflow_provider_parity.labels.agreement import MISSING, IntArray

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import LabelPolicy


def class_name(value: Any) -> str:
    """A label as text: ``true``/``false`` for booleans (YAML's and Arrow's spelling), else ``str``."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def as_text(column: Any) -> Any:
    """An Arrow column of labels or ids as strings (booleans as ``true``/``false``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(column, pa.string())


@dataclass(frozen=True)
class Ratings:
    """Who gave which item which class."""

    matrix: IntArray
    """items x annotators: the class code, or ``-1`` where the annotator did not label the item."""
    items: list[str]
    annotators: list[str]
    classes: list[str]

    @property
    def ratings(self) -> int:
        return int((self.matrix != MISSING).sum())

    def items_per_annotator(self) -> IntArray:
        return np.asarray((self.matrix != MISSING).sum(axis=0), dtype=np.int64)


def _require(table: pa.Table, name: str | None, key: str, source: str) -> None:
    if name is not None and name not in table.column_names:
        raise SchemaMismatchError(f"the annotations have no column '{name}' (labels.annotations.{key}); "
                                  f"they have {', '.join(table.column_names)}", source=source)


def _codes(column: Any) -> tuple[list[str], IntArray]:
    """Distinct values of an id column (as text, sorted) and each row's index among them.

    Arrow's hash encoding, not ``numpy.unique`` on Python strings: ten times faster on 1M ids.
    """
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(as_text(column)).combine_chunks()
    names = [str(v) for v in encoded.dictionary.to_pylist()]
    order = np.argsort(np.array(names, dtype=object)) if names else np.zeros(0, dtype=np.int64)
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    return [names[i] for i in order], rank[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)]


def _latest(table: pa.Table, policy: LabelPolicy, source: str) -> pa.Table:
    """One label per (item, annotator): the latest by the time column; without one, a repeat is bad input."""
    import pyarrow.compute as pc

    cols = policy.annotations
    if cols.time is not None:
        order = pc.sort_indices(table, sort_keys=[(cols.item, "ascending"), (cols.annotator, "ascending"),
                                                  (cols.time, "descending")])
        table = table.take(order)
    items, item_codes = _codes(table[cols.item])
    annotators, annotator_codes = _codes(table[cols.annotator])
    _, first = np.unique(item_codes * max(len(annotators), 1) + annotator_codes, return_index=True)
    if cols.time is None and len(first) < table.num_rows:
        repeated = int(np.setdiff1d(np.arange(table.num_rows), first)[0])
        raise DataError(f"annotator '{annotators[annotator_codes[repeated]]}' labelled item '{items[item_codes[repeated]]}' "
                        "more than once and the contract names no labels.annotations.time to tell which label counts",
                        source=source)
    return table.take(np.sort(first))


def read_ratings(table: pa.Table, policy: LabelPolicy, source: str) -> Ratings:
    """The ratings matrix of an annotations table.

    Rows without a label are missing ratings (an annotator who skipped the item) and are dropped.

    Raises:
        SchemaMismatchError: a column the contract names is missing.
        DataError: an item or annotator id is null, a label is not one of the contract's classes,
            an annotator labelled an item twice with no time to decide, or no label is left.
    """
    import pyarrow.compute as pc

    cols = policy.annotations
    for key in ("item", "annotator", "label", "time"):
        _require(table, getattr(cols, key), key, source)
    for key in ("item", "annotator"):
        if table[getattr(cols, key)].null_count:
            raise DataError(f"null {key} ids in column '{getattr(cols, key)}'", source=source)
    table = table.filter(pc.is_valid(table[cols.label]))
    if table.num_rows == 0:
        raise DataError(f"no labels: column '{cols.label}' is empty or all null", source=source)
    table = _latest(table, policy, source)
    labels = as_text(table[cols.label]).to_numpy(zero_copy_only=False)
    observed = sorted(set(labels.tolist()))
    classes = [class_name(c) for c in policy.classes] if policy.classes is not None else observed
    unknown = sorted(set(observed) - set(classes))
    if unknown:
        raise DataError(f"label(s) {', '.join(repr(u) for u in unknown[:5])} in column '{cols.label}' are not among "
                        f"the contract's classes {classes}", source=source)
    items, item_codes = _codes(table[cols.item])
    annotators, annotator_codes = _codes(table[cols.annotator])
    code = {name: i for i, name in enumerate(classes)}
    matrix = np.full((len(items), len(annotators)), MISSING, dtype=np.int64)
    matrix[item_codes, annotator_codes] = np.fromiter((code[v] for v in labels), dtype=np.int64, count=len(labels))
    return Ratings(matrix, items, annotators, classes)
