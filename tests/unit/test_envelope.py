"""The CloudEvents envelope (SPEC §2): what is accepted, and rejections that name the field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.envelope import decode_event
from domain.errors import InvalidInput
from domain.facts import DealClosed
from tests.builders import deal, event, renewal, target, wire


def refusal(raw: bytes | str | dict[str, Any]) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        decode_event(raw)
    return refused.value


def test_the_spec_example_deal_is_accepted_with_exact_decimal_money() -> None:
    raw = (b'{"specversion": "1.0", "id": "crm-88213", "source": "crm", "type": "deal.closed",'
           b' "time": "2026-07-10T14:03:00Z", "data": {"deal_id": "D1", "customer_id": "C9",'
           b' "product_line": "enterprise", "amount": "80000.00", "currency": "USD",'
           b' "new_customer": true, "credits": [{"rep_id": "alice", "role": "owner", "split": "1"}]}}')

    envelope = decode_event(raw)

    assert envelope.key == "crm/crm-88213"
    assert envelope.time == datetime(2026, 7, 10, 14, 3, tzinfo=UTC)
    assert isinstance(envelope.payload, DealClosed)
    assert envelope.payload.amount == Decimal("80000.00")
    assert envelope.payload.owner == "alice"
    assert envelope.payload.units == 0  # default


def test_the_content_hash_depends_on_content_not_on_key_order_or_spacing() -> None:
    raw = deal("D1", "2026-07-10", "80000.00")
    reordered = dict(reversed(list(raw.items())))
    changed = deal("D1", "2026-07-10", "80000.01")

    assert decode_event(wire(raw)).content_hash == decode_event(wire(reordered)).content_hash
    assert decode_event(raw).content_hash != decode_event(changed).content_hash


def test_bad_json_is_refused_naming_json() -> None:
    reason = refusal(b'{"specversion": "1.0", "id": ')

    assert reason.field == "json"
    assert "not valid JSON" in reason.message


def test_a_json_value_that_is_not_an_object_is_refused() -> None:
    assert refusal(b"[1, 2]").field == "event"


def test_an_unknown_type_is_refused_naming_type() -> None:
    reason = refusal(event("deal.reopened", "x1", "2026-07-10T12:00:00Z", {"deal_id": "D1"}))

    assert reason.field == "type"
    assert "deal.reopened" in reason.message


def test_a_missing_envelope_field_is_refused_naming_it() -> None:
    raw = deal("D1", "2026-07-10", "80000.00")
    del raw["source"]

    reason = refusal(raw)

    assert (reason.field, reason.message) == ("source", "is required")


def test_a_missing_data_field_is_refused_naming_it_under_data() -> None:
    raw = deal("D1", "2026-07-10", "80000.00")
    del raw["data"]["customer_id"]

    reason = refusal(raw)

    assert (reason.field, reason.message) == ("data.customer_id", "is required")


def test_a_negative_amount_is_refused_naming_data_amount() -> None:
    reason = refusal(deal("D1", "2026-07-10", "-5.00"))

    assert reason.field == "data.amount"
    assert "negative" in reason.message


def test_a_float_amount_is_refused_money_is_a_decimal_string() -> None:
    raw = deal("D1", "2026-07-10", "0")
    raw["data"]["amount"] = 80000.5

    reason = refusal(wire(raw))

    assert reason.field == "data.amount"
    assert "never a float" in reason.message


def test_an_amount_that_is_not_a_number_is_refused() -> None:
    assert refusal(deal("D1", "2026-07-10", "eighty")).field == "data.amount"
    assert refusal(deal("D1", "2026-07-10", "NaN")).field == "data.amount"


def test_splits_summing_to_0_9_are_refused_naming_credits_and_saying_0_9() -> None:
    raw = deal("D4", "2026-07-20", "100000.00",
               ("alice", "owner", "0.6"), ("bob", "presales", "0.2"), ("carol", "aftersales", "0.1"))

    reason = refusal(raw)

    assert reason.field == "data.credits"
    assert "0.9" in reason.message
    assert "must be 1" in reason.message


def test_splits_summing_to_more_than_1_are_refused() -> None:
    raw = deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.6"), ("bob", "presales", "0.5"))

    assert refusal(raw).field == "data.credits"


def test_two_owners_are_refused_naming_credits() -> None:
    raw = deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.5"), ("bob", "owner", "0.5"))

    reason = refusal(raw)

    assert reason.field == "data.credits"
    assert "exactly one owner" in reason.message


def test_no_owner_is_refused_naming_credits() -> None:
    raw = deal("D4", "2026-07-20", "100000.00", ("alice", "presales", "0.5"), ("bob", "partner", "0.5"))

    assert refusal(raw).field == "data.credits"


def test_a_split_of_zero_is_refused_naming_that_split() -> None:
    raw = deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "1"), ("bob", "presales", "0"))

    reason = refusal(raw)

    assert reason.field == "data.credits.1.split"


def test_the_same_rep_twice_in_the_credits_is_refused() -> None:
    raw = deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.5"), ("alice", "presales", "0.5"))

    assert refusal(raw).field == "data.credits"


def test_an_unknown_role_is_refused_naming_it() -> None:
    raw = deal("D4", "2026-07-20", "100000.00", ("alice", "closer", "1"))

    assert refusal(raw).field == "data.credits.0.role"


def test_a_split_credit_of_0_6_0_3_0_1_is_accepted() -> None:
    raw = deal("D4", "2026-07-20", "100000.00",
               ("alice", "owner", "0.6"), ("bob", "presales", "0.3"), ("carol", "aftersales", "0.1"))

    payload = decode_event(raw).payload

    assert isinstance(payload, DealClosed)
    assert [payload.split_of(rep) for rep in ("alice", "bob", "carol", "dave")] == [
        Decimal("0.6"), Decimal("0.3"), Decimal("0.1"), Decimal(0)]


def test_a_time_without_a_time_zone_is_refused_naming_time() -> None:
    raw = deal("D1", "2026-07-10", "80000.00")
    raw["time"] = "2026-07-10T14:03:00"

    reason = refusal(raw)

    assert reason.field == "time"
    assert "UTC offset" in reason.message


def test_a_time_with_another_offset_is_kept_as_the_same_instant_in_utc() -> None:
    raw = deal("D1", "2026-07-10", "80000.00")
    raw["time"] = "2026-07-10T16:03:00+02:00"

    envelope = decode_event(raw)

    assert envelope.time == datetime(2026, 7, 10, 14, 3, tzinfo=UTC)
    assert envelope.time.utcoffset() is not None
    assert envelope.time.tzinfo == UTC


def test_units_on_an_enterprise_deal_are_refused() -> None:
    reason = refusal(deal("D1", "2026-07-10", "80000.00", units=300))

    assert "units" in str(reason)


def test_a_currency_that_is_not_an_iso_code_is_refused_naming_currency() -> None:
    assert refusal(deal("D1", "2026-07-10", "80000.00", currency="usd")).field == "data.currency"


def test_an_unknown_data_field_is_refused_naming_it() -> None:
    assert refusal(deal("D1", "2026-07-10", "80000.00", discount="0.1")).field == "data.discount"


def test_a_wrong_specversion_is_refused_naming_it() -> None:
    raw = deal("D1", "2026-07-10", "80000.00")
    raw["specversion"] = "0.3"

    assert refusal(raw).field == "specversion"


def test_a_renewal_needs_a_positive_term() -> None:
    raw = renewal("R1", "2026-07-10", "12000.00", term_months=0)

    assert refusal(raw).field == "data.term_months"


def test_a_target_with_an_unknown_scope_or_period_is_refused_naming_it() -> None:
    assert refusal(target("region:emea", "1000.00")).field == "data.scope"
    assert refusal(target("rep:alice", "1000.00", period="2026-Q9")).field == "data.period"
    assert refusal(target("rep:alice", "1000.00", metric="calls")).field == "data.metric"


def test_a_target_without_effective_from_starts_on_the_periods_first_day() -> None:
    payload: Any = decode_event(target("rep:alice", "200000.00")).payload

    assert str(payload.starts_on) == "2026-07-01"


def test_coaching_needs_positive_minutes_and_at_least_one_coachee() -> None:
    session = event("coaching.session_held", "s1", "2026-07-10T12:00:00Z",
                    {"session_id": "s1", "coach_id": "mia", "rep_ids": ["alice"],
                     "topic": "demos", "minutes": 0})
    assert refusal(session).field == "data.minutes"

    session["data"] |= {"minutes": 30, "rep_ids": []}
    assert refusal(session).field == "data.rep_ids"
