"""Builders that read as a story: facts and decisions for the engine, with or without a store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson

from domain.engine import LedgerView, Recorded, RosterEntry, Statement
from domain.envelope import Envelope, decode_event
from domain.intake import Incoming
from domain.ledger import Ledger
from domain.periods import Period
from domain.plan import Plan, parse_plan
from domain.targets import TargetDecision

PLAN_YAML = """\
id: enterprise-2026
version: 1
currency: USD
target_proration: {proration}
commission:
  tiers:
    - {{up_to: "0.5", rate: "0.04"}}
    - {{up_to: "1.0", rate: "0.08"}}
    - {{rate: "0.12"}}
"""

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def tiers_plan(proration: str = "time_weighted", extra: str = "") -> Plan:
    """The SPEC §9 plan: 4% to 50%, 8% to 100%, 12% above."""
    return parse_plan(PLAN_YAML.format(proration=proration) + extra)


def event(kind: str, event_id: str, time: str, data: dict[str, Any], source: str = "crm") -> dict[str, Any]:
    """A CloudEvent as it arrives on the wire."""
    return {"specversion": "1.0", "id": event_id, "source": source, "type": kind,
            "time": time, "data": data}


def deal(deal_id: str, day: str, amount: str, *credits: tuple[str, str, str],
         product_line: str = "enterprise", at: str = "12:00:00", **extra: Any) -> dict[str, Any]:
    """A deal.closed CloudEvent; credits as (rep, role, split), default alice sole owner."""
    credit_list = [{"rep_id": r, "role": role, "split": s} for r, role, s in credits] or [
        {"rep_id": "alice", "role": "owner", "split": "1"}]
    data = {"deal_id": deal_id, "customer_id": f"C-{deal_id}", "product_line": product_line,
            "amount": amount, "currency": "USD", "credits": credit_list, **extra}
    return event("deal.closed", f"crm-{deal_id}", f"{day}T{at}Z", data)


def delivered(deal_id: str, day: str, event_id: str | None = None) -> dict[str, Any]:
    """A deal.delivered CloudEvent: the enterprise deal went live."""
    return event("deal.delivered", event_id or f"crm-{deal_id}-delivered", f"{day}T15:00:00Z",
                 {"deal_id": deal_id})


def cancelled(deal_id: str, day: str, reason: str = "refund", event_id: str | None = None
              ) -> dict[str, Any]:
    """A deal.cancelled CloudEvent: refund or churn."""
    return event("deal.cancelled", event_id or f"crm-{deal_id}-cancelled", f"{day}T16:00:00Z",
                 {"deal_id": deal_id, "reason": reason})


def renewal(renewal_id: str, day: str, amount: str, *credits: tuple[str, str, str],
            deal_id: str | None = None, term_months: int = 12) -> dict[str, Any]:
    """A renewal.booked CloudEvent; credits as (rep, role, split), default alice sole owner."""
    credit_list = [{"rep_id": r, "role": role, "split": s} for r, role, s in credits] or [
        {"rep_id": "alice", "role": "owner", "split": "1"}]
    data: dict[str, Any] = {"renewal_id": renewal_id, "customer_id": f"C-{renewal_id}",
                            "amount": amount, "currency": "USD", "term_months": term_months,
                            "credits": credit_list}
    if deal_id:
        data["deal_id"] = deal_id
    return event("renewal.booked", f"billing-{renewal_id}", f"{day}T09:00:00Z", data,
                 source="billing")


def complaint(complaint_id: str, day: str, rep_id: str = "alice", deal_id: str | None = None,
              severity: str = "high", category: str = "overpromised") -> dict[str, Any]:
    """A complaint.logged CloudEvent against the accountable rep."""
    data: dict[str, Any] = {"complaint_id": complaint_id, "customer_id": "C-any",
                            "rep_id": rep_id, "severity": severity, "category": category}
    if deal_id:
        data["deal_id"] = deal_id
    return event("complaint.logged", f"support-{complaint_id}", f"{day}T10:00:00Z", data,
                 source="support")


def coaching(session_id: str, day: str, coach_id: str, *rep_ids: str, minutes: int = 60
             ) -> dict[str, Any]:
    """A coaching.session_held CloudEvent: the coach met the coachees for `minutes`."""
    data = {"session_id": session_id, "coach_id": coach_id, "rep_ids": list(rep_ids),
            "topic": "discovery calls", "minutes": minutes}
    return event("coaching.session_held", f"lms-{session_id}", f"{day}T11:00:00Z", data,
                 source="lms")


def roster(rep_id: str, team_id: str, effective_from: str = "2026-07-01") -> dict[str, Any]:
    """A roster.assigned decision: the rep joins the team."""
    data = {"rep_id": rep_id, "team_id": team_id, "effective_from": effective_from}
    return event("roster.assigned", f"roster-{rep_id}-{team_id}-{effective_from}",
                 f"{effective_from}T00:00:00Z", data, source="salesops")


def target(scope: str, value: str, effective_from: str | None = None, period: str = "2026-Q3",
           metric: str = "revenue", event_id: str | None = None) -> dict[str, Any]:
    """A target.set decision."""
    data = {"scope": scope, "metric": metric, "period": period, "value": value,
            "reason": "annual plan", "approved_by": "vp-sales"}
    if effective_from:
        data["effective_from"] = effective_from
    return event("target.set", event_id or f"t-{scope}-{metric}-{effective_from}", "2026-07-01T00:00:00Z",
                 data, source="salesops")


def view_of(period: str, *events: dict[str, Any], known_at: datetime | None = None,
            recorded: list[datetime] | None = None) -> LedgerView:
    """A ledger view holding the events, recorded one second apart in the order given."""
    buckets: dict[str, list[Any]] = {k: [] for k in (
        "deals", "deliveries", "cancellations", "renewals", "complaints", "coaching",
        "targets", "roster")}
    for position, raw in enumerate(events, start=1):
        envelope = decode_event(raw)
        at = recorded[position - 1] if recorded else EPOCH.replace(second=0) + (position * ONE_SECOND)
        _file(buckets, envelope, position, at)
    return LedgerView(period=Period.parse(period), known_at=known_at,
                      **{k: tuple(v) for k, v in buckets.items()})


def recorded_at(position: int) -> datetime:
    """The transaction time `view_of` gives the event at `position` (1-based)."""
    return EPOCH + position * ONE_SECOND


ONE_SECOND = datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC) - EPOCH

_BUCKET = {"deal.closed": "deals", "deal.delivered": "deliveries",
           "deal.cancelled": "cancellations", "renewal.booked": "renewals",
           "complaint.logged": "complaints", "coaching.session_held": "coaching"}


def _file(buckets: dict[str, list[Any]], envelope: Envelope, position: int, at: datetime) -> None:
    payload: Any = envelope.payload
    if envelope.type == "target.set":
        buckets["targets"].append(TargetDecision(
            envelope.id, payload.scope, payload.metric, payload.period, payload.value,
            payload.starts_on, position, payload.reason, payload.approved_by, at))
    elif envelope.type == "roster.assigned":
        buckets["roster"].append(RosterEntry(payload.rep_id, payload.team_id,
                                             payload.effective_from, position, at))
    else:
        buckets[_BUCKET[envelope.type]].append(Recorded(
            envelope.source, envelope.id, envelope.time, at, envelope.content_hash, payload))


def money(text: str) -> Decimal:
    return Decimal(text)


def day(text: str) -> date:
    return date.fromisoformat(text)


def amounts(statement: Statement, kind: str) -> list[Decimal]:
    """The amounts of the statement's lines of one kind, in statement order."""
    return [line.amount for line in statement.lines if line.kind == kind]


