"""The Ledger application on the in-memory store: what a batch records, drops and rejects."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from domain.aggregates import Deal, Rejection, deal_id_of, rejection_id
from domain.intake import IngestReport
from domain.ledger import Ledger
from tests.builders import (
    Clock,
    cancelled,
    deal,
    delivered,
    in_memory_ledger,
    lines_of,
    logged,
    renewal,
    target,
    wire,
)

EUR_PLAN = """\
id: europe-2026
version: 1
currency: EUR
commission:
  tiers:
    - {rate: "0.05"}
"""
USD_PLAN = EUR_PLAN.replace("europe-2026", "usa-2026").replace("EUR", "USD")


def record(ledger: Ledger, *events: dict[str, Any] | bytes | str) -> IngestReport:
    return ledger.record_facts(lines_of(*events))


def stored_deal(ledger: Ledger, deal_id: str) -> Deal:
    found = ledger.repository.get(deal_id_of(deal_id))
    assert isinstance(found, Deal)
    return found


def stored_rejection(ledger: Ledger, raw: str) -> Rejection:
    found = ledger.repository.get(rejection_id(hashlib.sha256(raw.encode()).hexdigest()))
    assert isinstance(found, Rejection)
    return found


def reasons(report: IngestReport) -> list[str]:
    return [rejected.reason for rejected in report.rejected]


def log_size(ledger: Ledger) -> int:
    return len(logged(ledger))


def test_a_valid_fact_is_accepted_and_recorded_at_the_ledgers_clock() -> None:
    clock = Clock()
    ledger = in_memory_ledger(clock)

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"),
                    target("rep:alice", "200000.00", event_id="t1"))

    assert report.accepted == ["crm/crm-D1", "salesops/t1"]
    assert (report.duplicates, report.rejected) == (0, [])
    d1 = stored_deal(ledger, "D1")
    assert (d1.key, d1.data["amount"], d1.time) == ("crm/crm-D1", "80000.00", "2026-07-10T12:00:00Z")
    assert d1.created_on == clock.now  # transaction time, kept next to business time


def test_the_same_fact_again_is_a_duplicate_counted_and_dropped() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"))
    size = log_size(ledger)

    again = record(ledger, deal("D1", "2026-07-10", "80000.00"))

    assert (again.accepted, again.duplicates, again.rejected) == ([], 1, [])
    assert log_size(ledger) == size


def test_a_duplicate_within_one_batch_is_dropped_too() -> None:
    ledger = in_memory_ledger()

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"), deal("D1", "2026-07-10", "80000.00"))

    assert (report.accepted, report.duplicates) == (["crm/crm-D1"], 1)


def test_the_same_key_with_different_content_is_a_conflict_rejected_and_never_applied() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"))

    report = record(ledger, deal("D1", "2026-07-10", "95000.00"))

    assert report.accepted == []
    assert reasons(report) == ["id: crm/crm-D1 was already recorded with different content"]
    assert stored_deal(ledger, "D1").data["amount"] == "80000.00"


def test_the_same_key_reused_for_another_deal_is_a_conflict() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"))
    reused = deal("D2", "2026-07-11", "50000.00")
    reused["id"] = "crm-D1"

    report = record(ledger, reused)

    assert report.accepted == []
    assert reasons(report) == ["id: crm/crm-D1 was already recorded with different content"]


def test_the_same_key_reused_for_another_kind_of_fact_is_a_conflict() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"), cancelled("D1", "2026-07-20", event_id="x1"))
    as_renewal = renewal("R1", "2026-07-12", "1000.00")
    as_renewal |= {"source": "crm", "id": "crm-D1"}

    report = record(ledger, as_renewal, delivered("D1", "2026-07-21", event_id="x1"))

    assert report.accepted == []
    assert reasons(report) == ["id: crm/crm-D1 was already recorded with different content",
                               "id: crm/x1 was already recorded with different content"]
    assert "deal.delivered" not in stored_deal(ledger, "D1").lifecycle


def test_a_second_deal_closed_for_the_same_deal_id_is_rejected_naming_deal_id() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"))
    other = deal("D1", "2026-07-10", "80000.00")
    other["id"] = "crm-88213"

    report = record(ledger, other)

    assert reasons(report) == ["data.deal_id: deal D1 was already closed by crm/crm-D1"]


def test_a_lifecycle_event_for_an_unknown_deal_is_rejected_naming_deal_id() -> None:
    ledger = in_memory_ledger()

    report = record(ledger, delivered("D9", "2026-08-01"), cancelled("D9", "2026-08-02"))

    assert report.accepted == []
    assert [r.split(":")[0] for r in reasons(report)] == ["data.deal_id", "data.deal_id"]
    assert "unknown deal D9" in reasons(report)[0]


def test_a_lifecycle_event_after_its_deal_in_the_same_batch_is_accepted() -> None:
    ledger = in_memory_ledger()

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"), delivered("D1", "2026-08-01"))

    assert report.accepted == ["crm/crm-D1", "crm/crm-D1-delivered"]
    assert set(stored_deal(ledger, "D1").lifecycle) == {"deal.delivered"}


def test_a_deal_can_be_delivered_and_cancelled_but_cancelled_only_once() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"), delivered("D1", "2026-08-01"),
           cancelled("D1", "2026-09-01", reason="churn", event_id="c1"))

    again = record(ledger, cancelled("D1", "2026-09-01", reason="churn", event_id="c1"))
    second = record(ledger, cancelled("D1", "2026-09-05", reason="refund", event_id="c2"))

    assert (again.accepted, again.duplicates, again.rejected) == ([], 1, [])
    assert reasons(second) == ["data.deal_id: deal D1 already has deal.cancelled crm/c1"]
    assert stored_deal(ledger, "D1").lifecycle["deal.cancelled"][0] == "crm/c1"


def test_a_cancellation_with_a_known_key_but_other_content_is_a_conflict() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"), cancelled("D1", "2026-09-01", event_id="c1"))

    report = record(ledger, cancelled("D1", "2026-09-01", reason="churn", event_id="c1"))

    assert reasons(report) == ["id: crm/c1 was already recorded with different content"]


def test_money_in_another_currency_than_the_published_plan_is_rejected_naming_currency() -> None:
    ledger = in_memory_ledger()
    ledger.publish_plan(EUR_PLAN)

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"),
                    deal("D2", "2026-07-10", "80000.00", currency="EUR"))

    assert report.accepted == ["crm/crm-D2"]
    assert reasons(report) == ["data.currency: USD does not match the plan currency EUR"]


def test_the_currency_of_the_plan_adopted_for_the_period_decides() -> None:
    ledger = in_memory_ledger()
    ledger.publish_plan(EUR_PLAN)
    ledger.publish_plan(USD_PLAN)
    ledger.adopt_plan("2026-Q3", "europe-2026@1")

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"),
                    deal("D4", "2026-10-10", "80000.00"))

    assert report.accepted == ["crm/crm-D4"]   # Q4 falls back to the latest plan, in USD
    assert reasons(report) == ["data.currency: USD does not match the plan currency EUR"]


def test_without_any_plan_usd_is_expected() -> None:
    ledger = in_memory_ledger()

    report = record(ledger, deal("D1", "2026-07-10", "80000.00", currency="EUR"))

    assert reasons(report) == ["data.currency: EUR does not match the plan currency USD"]


def test_a_rejected_line_is_kept_verbatim_with_its_reason_and_origin() -> None:
    ledger = in_memory_ledger()
    raw = '{"specversion": "1.0", "id": '

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"), raw)

    assert report.accepted == ["crm/crm-D1"]
    [rejected] = report.rejected
    assert (rejected.raw, rejected.origin) == (raw, "batch:2")
    assert rejected.reason.startswith("json: not valid JSON")
    kept = stored_rejection(ledger, raw)
    assert (kept.raw, kept.reason, kept.origin) == (raw, rejected.reason, "batch:2")


def test_every_kind_of_invalid_line_is_kept_with_a_reason_naming_the_field() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"))
    splits = deal("D2", "2026-07-10", "100.00", ("alice", "owner", "0.6"), ("bob", "presales", "0.3"))
    lines = [wire(splits).decode(), wire(deal("D3", "2026-07-10", "-1.00")).decode(),
             wire(cancelled("D7", "2026-07-20")).decode()]

    report = record(ledger, *lines)

    assert [r.split(":")[0] for r in reasons(report)] == ["data.credits", "data.amount", "data.deal_id"]
    assert "0.9" in reasons(report)[0]
    for line, reason in zip(lines, reasons(report), strict=True):
        assert stored_rejection(ledger, line).reason == reason


def test_the_same_batch_twice_records_nothing_the_second_time() -> None:
    clock = Clock()
    ledger = in_memory_ledger(clock)
    batch = (deal("D1", "2026-07-10", "80000.00"), target("rep:alice", "200000.00"),
             delivered("D1", "2026-08-01"), renewal("R1", "2026-07-12", "1000.00"), "not json")
    first = record(ledger, *batch)
    size = log_size(ledger)
    clock.tick()

    second = record(ledger, *batch)

    assert len(first.accepted) == 4
    assert (second.accepted, second.duplicates) == ([], 4)
    assert reasons(second) == reasons(first)  # the bad line is reported again...
    assert log_size(ledger) == size            # ...but kept only once


class RacingClock(Clock):
    """A clock that lets another writer record its batch just as ours starts."""

    def __init__(self) -> None:
        super().__init__()
        self.rival: Any = None

    def __call__(self) -> Any:
        rival, self.rival = self.rival, None
        if rival is not None:
            rival()
        return self.now


def test_a_batch_that_collides_with_another_writer_is_never_half_applied() -> None:
    # Another writer records D1 between our classification and our save: our first attempt
    # (D1 and D2) is refused as a whole, and the batch is classified again against the store.
    clock = RacingClock()
    ledger = in_memory_ledger(clock)
    clock.rival = lambda: record(ledger, deal("D1", "2026-07-10", "80000.00"))

    report = record(ledger, deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-07-11", "5000.00"))

    assert (report.accepted, report.duplicates) == (["crm/crm-D2"], 1)
    kinds = [type(event).__qualname__ for _, event in logged(ledger)
             if type(event).__qualname__.startswith("Deal.")]
    assert kinds == ["Deal.Closed", "Deal.Closed"]  # D1 once (the rival's), D2 once
    assert stored_deal(ledger, "D2").data["amount"] == "5000.00"


def test_a_conflict_found_on_the_second_attempt_is_rejected_and_the_rest_applied() -> None:
    clock = RacingClock()
    ledger = in_memory_ledger(clock)
    clock.rival = lambda: record(ledger, deal("D1", "2026-07-10", "80000.00"))

    report = record(ledger, deal("D1", "2026-07-10", "99999.00"), deal("D2", "2026-07-11", "5000.00"))

    assert report.accepted == ["crm/crm-D2"]
    assert reasons(report) == ["id: crm/crm-D1 was already recorded with different content"]
    assert stored_deal(ledger, "D1").data["amount"] == "80000.00"


def test_a_later_batch_takes_its_deals_from_what_this_ledger_committed() -> None:
    ledger = in_memory_ledger()
    record(ledger, deal("D1", "2026-07-10", "80000.00"))
    read: list[Any] = []
    find = ledger._find
    ledger._find = lambda aggregate_id: read.append(aggregate_id) or find(aggregate_id)  # type: ignore[method-assign]

    report = record(ledger, delivered("D1", "2026-08-01"), cancelled("D1", "2026-09-01"))

    assert len(report.accepted) == 2
    assert deal_id_of("D1") not in read
    assert stored_deal(ledger, "D1").version == 3


def test_a_deal_another_writer_appended_to_is_classified_against_the_store(
        tmp_path: Path) -> None:
    """What this ledger keeps of its deals may be behind another writer's appends: the
    append then collides with the deal's version, and the batch is classified again."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "store.db")}
    ours, theirs = Ledger(env, clock=Clock()), Ledger(env, clock=Clock())
    try:
        record(ours, deal("D1", "2026-07-10", "80000.00"))
        record(theirs, delivered("D1", "2026-08-01", "d-1"))

        again = record(ours, delivered("D1", "2026-08-01", "d-1"))
        other = record(ours, delivered("D1", "2026-08-02", "d-2"))
        cancel = record(ours, cancelled("D1", "2026-09-01", event_id="c-1"))

        assert (again.accepted, again.duplicates, again.rejected) == ([], 1, [])
        assert reasons(other) == ["data.deal_id: deal D1 already has deal.delivered crm/d-1"]
        assert cancel.accepted == ["crm/c-1"]
        found = stored_deal(ours, "D1")
        assert found.version == 3
        assert {kind: key for kind, (key, _) in found.lifecycle.items()} == {
            "deal.delivered": "crm/d-1", "deal.cancelled": "crm/c-1"}
    finally:
        ours.close()
        theirs.close()
