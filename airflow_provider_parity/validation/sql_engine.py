"""The contract's rules compiled to SQL and run by DuckDB where the data lives.

One aggregate query computes, in a single scan, the row count, per-column null/NaN/inf
counts and min/max (the pre-flight checks and the report's metrics), the offending count
of every value rule and the distinct keys of every uniqueness rule; only when keys repeat
does a ``GROUP BY`` query count the rows of repeated keys; a ``LIMIT 5`` query per failed
value rule fetches samples. Parquet files
and folders are scanned by DuckDB itself (streaming: memory does not grow with rows),
Arrow tables and Delta tables (through delta-rs's pyarrow dataset, so no DuckDB extension
is downloaded) are scanned in place through DuckDB's Arrow scan.

Semantics are the Arrow engine's (``native.py``), rule by rule: nulls never offend a value
rule and fractions of value rules are over non-null rows; ``regex`` is a search anywhere
in the value (RE2 ``regexp_matches``, as Arrow's ``match_substring_regex``), not a full
match; "duplicates" are all rows whose key occurs more than once (nulls skipped for
``unique``, a null a key value like any other for ``compound_unique``).

The SQL is written in DuckDB's dialect; other databases get it transpiled by sqlglot
(``dialects.py`` says why and what it fixes), which only sources that run elsewhere import.
Identifiers and literals are quoted here (``_ident``/``_literal``); values never reach
the SQL unquoted.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from airflow_provider_parity.contracts.model import Contract, Environment, parse_duration
from airflow_provider_parity.contracts.rules import Rule, compile_rules
from airflow_provider_parity.exceptions import DataError, EngineError
from airflow_provider_parity.validation.native import SAMPLE_SIZE
from airflow_provider_parity.validation.preflight import check_schema, logical_type
from airflow_provider_parity.validation.result import (
    RuleResult,
    ValidationResult,
    describe_unexpected,
    json_safe,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

VALUE_RULES = ("between", "in_set", "regex")
MEMORY_LIMIT = "1GB"
"""DuckDB's memory limit for one validation (its buffers; the process adds about 200 MB)."""


@dataclass
class SqlSource:
    """Data opened for DuckDB: a relation to query, and what the gate reports about it.

    Every query goes through :meth:`first` and :meth:`records`, so a source that runs the SQL
    elsewhere (``pushdown.PushdownSource``: the connection's own database) overrides those two.
    """

    con: duckdb.DuckDBPyConnection | None
    relation: str
    """SQL text usable after ``FROM``."""
    schema: pa.Schema
    source: str
    version: int | None = None
    kind: str = "arrow"
    fingerprint: str | None = None

    @property
    def engine(self) -> str:
        """What runs the SQL, as the result names it."""
        return "duckdb"

    def first(self, query: str) -> tuple[Any, ...] | None:
        """The first row of ``query`` (DuckDB SQL)."""
        assert self.con is not None  # only sources that override this method have no connection
        return self.con.execute(query).fetchone()

    def records(self, query: str) -> list[tuple[Any, ...]]:
        """Every row of ``query`` (DuckDB SQL; the compiler only asks for a few)."""
        assert self.con is not None
        return self.con.execute(query).fetchall()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _connect() -> duckdb.DuckDBPyConnection:
    import duckdb

    # Memory that does not grow with rows: past this, DuckDB spills its hash tables (the distinct
    # keys of a unique rule: about 16 bytes a row) to the temporary folder instead of growing.
    con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT,
                                 "temp_directory": os.path.join(tempfile.gettempdir(), "parity-duckdb-spill")})
    # Timestamps with a zone come back in UTC, as Arrow gives them to the Arrow engine.
    con.execute("SET TimeZone = 'UTC'")
    return con