def statement_bytes(statement: Statement) -> bytes:
    """The statement JSON exactly as it is stored and compared."""
    return orjson.dumps(statement.to_json(), option=orjson.OPT_SORT_KEYS)


# The ledger application on the in-memory store, and the engine's view of what it recorded.

class Clock:
    """A transaction-time clock the test moves by hand."""

    def __init__(self, now: datetime = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: int = 1) -> datetime:
        """Move time on and return the new now."""
        self.now += timedelta(seconds=seconds)
        return self.now


def in_memory_ledger(clock: Callable[[], datetime] | None = None) -> Ledger:
    """A Ledger on the eventsourcing in-memory (POPO) store."""
    return Ledger({"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock or Clock())


def wire(raw: dict[str, Any]) -> bytes:
    """A CloudEvent as one line of JSON bytes."""
    return orjson.dumps(raw)


def lines_of(*events: dict[str, Any] | bytes | str) -> list[Incoming]:
    """Inbound lines for `Ledger.record_facts`, numbered like the lines of a file."""
    return [Incoming(raw if isinstance(raw, (bytes, str)) else wire(raw), f"batch:{n}")
            for n, raw in enumerate(events, start=1)]


def ledger_view(ledger: Ledger, period: str, known_at: datetime | None = None) -> LedgerView:
    """The engine's view of everything the ledger recorded, in log order."""
    buckets: dict[str, list[Any]] = {k: [] for k in (
        "deals", "deliveries", "cancellations", "renewals", "complaints", "coaching",
        "targets", "roster")}
    for position, recorded in logged(ledger):
        if not (hasattr(recorded, "kind") and hasattr(recorded, "content_hash")):
            continue
        envelope = decode_event(event(recorded.kind, recorded.event_id, recorded.time,
                                      recorded.data, source=recorded.source))
        assert envelope.content_hash == recorded.content_hash
        _file(buckets, envelope, position, recorded.timestamp)
    return LedgerView(period=Period.parse(period), known_at=known_at,
                      **{k: tuple(v) for k, v in buckets.items()})


def logged(ledger: Ledger) -> list[tuple[int, Any]]:
    """Every event in the ledger's log with its position, as domain events."""
    found: list[tuple[int, Any]] = []
    start = 1
    while page := ledger.recorder.select_notifications(start, 500):
        found += [(n.id, ledger.mapper.to_domain_event(n)) for n in page]
        start = page[-1].id + 1
    return found
