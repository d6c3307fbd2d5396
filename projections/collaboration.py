"""Collaboration credit: who helped whom win what. One edge per helper on a deal someone else owns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from domain.money import money_text
from domain.periods import Period, periods_of
from projections.runner import Logged
from projections.tables import append_rows, collaboration_edges, facts


class CollaborationProjection:
    """Writes an edge (helper → owner, deal, role, credited amount) for every shared deal."""

    name = "collaboration"
    tables: tuple[Table, ...] = (collaboration_edges,)

    def process(self, conn: Connection, events: Sequence[Logged]) -> None:
        """Insert the edges of each shared deal in the page."""
        rows = []
        for logged in events:
            event = logged.event
            if getattr(event, "kind", None) != "deal.closed" or len(event.data["credits"]) < 2:
                continue
            data = event.data
            quarter, month = periods_of(date.fromisoformat(event.time[:10]))
            owner = next(c["rep_id"] for c in data["credits"] if c["role"] == "owner")
            rows += [{"position": logged.position, "deal_id": data["deal_id"],
                      "quarter": quarter.name, "month": month.name, "owner_id": owner,
                      "helper_id": credit["rep_id"], "role": credit["role"],
                      "credited": str(Decimal(data["amount"]) * Decimal(credit["split"]))}
                     for credit in data["credits"] if credit["role"] != "owner"]
        append_rows(conn, collaboration_edges, rows)

    def settle(self, engine: Engine) -> None:
        """Nothing deferred."""


@dataclass
class RepCollaboration:
    """A rep's collaboration in a period: credit on deals others own, and deals shared."""

    rep_id: str
    credit_on_others_deals: Decimal = Decimal(0)
    deals_helped: set[str] = field(default_factory=set)
    deals_shared: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """The rep's figures as JSON."""
        return {"rep_id": self.rep_id,
                "credit_on_others_deals": money_text(self.credit_on_others_deals),
                "deals_helped": len(self.deals_helped), "deals_shared": len(self.deals_shared)}


def collaboration(conn: Connection, period: Period, known_at: datetime | None = None
                  ) -> dict[str, Any]:
    """Per rep collaboration credit and the who-with-whom edges of a period (as known at
    `known_at` when given); deals cancelled since are left out."""
    column = collaboration_edges.c.quarter if period.is_quarter else collaboration_edges.c.month
    cancelled = select(facts.c.deal_id).where(facts.c.type == "deal.cancelled")
    query = select(collaboration_edges).where(column == period.name)
    if known_at is not None:
        moment = known_at.isoformat(timespec="microseconds")
        cancelled = cancelled.where(facts.c.recorded_at <= moment)
        query = query.where(collaboration_edges.c.position.in_(
            select(facts.c.position).where(facts.c.recorded_at <= moment)))
    query = query.where(collaboration_edges.c.deal_id.not_in(cancelled)).order_by(
        collaboration_edges.c.position, collaboration_edges.c.helper_id)
    reps: dict[str, RepCollaboration] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"deals": 0, "credited": Decimal(0)})
    for row in conn.execute(query):
        helper = reps.setdefault(row.helper_id, RepCollaboration(row.helper_id))
        owner = reps.setdefault(row.owner_id, RepCollaboration(row.owner_id))
        helper.credit_on_others_deals += Decimal(row.credited)
        helper.deals_helped.add(row.deal_id)
        helper.deals_shared.add(row.deal_id)
        owner.deals_shared.add(row.deal_id)
        edge = edges[(row.helper_id, row.owner_id)]
        edge["deals"] += 1
        edge["credited"] += Decimal(row.credited)
    ranked = sorted(reps.values(), key=lambda r: (-r.credit_on_others_deals, r.rep_id))
    return {
        "period": period.name,
        "reps": [rep.to_json() for rep in ranked],
        "edges": [{"helper_id": helper, "owner_id": owner, "deals": edge["deals"],
                   "credited": money_text(edge["credited"])}
                  for (helper, owner), edge in sorted(
                      edges.items(), key=lambda item: (-item[1]["credited"], item[0]))],
    }