def from_arrow(table: Any, *, source: str, version: int | None = None, kind: str = "arrow",
               fingerprint: str | None = None) -> SqlSource:
    """A pyarrow Table or Dataset scanned in place (DuckDB's Arrow scan copies nothing up front)."""
    con = _connect()
    con.register("parity_data", table)
    return SqlSource(con, "parity_data", table.schema, source, version, kind, fingerprint)


def _parquet_source(path: str) -> SqlSource:
    import duckdb
    import pyarrow as pa
    import pyarrow.dataset as pads

    try:
        # The schema as pyarrow sees it, so pre-flight judges types exactly as for the other engines;
        # parts whose types disagree are refused, as pyarrow refuses them (only footers are read).
        dataset = pads.dataset(path, format="parquet")
        schema = pa.unify_schemas([dataset.schema] + [f.physical_schema for f in dataset.get_fragments()])
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise DataError(f"cannot read as parquet: {reason}", source=path) from None
    if "://" in path:  # object stores: pyarrow's filesystems, no DuckDB extension download
        return from_arrow(dataset, source=path, kind="parquet")
    con = _connect()
    pattern = os.path.join(path, "**", "*.parquet") if os.path.isdir(path) else path
    relation = f"read_parquet({_quote(pattern)}, union_by_name = true)"
    try:
        con.execute(f"SELECT * FROM {relation} LIMIT 0")
    except duckdb.Error as exc:
        raise DataError(f"cannot read as parquet: {str(exc).splitlines()[0]}", source=path) from None
    return SqlSource(con, relation, schema, os.path.abspath(path), None, "parquet")


def _plain_delta_files(path: str, version: int, storage_options: dict[str, str] | None) -> list[str] | None:
    """The version's data files when they hold exactly the table's rows as plain parquet, else None.

    Plain means: local (object stores go through pyarrow's filesystems), no partition columns (their
    values live in the log, not in the files), no column mapping (files hold physical names), no
    deletion vectors (rows deleted by the log). The file list is the log's (delta-rs), never a folder
    listing, which would include removed files.
    """
    from airflow_provider_parity.delta.snapshot import open_table, uses_column_mapping
    from airflow_provider_parity.delta.storage import normalize_table_uri

    uri = normalize_table_uri(path)
    if "://" in uri and not uri.startswith("file://"):
        return None
    table = open_table(uri, version, storage_options=storage_options)
    if table.metadata().partition_columns or uses_column_mapping(table):
        return None
    if "deletionVectors" in (table.protocol().reader_features or []):
        return None
    return [f.removeprefix("file://") for f in table.file_uris()] or None


def open_source(data: Any, *, version: int | None = None,
                storage_options: dict[str, str] | None = None) -> SqlSource:
    """Open what a gate validates for DuckDB, reading no rows yet.

    Accepts what :func:`~airflow_provider_parity.validation.sources.load_data` accepts;
    paths are scanned where they are instead of being loaded into memory.

    Raises:
        DataError: the path does not exist, cannot be read, or the object is no table.
    """
    from airflow_provider_parity.validation.sources import check_path, is_delta_table, load_data

    if callable(data) and not isinstance(data, (str, os.PathLike)):
        data = data()
    if not isinstance(data, (str, os.PathLike)):
        loaded = load_data(data)
        return from_arrow(loaded.table, source=loaded.source, kind=loaded.kind)
    path = os.fspath(data)
    check_path(path)
    if is_delta_table(path, storage_options):
        from airflow_provider_parity.delta import resolve_snapshot
        from airflow_provider_parity.delta.readers import open_versioned_dataset

        snapshot = resolve_snapshot(path, version=version, storage_options=storage_options)
        dataset, read_version = open_versioned_dataset(path, snapshot.version, storage_options=storage_options)
        files = _plain_delta_files(path, read_version, storage_options)
        if files:  # DuckDB's own parallel parquet scan: several times faster than the Arrow dataset scan
            con = _connect()
            relation = f"read_parquet([{', '.join(_quote(f) for f in files)}], union_by_name = true)"
            return SqlSource(con, relation, dataset.schema, path, read_version, "delta", snapshot.fingerprint)
        return from_arrow(dataset, source=path, version=read_version, kind="delta", fingerprint=snapshot.fingerprint)
    if version is not None:
        raise DataError(f"version {version} was given but this is not a Delta table (no _delta_log)", source=path)
    return _parquet_source(path)


