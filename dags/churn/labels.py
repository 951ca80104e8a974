"""The periodic label audit of the churn labels, run by the ``label_audit`` DAG through ``parity_step``.

Each week a stable sample of recently labelled items, the same number per class of their consensus
label, goes back for re-annotation: the sample is written to the lake (``labels/audit/date=D``) for the
annotation tool, and the agreement the annotators reached on those items is judged by the label contract
and recorded in the results ledger (gate ``label_audit``), so the ledger holds the audit's agreement over
time and the retraining policy's label floor can read it.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def audit_path(lake_uri: str, day: date | str) -> str:
    """Where the audit of ``day`` writes its sample for re-annotation."""
    return f"{lake_uri.rstrip('/')}/labels/audit/date={day}/sample.parquet"


def _recent(lake_uri: str, day: date, lookback_days: int, item: str) -> tuple[pa.Table | None, list[str]]:
    """The annotations of the ``lookback_days`` days ending with ``day`` (days without a file are skipped).

    An item labelled on several days keeps only its latest day's labels: a customer's churn label is a
    fact of its day, and last week's labels of it are not a disagreement with today's.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from churn.datagen import annotations_path

    tables, read, seen = [], [], pa.array([], pa.string())
    for back in range(lookback_days):
        uri = annotations_path(lake_uri, day - timedelta(days=back))
        try:
            table = pq.read_table(uri)
        except (FileNotFoundError, OSError):
            continue
        ids = table[item].cast(pa.string()).combine_chunks()
        tables.append(table.filter(pc.invert(pc.is_in(ids, value_set=seen))))
        seen = pa.concat_arrays([seen, pc.unique(ids)])
        read.append(uri)
    return (pa.concat_tables(tables) if tables else None), read


def audit_sample(annotations: pa.Table, *, item: str, label: str, per_class: int, salt: str) -> pa.Table:
    """``per_class`` items per consensus class (the majority of their labels), chosen by a stable hash of
    the item id and ``salt`` (the audit's day): the same audit picks the same items, the next one others.

    Returns:
        item, consensus (as text), ratings: one row per sampled item, classes in sorted order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from airflow_provider_parity.labels.annotations import as_text

    text = annotations.set_column(annotations.column_names.index(label), label, as_text(annotations[label]))
    counts = text.group_by([item, label]).aggregate([([], "count_all")]).to_pylist()
    votes: dict[str, dict[str, int]] = {}
    for row in counts:
        votes.setdefault(str(row[item]), {})[str(row[label])] = int(row["count_all"])
    # Ties go to the smallest class name: deterministic, and a tie is itself worth auditing.
    consensus = {i: min(v, key=lambda c: (-v[c], c)) for i, v in votes.items()}
    rows = []
    for cls in sorted(set(consensus.values())):
        members = sorted((i for i, c in consensus.items() if c == cls),
                         key=lambda i: zlib.crc32(f"{salt}:{i}".encode()))
        rows += [{item: i, "consensus": cls, "ratings": sum(votes[i].values())} for i in members[:per_class]]
    schema = pa.schema([(item, pa.string()), ("consensus", pa.string()), ("ratings", pa.int64())])
    table = pa.Table.from_pylist(rows, schema=schema)
    return table.take(pc.sort_indices(table, [("consensus", "ascending"), (item, "ascending")]))


def run_audit(*, lake_uri: str, contract_path: str, day: str, lookback_days: int = 7,
              per_class: int | None = None) -> dict[str, Any]:
    """Sample the recent labelled items for re-annotation and judge the annotators' agreement on them.

    Args:
        lake_uri: the lake's root (annotations under ``raw/annotations``, the sample under ``labels/audit``).
        contract_path: the label contract (``labels`` section).
        day: the last day of the audit (``YYYY-MM-DD``).
        lookback_days: how many days of annotations count as recent.
        per_class: items per class (default: the contract's ``labels.audit_sample``).

    Returns:
        ``{"outcome": GateOutcome dict (gate label_audit), "sample": uri, "sampled": n, "inputs", "outputs"}``.

    Raises:
        ConfigurationError: a malformed day or a non-positive count.
        DataError: no annotations in the lookback.
    """
    import pyarrow.compute as pc

    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.exceptions import ConfigurationError, DataError
    from airflow_provider_parity.labels.gate import evaluate_labels
    from churn.datagen import write_parquet
    from churn.features import parse_day

    when = parse_day(day)
    contract = load_contract(contract_path)
    policy = contract.labels
    if policy is None:
        raise ConfigurationError(f"{contract_path} has no labels section to audit")
    count = per_class if per_class is not None else policy.audit_sample
    if int(lookback_days) < 1 or int(count) < 1:
        raise ConfigurationError(f"lookback_days and per_class must be at least 1, got {lookback_days} and {count}")
    cols = policy.annotations
    recent, read = _recent(lake_uri, when, int(lookback_days), cols.item)
    if recent is None:
        raise DataError(f"no annotations in the {lookback_days} days ending {when} under {lake_uri}/raw/annotations")
    sample = audit_sample(recent, item=cols.item, label=cols.label, per_class=int(count), salt=when.isoformat())
    uri = write_parquet(sample, audit_path(lake_uri, when))
    judged = recent.filter(pc.is_in(recent[cols.item].cast("string"), value_set=sample[cols.item]))
    result = evaluate_labels(contract, judged, source=uri)
    outcome = result.outcome().with_(gate="label_audit", reports={"sample": uri})
    outcome = outcome.with_(metrics={**outcome.metrics, "sampled": sample.num_rows, "lookback_days": int(lookback_days)},
                            reason=f"audit of {sample.num_rows} items ({count} per class, {len(read)} days): "
                                   f"{outcome.reason}")
    return {"outcome": outcome.to_dict(), "sample": uri, "sampled": sample.num_rows,
            "inputs": [{"uri": u} for u in read], "outputs": [{"uri": uri}]}
