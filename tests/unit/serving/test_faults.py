"""The incidents ``parity serve --fault`` injects: parsing, and which entities they touch."""

from __future__ import annotations

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.serving.faults import Rounding, in_share, parse_fault


def test_rounding_touches_a_stable_share_of_entities_and_only_its_feature() -> None:
    ids = [f"C{i:06d}" for i in range(2000)]
    rows = [{"avg_ticket_30d": 10.5 + i % 2, "orders_30d": 3} for i in range(2000)] + [None, {"avg_ticket_30d": None}]
    entities = [(c,) for c in [*ids, "C424242", "C000000"]]
    served = parse_fault("round:avg_ticket_30d:0.02").apply_rows(entities, rows, ["customer_id"])
    rounded = {c for (c,), before, after in zip(entities, rows, served, strict=True) if before != after}
    assert rounded == {c for c in ids if in_share(c, 0.02)} and 20 <= len(rounded) <= 60  # about 2%
    for (c,), before, after in zip(entities, rows, served, strict=True):
        if c in rounded:  # half to even, as Arrow's round: 10.5 -> 10.0, 11.5 -> 12.0
            assert after == {"avg_ticket_30d": {10.5: 10.0, 11.5: 12.0}[before["avg_ticket_30d"]], "orders_30d": 3}
    assert served[-2:] == [None, {"avg_ticket_30d": None}] and rows[0] == {"avg_ticket_30d": 10.5, "orders_30d": 3}
    assert Rounding("avg_ticket_30d", 0.02).hits(ids) == rounded  # the same customers in every process


@pytest.mark.parametrize("text", ["round:avg_ticket_30d", "round:avg_ticket_30d:0", "round:avg_ticket_30d:1.5",
                                  "scale:avg_ticket_30d:0.1", "round::0.1", "round:avg_ticket_30d:two"])
def test_a_malformed_fault_is_one_line_of_bad_input(text: str) -> None:
    with pytest.raises(ConfigurationError, match="expected round:FEATURE:SHARE"):
        parse_fault(text)


def test_a_fault_on_a_column_that_is_not_served_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="'ticket' is not a served feature"):
        parse_fault("round:ticket:0.1", ["avg_ticket_30d", "plan"])
