"""dbt-labs' jaffle_shop_duckdb as a new user meets it: contracts on an existing dbt project.

The project (vendored unchanged under tests/data/) is built as its owners build it, its
catalog generated; then contracts are started from its models (``parity contract import dbt``),
compiled into its own ``schema.yml`` (``parity contract dbt --catalog``) and the project
passes ``parity dbt build`` with no edit to its files. Then the raw data goes bad, one fault per
row: the dbt gate and ``parity validate`` (DuckDB and Great Expectations) block on the same
rules with the same counts. Renaming a column blocks both too.

One module-scoped project and one faulty build keep dbt's slow parse to five invocations.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from airflow_provider_parity.cli import main
from airflow_provider_parity.exceptions import DbtTestFailed

pytestmark = pytest.mark.integration

JAFFLE = Path(__file__).resolve().parents[2] / "data" / "jaffle_shop_duckdb"
AMOUNTS = ("credit_card_amount", "coupon_amount", "bank_transfer_amount", "gift_card_amount", "amount")
# dbt test -> contract rule kind, for comparing the two gates' counts.
RULE_OF_TEST = {"not_null": "not_null", "parity_unique": "unique", "accepted_values": "in_set",
                "parity_between": "between", "relationships": "references"}


class Jaffle:
    """The copied project, run from its own folder (its profile's duckdb path is relative)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.contracts = root.parent / "contracts"

    def parity(self, *args: str) -> int:
        return main(list(args))

    def dbt(self, *args: str) -> None:
        from dbt.cli.main import dbtRunner

        from airflow_provider_parity.transform.dbt_build import _release_duckdb

        try:
            outcome = dbtRunner().invoke([*args, "--project-dir", str(self.root), "--profiles-dir", str(self.root),
                                          "--quiet", "--no-use-colors", "--no-send-anonymous-usage-stats"])
        finally:
            _release_duckdb()
        assert outcome.success, outcome.exception

    def sql(self, *statements: str) -> None:
        import duckdb

        with duckdb.connect(str(self.root / "jaffle_shop.duckdb")) as con:
            for statement in statements:
                con.execute(statement)

    def export(self, table: str, rename: dict[str, str] | None = None) -> str:
        """A model's table as parquet, what ``parity validate`` reads."""
        import duckdb
        import pyarrow.parquet as pq

        with duckdb.connect(str(self.root / "jaffle_shop.duckdb"), read_only=True) as con:
            data = con.sql(f"select * from {table}").to_arrow_table()
        if rename:
            data = data.rename_columns([rename.get(c, c) for c in data.column_names])
        path = self.root.parent / f"{table}.parquet"
        pq.write_table(data, path)
        return str(path)


@pytest.fixture(scope="module")
def jaffle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jaffle]:
    root = tmp_path_factory.mktemp("jaffle") / "jaffle_shop_duckdb"
    shutil.copytree(JAFFLE, root)
    here = Path.cwd()
    os.chdir(root)
    try:
        project = Jaffle(root)
        project.contracts.mkdir()
        project.dbt("build")  # the project as its owners run it, then its catalog
        project.dbt("docs", "generate")
        yield project
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def contracted(jaffle: Jaffle) -> Jaffle:
    """Contracts started from the models, tightened by hand (amounts >= 0), compiled into the project."""
    target = jaffle.root / "target"
    for model in ("orders", "customers"):
        out = jaffle.contracts / f"{model}.yaml"
        assert jaffle.parity("contract", "import", "dbt", model, "--manifest", str(target / "manifest.json"),
                             "--catalog", str(target / "catalog.json"), "--owner", "shop", "--out", str(out)) == 0
    orders = yaml.safe_load((jaffle.contracts / "orders.yaml").read_text())
    for column in orders["columns"]:
        if column["name"] in AMOUNTS:
            column.setdefault("constraints", {})["min"] = 0
    (jaffle.contracts / "orders.yaml").write_text(yaml.safe_dump(orders, sort_keys=False))
    assert jaffle.parity("contract", "dbt", str(jaffle.contracts / "orders.yaml"),
                         str(jaffle.contracts / "customers.yaml"), "--project-dir", str(jaffle.root),
                         "--catalog", str(target / "catalog.json")) == 0
    return jaffle


def test_import_reads_the_models_tests_and_types(contracted: Jaffle) -> None:
    orders = yaml.safe_load((contracted.contracts / "orders.yaml").read_text())
    columns = {c["name"]: c for c in orders["columns"]}
    assert orders["primary_key"] == ["order_id"]
    assert columns["order_id"] == {"name": "order_id", "type": "integer",
                                   "description": "This is a unique identifier for an order",
                                   "constraints": {"unique": True}, "nullable": False, "role": "key"}
    assert columns["customer_id"]["constraints"] == {"references": "customers.customer_id"}
    assert columns["status"]["constraints"]["allowed_values"] == [
        "placed", "shipped", "completed", "return_pending", "returned"]
    assert columns["amount"]["type"] == "float" and columns["amount"]["nullable"] is False


