"""The approval parts that need no server: the policy's keys, and an answer read as a decision."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from airflow_provider_parity.exceptions import ConfigurationError
from airflow_provider_parity.tracking.approval import from_answer
from airflow_provider_parity.tracking.promotion import PromotionPolicy


def test_the_policy_defaults_to_no_approval_and_checks_its_approval_keys() -> None:
    assert (PromotionPolicy().approval, PromotionPolicy().on_timeout) == ("none", "block")
    policy = PromotionPolicy.from_dict({"approval": "required", "on_timeout": "approve", "approval_timeout": "24h"})
    assert (policy.approval, policy.on_timeout, policy.approval_timeout) == ("required", "approve", "24h")
    for bad, message in (({"approval": "maybe"}, "approval must be 'none' or 'required'"),
                         ({"on_timeout": "retry"}, "on_timeout must be 'block' or 'approve'"),
                         ({"approval_timeout": "soon"}, "approval_timeout: invalid duration 'soon'")):
        with pytest.raises(ConfigurationError, match=message):
            PromotionPolicy.from_dict(bad)


def test_an_answer_names_who_and_why_and_a_timeout_names_nobody() -> None:
    at = datetime(2026, 11, 30, 12, tzinfo=UTC)
    approved = from_answer("Approve", user={"id": "7", "name": "alice"}, reason=" looks right ", at=at,
                           timed_out=False)
    assert (approved.verdict, approved.by, approved.reason, approved.at) == \
        ("approved", "alice", "looks right", "2026-11-30T12:00:00+00:00")
    assert approved.note == "approved by alice: looks right"
    timed_out = from_answer("Reject", user=None, reason="", at=at, timed_out=True)
    assert (timed_out.verdict, timed_out.by, timed_out.reason) == \
        ("rejected", "timeout", "no answer before the approval timeout")
    with pytest.raises(ConfigurationError, match="'Approve' or 'Reject'"):
        from_answer("Maybe", user=None, reason="", at=at, timed_out=False)
