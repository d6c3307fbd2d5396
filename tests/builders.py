"""Builders that read as a story: facts and decisions for the engine, without a store."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from domain.engine import LedgerView, Recorded, RosterEntry
from domain.envelope import Envelope, decode_event
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
         product_line: str = "enterprise", **extra: Any) -> dict[str, Any]:
    """A deal.closed CloudEvent; credits as (rep, role, split), default alice sole owner."""
    credit_list = [{"rep_id": r, "role": role, "split": s} for r, role, s in credits] or [
        {"rep_id": "alice", "role": "owner", "split": "1"}]
    data = {"deal_id": deal_id, "customer_id": f"C-{deal_id}", "product_line": product_line,
            "amount": amount, "currency": "USD", "credits": credit_list, **extra}
    return event("deal.closed", f"crm-{deal_id}", f"{day}T12:00:00Z", data)


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