def test_merged_into_the_projects_schema_idempotently(contracted: Jaffle, capsys: pytest.CaptureFixture[str]) -> None:
    schema = contracted.root / "models" / "schema.yml"
    merged = schema.read_text()
    assert not (contracted.root / "models" / "contracts.yml").exists()  # no second resource
    document = yaml.safe_load(merged)
    assert [m["name"] for m in document["models"]] == ["customers", "orders"]
    orders = document["models"][1]
    assert orders["config"]["contract"] == {"enforced": True}
    columns = {c["name"]: c for c in orders["columns"]}
    # The catalog's types: jaffle's ids are INTEGER, not the adapter default bigint.
    assert columns["order_id"]["data_type"] == "integer" and columns["amount"]["data_type"] == "double"
    # The project's docs and tests kept; the contract's added, none twice.
    assert columns["status"]["description"] == '{{ doc("orders_status") }}'
    assert columns["order_id"]["tests"] == ["parity_unique", "not_null"]
    assert columns["customer_id"]["tests"] == ["not_null", {"relationships": {"to": "ref('customers')",
                                                                              "field": "customer_id"}}]
    assert [next(iter(t)) if isinstance(t, dict) else t for t in columns["amount"]["tests"]] == [
        "not_null", "parity_between"]
    # customers documents a column its SQL no longer produces: not enforced, and said so.
    assert "contract" not in document["models"][0]["config"]
    capsys.readouterr()
    target = contracted.root / "target"
    assert contracted.parity("contract", "dbt", str(contracted.contracts / "orders.yaml"),
                             str(contracted.contracts / "customers.yaml"), "--project-dir", str(contracted.root),
                             "--catalog", str(target / "catalog.json")) == 0
    out = capsys.readouterr().out
    assert schema.read_text() == merged and f"{schema}\n" not in out  # the second run wrote nothing
    assert "customers: model contract not enforced: models/schema.yml documents ['total_order_amount']" in out


def test_clean_project_passes_the_dbt_gate_and_validate(contracted: Jaffle, capsys: pytest.CaptureFixture[str]) -> None:
    assert contracted.parity("dbt", "build", "--project-dir", str(contracted.root)) == 0
    assert "tests passed" in capsys.readouterr().out
    orders, customers = contracted.export("orders"), contracted.export("customers")
    assert contracted.parity("validate", "--contract", str(contracted.contracts / "orders.yaml"), "--data", orders,
                             "--reference", f"customers={customers}") == 0


FAULTS = (
    "update raw_orders set id = null where id = 10",  # null key
    "insert into raw_orders select * from raw_orders where id = 20",  # duplicate key
    "update raw_payments set amount = -amount where order_id = 30",  # negative amount
    "update raw_orders set status = 'lost' where id = 40",  # unknown status
    "update raw_orders set user_id = 9999 where id = 50",  # an order of no customer
)


def _validate_counts(jaffle: Jaffle, engine: str, orders: str, customers: str) -> dict[tuple[str, str], int]:
    from airflow_provider_parity.contracts.loader import load_contract
    from airflow_provider_parity.validation.validate import open_data, validate_data

    contract = load_contract(jaffle.contracts / "orders.yaml")
    result = validate_data(contract, open_data(orders, engine=engine), engine=engine,  # type: ignore[arg-type]
                           references={"customers": customers})
    return {(r.kind, str(r.column)): int(r.unexpected_count or 0) for r in result.rules if not r.success}


def test_faults_blocked_by_both_gates_with_the_same_counts(contracted: Jaffle) -> None:
    from airflow_provider_parity.commands.dbt import failure_lines
    from airflow_provider_parity.transform.dbt_build import run_dbt_build

    contracted.sql(*FAULTS)
    with pytest.raises(DbtTestFailed) as blocked:
        run_dbt_build(contracted.root, select="orders")
    failed = [n for n in blocked.value.result.nodes if n.status == "fail" and n.model == "orders"]
    dbt_counts = {(RULE_OF_TEST[str(n.test)], str(n.column)): int(n.failures or 0) for n in failed}
    assert dbt_counts[("not_null", "order_id")] == 1
    assert dbt_counts[("unique", "order_id")] == 2  # both rows sharing the key: the one meaning of duplicates
    assert dbt_counts[("between", "amount")] == 1
    assert dbt_counts[("in_set", "status")] == 1
    assert dbt_counts[("references", "customer_id")] == 1
    lines = failure_lines(blocked.value)
    assert "FAIL parity_unique on orders.order_id: 2 duplicated values, e.g. ['20'] (expected each value once)" in lines
    assert ("FAIL relationships on orders.customer_id: 1 rows without a match in ref('customers').customer_id, "
            "e.g. ['9999'] (expected 0)") in lines

    # The table dbt built from the bad raw data (dbt builds the model before testing it).
    orders, customers = contracted.export("orders"), contracted.export("customers")
    for engine in ("duckdb", "gx"):
        assert _validate_counts(contracted, engine, orders, customers) == dbt_counts, engine


def test_renamed_column_blocks_both(contracted: Jaffle, capsys: pytest.CaptureFixture[str]) -> None:
    model = contracted.root / "models" / "orders.sql"
    model.write_text(model.read_text().replace("orders.status,", "orders.status as order_status,"))
    capsys.readouterr()
    assert contracted.parity("dbt", "build", "--project-dir", str(contracted.root), "--select", "orders") == 1
    err = capsys.readouterr().err
    assert "model contract mismatch" in err and "status" in err, err
    renamed = contracted.export("orders", rename={"status": "order_status"})
    assert contracted.parity("validate", "--contract", str(contracted.contracts / "orders.yaml"),
                             "--data", renamed) == 2
    assert "status" in capsys.readouterr().err
