"""The label-quality gate: agreement, conflicts and label drift judged against the contract's thresholds.

:func:`evaluate_labels` works on Arrow tables already read (pure: no I/O); :func:`run_labels` reads
the inputs first. Either ends in a :class:`LabelQualityResult` (what the reports show) whose
:meth:`~LabelQualityResult.outcome` is the gate's :class:`GateOutcome` (what everything else acts on).

Example:
    >>> from airflow_provider_parity.contracts import load_contract
    >>> result = run_labels(load_contract("contracts/churn_labels.yaml"), "annotations.parquet")
    >>> result.outcome().exit_code
    0
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from airflow_provider_parity.labels import agreement as ag
from airflow_provider_parity.labels.annotations import Ratings, as_text, read_ratings
from airflow_provider_parity.outcomes.model import Check, GateOutcome, OutcomeStatus

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_parity.contracts.model import Contract, LabelPolicy, LabelThresholds

GATE = "labels"


@dataclass(frozen=True)
class AnnotatorStat:
    """One annotator: how much they labelled and how far they agree with the others."""

    name: str
    items: int
    shared_items: int
    """Items they labelled that someone else labelled too."""
    kappa: float | None
    """Cohen's kappa of their labels against the others' labels of the same items."""
    judged: bool
    """Enough shared items (``min_shared_items``) for the kappa to count."""
    confusion: tuple[str, str, int, int] | None = None
    """Their most frequent disagreement: (the others' class, their class, times, the others' ratings of that class)."""


@dataclass(frozen=True)
class ClassStat:
    name: str
    ratings: int
    consensus_items: int
    kappa: float | None
    """Fleiss' kappa of this class against all others."""


@dataclass(frozen=True)
class PairStat:
    first: str
    second: str
    items: int
    kappa: float | None


@dataclass
class LabelQualityResult:
    """Everything the label-quality gate measured; :meth:`outcome` is its verdict."""

    contract: str
    source: str
    version: int | None
    level: str
    classes: list[str]
    items: int
    annotators: int
    ratings: int
    rated_twice: int
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    conflict_share: float | None
    pairs: list[PairStat]
    annotator_stats: list[AnnotatorStat]
    """Worst first (lowest kappa among the judged, then the unjudged)."""
    class_stats: list[ClassStat]
    """Worst first."""
    conflict_sample: list[dict[str, Any]]
    distribution: dict[str, float]
    """The consensus labels' shares."""
    reference_distribution: dict[str, float] | None = None
    label_drift: float | None = None
    feature_conflict_share: float | None = None
    feature_conflict_items: int | None = None
    checks: list[Check] = field(default_factory=list)

    @property
    def judged_pairs(self) -> list[PairStat]:
        return [p for p in self.pairs if p.kappa is not None]

    @property
    def worst_annotator(self) -> AnnotatorStat | None:
        judged = [a for a in self.annotator_stats if a.judged and a.kappa is not None]
        return judged[0] if judged else None

    @property
    def worst_class(self) -> ClassStat | None:
        defined = [c for c in self.class_stats if c.kappa is not None]
        return defined[0] if defined else None

    @property
    def status(self) -> OutcomeStatus:
        if any(not c.success and c.severity == "error" for c in self.checks):
            return "failed"
        if self.rated_twice == 0:
            return "insufficient_data"
        return "warned" if any(not c.success for c in self.checks) else "passed"

    def summary(self) -> str:
        """One line: the verdict, what fired (observed versus expected) and who and what to look at."""
        head = (f"labels of {self.source} ({self.items} items, {self.annotators} annotators, {self.ratings} ratings, "
                f"contract {self.contract})")
        failed = [c for c in self.checks if not c.success]
        if not failed:
            return (f"{head}: {len(self.checks)} checks held; Fleiss' kappa {_num(self.fleiss_kappa)}, "
                    f"Krippendorff's alpha {_num(self.krippendorff_alpha)}")
        blame = [f"worst annotator {_annotator(a)}" for a in [self.worst_annotator] if a is not None]
        blame += [f"worst class '{c.name}' (kappa {_num(c.kappa)})" for c in [self.worst_class] if c is not None]
        note = "no item was rated twice; " if self.status == "insufficient_data" else ""
        # What blocks first, then who to look at; a check that could not be measured comes last, marked:
        # it does not block, and in the middle of the reasons it read as one.
        verdicts = [c.message() for c in failed if c.severity == "error"]
        warnings = [f"warning: {c.message()}" for c in failed if c.severity != "error"]
        return f"{head}: {note}" + "; ".join(verdicts + blame + warnings)

    def outcome(self, *, name: str | None = None, dataset: str | None = None) -> GateOutcome:
        """The gate's outcome: a failed error-severity check blocks; warnings and too little overlap do not."""
        worst_a, worst_c = self.worst_annotator, self.worst_class
        pair_kappas = [p.kappa for p in self.judged_pairs if p.kappa is not None]
        metrics = {"items": self.items, "annotators": self.annotators, "ratings": self.ratings,
                   "rated_twice": self.rated_twice, "cohen_kappa_min": min(pair_kappas) if pair_kappas else None,
                   "fleiss_kappa": self.fleiss_kappa, "krippendorff_alpha": self.krippendorff_alpha,
                   "conflict_share": self.conflict_share, "label_drift": self.label_drift,
                   "feature_conflict_share": self.feature_conflict_share,
                   "worst_annotator": worst_a.name if worst_a else None, "worst_class": worst_c.name if worst_c else None}
        status = self.status
        return GateOutcome(gate=GATE, name=name, status=status, blocking=status == "failed", reason=self.summary(),
                           dataset=dataset or self.source, version=self.version, contract=self.contract,
                           metrics=metrics, checks=tuple(self.checks))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status
        data["summary"] = self.summary()
        return data