def _literal(value: Any, arrow_type: pa.DataType) -> str:
    """A contract value as a SQL literal of the column's type (dates come as ISO strings)."""
    import pyarrow.types as t

    if value is None:
        return "NULL"
    if t.is_timestamp(arrow_type):
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if arrow_type.tz is None:  # as the Arrow engine: an aware bound is compared in UTC
            moment = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
            return f"TIMESTAMP {_quote(moment.isoformat(sep=' '))}"
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return f"TIMESTAMPTZ {_quote(moment.isoformat(sep=' '))}"
    if t.is_date(arrow_type):
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return f"DATE {_quote(day.isoformat())}"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return _quote(str(value))


def offending_sql(rule: Rule, arrow_type: pa.DataType) -> str:
    """The predicate true for rows that break a value rule; null rows never match it."""
    import pyarrow.types as t

    col, p = _ident(str(rule.column)), rule.params
    value_type = arrow_type.value_type if t.is_dictionary(arrow_type) else arrow_type
    if rule.kind == "between":
        parts = [f"{col} < {_literal(p['min'], value_type)}"] if "min" in p else []
        parts += [f"{col} > {_literal(p['max'], value_type)}"] if "max" in p else []
        return "(" + " OR ".join(parts) + ")"
    if rule.kind == "in_set":
        values = [v for v in p["values"] if v is not None]  # a null value in SQL's IN list would match nothing
        if not values:
            return f"({col} IS NOT NULL)"
        return f"({col} NOT IN ({', '.join(_literal(v, value_type) for v in values)}))"
    if rule.kind == "regex":
        return f"(NOT regexp_matches({col}, {_quote(p['regex'])}))"
    raise ValueError(f"{rule.kind} is not a value rule")


def duplicates_sql(relation: str, columns: list[str], *, skip_nulls: bool) -> str:
    """Rows whose key occurs more than once (every one of them, as the Arrow engine counts)."""
    keys = ", ".join(_ident(c) for c in columns)
    where = f" WHERE {_ident(columns[0])} IS NOT NULL" if skip_nulls else ""
    return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {relation}{where} "
            f"GROUP BY {keys} HAVING count(*) > 1) AS parity_dups")


def orphans_sql(relation: str, column: str, parent: str, parent_column: str, *, select: str = "count(*)") -> str:
    """Child rows whose non-null value the parent lacks: a LEFT JOIN anti-join (dbt's relationships count)."""
    col, key = _ident(column), _ident(parent_column)
    return (f"SELECT {select} FROM {relation} AS child LEFT JOIN (SELECT DISTINCT {key} FROM {parent}) AS parent "
            f"ON child.{col} = parent.{key} WHERE child.{col} IS NOT NULL AND parent.{key} IS NULL")


def _orphans(src: SqlSource, rule: Rule, references: Any) -> tuple[int, list[Any]]:
    """Count and a few values of a ``references`` rule's offending rows; the parent is scanned by DuckDB too."""
    import pyarrow as pa

    from airflow_provider_parity.validation.references import parent_column

    if src.con is None:  # pushed down: the parent dataset is not in the connection's database
        raise EngineError(f"{rule.id}: a references rule is not pushed down to {src.engine}; "
                          "validate this sql= source with engine='arrow' (its rows are fetched)")
    column, key = str(rule.column), str(rule.params["column"])
    parent = f"parity_parent_{rule.params['dataset']}".replace(".", "_").replace("-", "_")
    # DuckDB 2 refuses register() while a result is pending (the scan's fetchone leaves one): finish it first.
    src.con.execute("SELECT 1").fetchall()
    src.con.register(parent, pa.table({key: parent_column(references, rule)}))
    count = src.con.execute(orphans_sql(src.relation, column, parent, key)).fetchall()[0]
    rows = src.con.execute(orphans_sql(src.relation, column, parent, key, select=f"child.{_ident(column)}")
                           + f" LIMIT {SAMPLE_SIZE}").fetchall()
    return int(count[0]), [json_safe(r[0]) for r in rows]