def _num(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def _annotator(stat: AnnotatorStat) -> str:
    text = f"'{stat.name}' (kappa {_num(stat.kappa)} with the others"
    if stat.confusion is not None:
        theirs, given, times, total = stat.confusion
        text += f"; labelled '{theirs}' as '{given}' {times} of {total} times"
    return text + ")"


# --- the statistics -------------------------------------------------------------------------


def _confusion(ratings: Ratings, theirs: ag.IntArray, others: ag.IntArray) -> tuple[str, str, int, int] | None:
    k = len(ratings.classes)
    table = np.bincount(others * k + theirs, minlength=k * k).reshape(k, k)
    np.fill_diagonal(table, 0)
    if table.sum() == 0:
        return None
    expected, given = np.unravel_index(int(table.argmax()), table.shape)
    return (ratings.classes[expected], ratings.classes[given], int(table[expected, given]),
            int((others == expected).sum()))


def annotator_stats(ratings: Ratings, min_shared: int) -> list[AnnotatorStat]:
    """Every annotator, worst first: the judged by kappa, then those with too little overlap."""
    k, per = len(ratings.classes), ratings.items_per_annotator()
    stats = []
    for j, name in enumerate(ratings.annotators):
        theirs, others, shared = ag.annotator_pairs(ratings.matrix, j)
        kappa = ag.cohen_kappa(theirs, others, k)
        judged = shared >= min_shared and kappa is not None
        stats.append(AnnotatorStat(name, int(per[j]), shared, kappa, judged,
                                   _confusion(ratings, theirs, others) if judged else None))
    return sorted(stats, key=lambda a: (not a.judged, a.kappa if a.kappa is not None else 2.0, a.name))


def class_stats(ratings: Ratings, counts: ag.FloatArray) -> list[ClassStat]:
    winners = ag.consensus(counts)
    kappas = ag.class_kappas(counts)
    stats = [ClassStat(name, int(counts[:, j].sum()), int((winners == j).sum()), kappas[j])
             for j, name in enumerate(ratings.classes)]
    return sorted(stats, key=lambda c: (c.kappa is None, c.kappa if c.kappa is not None else 0.0, c.name))


def conflict_sample(ratings: Ratings, counts: ag.FloatArray, size: int) -> list[dict[str, Any]]:
    """Up to ``size`` conflicting items for a person to re-check, in an order fixed by a hash of their ids
    (the same items each run, spread over the whole table rather than its first rows)."""
    rows = np.nonzero(ag.conflicting(counts))[0]
    order = sorted(rows, key=lambda i: hashlib.sha256(ratings.items[i].encode("utf-8")).hexdigest())[:size]
    sample = []
    for i in order:
        given = {ratings.annotators[j]: ratings.classes[c] for j, c in enumerate(ratings.matrix[i]) if c != ag.MISSING}
        sample.append({"item": ratings.items[i], "labels": given})
    return sample


def _shares(names: list[str], counts: ag.FloatArray) -> dict[str, float]:
    total = counts.sum()
    return {n: float(c / total) if total else 0.0 for n, c in zip(names, counts, strict=True)}


def label_drift(current: dict[str, float], reference: pa.Table, column: str,
                source: str) -> tuple[float, dict[str, float]]:
    """Total variation between the consensus labels' distribution and the reference's label column."""
    import pyarrow.compute as pc

    from airflow_provider_parity.exceptions import DataError, SchemaMismatchError

    if column not in reference.column_names:
        raise SchemaMismatchError(f"the reference has no label column '{column}'", source=source)
    values = pc.value_counts(pc.drop_null(as_text(reference[column]))).to_pylist()
    if not values:
        raise DataError(f"the reference's label column '{column}' is empty", source=source)
    ref_counts = {str(v["values"]): float(v["counts"]) for v in values}
    names = list(current) + sorted(set(ref_counts) - set(current))
    cur = np.array([current.get(n, 0.0) for n in names])
    ref = np.array([ref_counts.get(n, 0.0) for n in names])
    return ag.total_variation(cur, ref), _shares(names, ref)


def feature_conflicts(ratings: Ratings, labels: list[str | None], features: pa.Table, columns: list[str],
                      item: str, source: str) -> tuple[float | None, int]:
    """Share (and number) of labelled items whose identical feature values carry different consensus labels."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from airflow_provider_parity.exceptions import SchemaMismatchError

    missing = [c for c in [item, *columns] if c not in features.column_names]
    if missing:
        raise SchemaMismatchError(f"the features table has no column(s) {', '.join(missing)}", source=source)
    labelled = pa.table({"__item": ratings.items, "__label": pa.array(labels, pa.string())})
    rows = features.select([item, *columns]).set_column(0, "__item", as_text(features[item]))
    joined = rows.join(labelled, "__item", join_type="inner")
    if joined.num_rows == 0:
        return None, 0
    groups = joined.group_by(columns).aggregate([("__label", "count_distinct"), ("__label", "count")])
    clash = pc.greater(groups["__label_count_distinct"], 1)
    items = int(pc.sum(groups.filter(clash)["__label_count"]).as_py() or 0)
    return items / joined.num_rows, items


# --- the checks -----------------------------------------------------------------------------

def _bound(name: str, value: float | None, limit: float | None, column: str, *, upper: bool = False,
           where: str = "", undefined: str = "") -> Check | None:
    """The check of one threshold (None: the contract does not set it). A value that could not be
    measured is a warning, not a verdict: it neither passes nor blocks."""
    if limit is None:
        return None
    expected = f"{'<=' if upper else '>='} {limit:g}"
    if value is None:
        return Check(name=name, success=False, column=column, observed=f"not measured: {undefined}",
                     expected=expected, severity="warn")
    held = value <= limit if upper else value >= limit
    return Check(name=name, success=held, column=column, observed=f"{value:.4f}{where}", expected=expected, value=value)


def _agreement_checks(r: LabelQualityResult, t: LabelThresholds, col: str) -> Iterator[Check | None]:
    pair = min(r.judged_pairs, key=lambda p: p.kappa if p.kappa is not None else 2.0, default=None)
    yield _bound("cohen_kappa", pair.kappa if pair else None, t.min_cohen_kappa, col,
                 where=f" ('{pair.first}' and '{pair.second}', {pair.items} items)" if pair else "",
                 undefined=f"no two annotators share {t.min_shared_items} items with more than one class")
    yield _bound("fleiss_kappa", r.fleiss_kappa, t.min_fleiss_kappa, col,
                 undefined="no item rated twice, or one class only")
    yield _bound("krippendorff_alpha", r.krippendorff_alpha, t.min_krippendorff_alpha, col, where=f" ({r.level})",
                 undefined="no item rated twice, or one value only")
    worst_c = r.worst_class
    yield _bound("class_kappa", worst_c.kappa if worst_c else None, t.min_class_kappa, col,
                 where=f" (class '{worst_c.name}')" if worst_c else "",
                 undefined="no item rated twice, or one class only")
    worst_a = r.worst_annotator
    yield _bound("annotator_kappa", worst_a.kappa if worst_a else None, t.min_annotator_kappa, col,
                 where=f" (annotator '{worst_a.name}', {worst_a.shared_items} shared items)" if worst_a else "",
                 undefined=f"no annotator shares {t.min_shared_items} items with the others")


def _coverage_checks(r: LabelQualityResult, t: LabelThresholds, col: str) -> Iterator[Check | None]:
    if t.min_items_per_annotator is not None and r.annotator_stats:
        thin = min(r.annotator_stats, key=lambda a: (a.items, a.name))
        yield Check(name="items_per_annotator", success=thin.items >= t.min_items_per_annotator,
                    observed=f"{thin.items} (annotator '{thin.name}')", expected=f">= {t.min_items_per_annotator}")
    conflicts = round((r.conflict_share or 0) * r.rated_twice)
    yield _bound("conflict_share", r.conflict_share, t.max_conflict_share, col, upper=True,
                 where=f" ({conflicts} of {r.rated_twice} items rated twice or more)", undefined="no item rated twice")
    yield _bound("label_drift", r.label_drift, t.max_label_drift, col, upper=True,
                 where=" (total variation vs the reference)", undefined="no reference labels given")
    yield _bound("feature_conflict_share", r.feature_conflict_share, t.max_feature_conflict_share, col, upper=True,
                 where=f" ({r.feature_conflict_items} items)",
                 undefined="no features table given, or no labelled item in it")


def judge(result: LabelQualityResult, policy: LabelPolicy) -> list[Check]:
    """One check per threshold the contract sets; an unset threshold is not checked."""
    found = [*_agreement_checks(result, policy.thresholds, policy.column),
             *_coverage_checks(result, policy.thresholds, policy.column)]
    return [c for c in found if c is not None]


# --- entry points ---------------------------------------------------------------------------


def _policy(contract: Contract) -> LabelPolicy:
    from airflow_provider_parity.exceptions import ContractError

    if contract.labels is None:
        raise ContractError(f"contract {contract.ref} has no labels section: nothing to check")
    return contract.labels


def evaluate_labels(contract: Contract, annotations: pa.Table, *, source: str = "<annotations>",
                    version: int | None = None, reference: pa.Table | None = None, reference_source: str = "<reference>",
                    features: pa.Table | None = None, features_source: str = "<features>") -> LabelQualityResult:
    """Judge an annotations table against the contract's ``labels`` section.

    Args:
        contract: a contract with a ``labels`` section.
        annotations: one row per (item, annotator) label.
        source / version: how the annotations are named in the reports, and their Delta version.
        reference: the last training set (its label column), for ``max_label_drift``.
        features: the labelled items' features (the items' key and the contract's feature columns),
            for ``max_feature_conflict_share``.

    Raises:
        ContractError: the contract has no ``labels`` section.
        DataError: a column is missing, an id is null, a label is unknown, or there is no label.
    """
    policy = _policy(contract)
    ratings = read_ratings(annotations, policy, source)
    counts = ag.category_counts(ratings.matrix, len(ratings.classes))
    names = ratings.annotators
    min_shared = policy.thresholds.min_shared_items
    twice = int((counts.sum(axis=1) >= 2).sum())
    winners = ag.consensus(counts)
    labels = [ratings.classes[c] if c != ag.MISSING else None for c in winners]
    distribution = _shares(ratings.classes, np.bincount(winners[winners != ag.MISSING],
                                                        minlength=len(ratings.classes)).astype(np.float64))
    result = LabelQualityResult(
        contract=contract.ref, source=source, version=version, level=policy.level, classes=ratings.classes,
        items=len(ratings.items), annotators=len(names), ratings=ratings.ratings, rated_twice=twice,
        fleiss_kappa=ag.fleiss_kappa(counts), krippendorff_alpha=ag.krippendorff_alpha(counts, policy.level),
        conflict_share=float(ag.conflicting(counts).sum() / twice) if twice else None,
        pairs=[PairStat(names[p.first], names[p.second], p.items, p.kappa)
               for p in ag.pairwise_kappas(ratings.matrix, len(ratings.classes), min_shared)],
        annotator_stats=annotator_stats(ratings, min_shared), class_stats=class_stats(ratings, counts),
        conflict_sample=conflict_sample(ratings, counts, policy.audit_sample), distribution=distribution)
    if reference is not None:
        result.label_drift, result.reference_distribution = label_drift(distribution, reference, policy.column,
                                                                        reference_source)
    if features is not None:
        columns = [c.name for c in contract.columns if c.role == "feature"]
        result.feature_conflict_share, result.feature_conflict_items = feature_conflicts(
            ratings, labels, features, columns, policy.annotations.item, features_source)
    result.checks = judge(result, policy)
    return result


def rows_where(table: pa.Table, where: Mapping[str, Any], source: str) -> pa.Table:
    """The rows of ``table`` whose columns equal the values in ``where`` (each cast to its column's type).

    Raises:
        SchemaMismatchError: a column is not in the table.
        DataError: a value cannot be read as its column's type.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from airflow_provider_parity.exceptions import DataError, SchemaMismatchError

    for column, value in where.items():
        if column not in table.column_names:
            raise SchemaMismatchError(f"no column {column!r} to filter on; columns are "
                                      f"{', '.join(table.column_names[:20])}", source=source)
        try:
            wanted = pa.scalar(value).cast(table.schema.field(column).type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise DataError(f"{column} = {str(value)[:80]!r} is not a {table.schema.field(column).type} value",
                            source=source) from None
        table = table.filter(pc.equal(table[column], wanted))
    return table


def run_labels(contract: Contract, annotations: Any, *, version: int | None = None, reference: Any = None,
               reference_version: int | None = None, features: Any = None, features_version: int | None = None,
               features_where: Mapping[str, Any] | None = None,
               storage_options: dict[str, str] | None = None) -> LabelQualityResult:
    """Read the inputs (parquet, Delta, an Arrow table or a pandas DataFrame) and :func:`evaluate_labels`.

    ``features_where`` keeps the features' rows whose columns equal these values: a features table that
    holds every day (one row per item and day) is narrowed to the day the labels are about.

    Raises:
        ContractError: the contract has no ``labels`` section.
        DataError: an input cannot be read or is not what the contract says.
    """
    from airflow_provider_parity.delta.storage import redact_uri
    from airflow_provider_parity.validation.sources import load_data

    _policy(contract)
    loaded = load_data(annotations, version=version, storage_options=storage_options)
    ref = None if reference is None else load_data(reference, version=reference_version, storage_options=storage_options)
    feats = None if features is None else load_data(features, version=features_version, storage_options=storage_options)
    features_source = redact_uri(feats.source) if feats else "<features>"
    return evaluate_labels(contract, loaded.table, source=redact_uri(loaded.source), version=loaded.version,
                           reference=ref.table if ref else None,
                           reference_source=redact_uri(ref.source) if ref else "<reference>",
                           features=rows_where(feats.table, features_where or {}, features_source) if feats else None,
                           features_source=features_source)