def _count_duplicates(src: SqlSource, columns: list[str], *, skip_nulls: bool) -> int:
    row = src.first(duplicates_sql(src.relation, columns, skip_nulls=skip_nulls))
    return int(row[0]) if row else 0


def _scan(src: SqlSource, contract: Contract, rules: list[Rule],
          environment: Environment | None) -> tuple[dict[str, Any], list[str]]:
    """Everything countable in one pass: row count, per-column metrics, value-rule counts, freshness."""
    types = {f.name: f.type for f in src.schema}
    exprs: dict[str, str] = {"n": "count(*)"}
    names = [c.name for c in contract.columns_for(environment)]
    for i, name in enumerate(names):
        col, kind = _ident(name), logical_type(types[name])
        exprs[f"nn{i}"] = f"count({col})"
        if kind in ("integer", "float"):
            exprs[f"min{i}"], exprs[f"max{i}"] = f"min({col})::DOUBLE", f"max({col})::DOUBLE"
        if kind == "float" and not str(types[name]).startswith("decimal"):
            exprs[f"nan{i}"] = f"count(*) FILTER (WHERE isnan({col}))"
            exprs[f"inf{i}"] = f"count(*) FILTER (WHERE isinf({col}))"
    for j, rule in enumerate(rules):
        if rule.kind in VALUE_RULES and logical_type(types[str(rule.column)]) != "null":
            exprs[f"r{j}"] = f"count(*) FILTER (WHERE {offending_sql(rule, types[str(rule.column)])})"
        elif rule.kind == "freshness":
            exprs[f"r{j}"] = f"max({_ident(str(rule.column))})"
        elif rule.kind == "unique":
            # Distinct keys in the same pass: the GROUP BY that counts duplicate rows runs only when
            # distinct < non-null, which spares clean data a second scan (the common case).
            exprs[f"r{j}"] = f"count(DISTINCT {_ident(str(rule.column))})"
        elif rule.kind == "compound_unique":  # a row value is never null: null keys count as values
            exprs[f"r{j}"] = f"count(DISTINCT row({', '.join(_ident(c) for c in rule.params['columns'])}))"
    query = f"SELECT {', '.join(f'{e} AS {k}' for k, e in exprs.items())} FROM {src.relation}"
    row = src.first(query)
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return dict(zip(exprs, row, strict=True)), names


def _preflight(values: dict[str, Any], names: list[str], source: str) -> dict[str, dict[str, Any]]:
    """``check_values`` of the pre-flight, from the scan's aggregates: same errors, same metrics."""
    n = values["n"]
    if n == 0:
        raise DataError("the dataset is empty (0 rows): nothing to validate", source=source)
    metrics: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        non_null = values[f"nn{i}"]
        if non_null == 0:
            raise DataError(f"column '{name}' is entirely null ({n} rows)", source=source, column=name)
        nans, infs = values.get(f"nan{i}", 0), values.get(f"inf{i}", 0)
        if nans or infs:
            raise DataError(f"column '{name}' holds {nans} NaN and {infs} infinite value(s): "
                            "write missing values as null and fix the division or overflow upstream",
                            source=source, column=name)
        entry: dict[str, Any] = {"nullCount": n - non_null, "count": non_null}
        if f"min{i}" in values:
            entry["min"], entry["max"] = float(values[f"min{i}"]), float(values[f"max{i}"])
        metrics[name] = entry
    return metrics


def _newest(value: Any) -> Any:
    """The freshness column's maximum as an aware datetime (None stays None), as the Arrow engine reads it."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _result(rule: Rule, j: int, src: SqlSource, values: dict[str, Any], names: list[str],
            now: datetime, references: Any = None) -> RuleResult:
    n = values["n"]
    base: dict[str, Any] = {"rule": rule.id, "kind": rule.kind, "column": rule.column, "expected": rule.expected}
    if rule.kind == "row_count":
        lo, hi = rule.params.get("min", 0), rule.params.get("max", float("inf"))
        return RuleResult(**base, success=lo <= n <= hi, observed=f"row count {n}")
    if rule.kind == "freshness":
        newest = _newest(values[f"r{j}"])
        ok = newest is not None and newest >= now - parse_duration(rule.params["max_age"])
        return RuleResult(**base, success=ok, observed=f"newest {newest}")
    if rule.kind == "compound_unique":
        count = 0 if values[f"r{j}"] == n else _count_duplicates(src, rule.params["columns"], skip_nulls=False)
        fraction = count / n if n else 0.0
        return RuleResult(**base, success=count == 0, observed=describe_unexpected(rule.kind, count, fraction, []),
                          unexpected_count=count, unexpected_fraction=fraction)
    column = str(rule.column)
    non_null = values[f"nn{names.index(column)}"]
    if rule.kind in ("not_null", "completeness"):
        count = n - non_null
        fraction = count / n if n else 0.0
        return RuleResult(**base, success=(1.0 - fraction) >= rule.mostly,
                          observed=describe_unexpected(rule.kind, count, fraction, []),
                          unexpected_count=count, unexpected_fraction=fraction)
    if rule.kind == "unique":
        count = 0 if values[f"r{j}"] == non_null else _count_duplicates(src, [column], skip_nulls=True)
        fraction = count / non_null if non_null else 0.0
        return RuleResult(**base, success=count == 0, observed=describe_unexpected(rule.kind, count, fraction, []),
                          unexpected_count=count, unexpected_fraction=fraction)
    count = int(values.get(f"r{j}") or 0)
    sample: list[Any] = []
    if rule.kind == "references":
        count, sample = _orphans(src, rule, references)
    fraction = count / non_null if non_null else 0.0
    if count and not sample:
        arrow_type = src.schema.field(column).type
        rows = src.records(f"SELECT {_ident(column)} FROM {src.relation} "
                           f"WHERE {offending_sql(rule, arrow_type)} LIMIT {SAMPLE_SIZE}")
        sample = [json_safe(r[0]) for r in rows]
    return RuleResult(**base, success=(1.0 - fraction) >= rule.mostly,
                      observed=describe_unexpected(rule.kind, count, fraction, sample),
                      unexpected_count=count, unexpected_fraction=fraction, sample=sample)


def validate_source(contract: Contract, src: SqlSource, *, environment: Environment | None = None,
                    now: datetime | None = None, warn_only: bool = False, references: Any = None) -> ValidationResult:
    """Check ``src`` against ``contract`` in DuckDB (pre-flight included): see ``validate_table``.

    Raises:
        SchemaMismatchError: columns missing, extra (when forbidden) or of the wrong type.
        DataError: empty data, an all-null column, NaN or inf.
    """
    started = time.perf_counter()
    moment = now or datetime.now(UTC)
    check_schema(contract, src.schema, environment=environment, source=src.source)
    rules = compile_rules(contract, environment)
    values, names = _scan(src, contract, rules, environment)
    metrics = _preflight(values, names, src.source)
    results = [_result(rule, j, src, values, names, moment, references) for j, rule in enumerate(rules)]
    return ValidationResult(contract=contract.ref, contract_hash=contract.fingerprint, source=src.source,
                            engine=src.engine, row_count=int(values["n"]), rules=results, version=src.version,
                            environment=environment, column_metrics=metrics,
                            duration_seconds=round(time.perf_counter() - started, 3), warn_only=warn_only)
