"""The topic contract: which event types travel on which topic, all names under one prefix."""

from __future__ import annotations

from dataclasses import dataclass

from domain.envelope import PAYLOAD_TYPES

TOPIC_FOR_TYPE: dict[str, str] = {
    "deal.closed": "deals",
    "deal.delivered": "deals",
    "deal.cancelled": "deals",
    "renewal.booked": "renewals",
    "complaint.logged": "complaints",
    "coaching.session_held": "coaching",
    "target.set": "decisions",
    "roster.assigned": "decisions",
}
INBOUND = ("deals", "renewals", "complaints", "coaching", "decisions")
assert set(TOPIC_FOR_TYPE) == set(PAYLOAD_TYPES)


@dataclass(frozen=True)
class Topics:
    """Topic names: `perf.deals` … `perf.decisions` in, `perf.rejects` and `perf.score-updates` out."""

    prefix: str = "perf."

    @property
    def inbound(self) -> tuple[str, ...]:
        """The fact and decision topics the worker consumes."""
        return tuple(self.prefix + name for name in INBOUND)

    @property
    def rejects(self) -> str:
        """Where rejected input goes, original bytes and reason in headers."""
        return self.prefix + "rejects"

    @property
    def score_updates(self) -> str:
        """The compacted topic of score updates, keyed `rep_id|period`."""
        return self.prefix + "score-updates"

    def for_type(self, kind: str) -> str | None:
        """The inbound topic that carries events of this type, if the type is known."""
        name = TOPIC_FOR_TYPE.get(kind)
        return self.prefix + name if name else None

    def routing_key(self, event: dict[str, object]) -> bytes | None:
        """The message key: the deal for deal lifecycles (so they stay in order), else the id."""
        data = event.get("data")
        deal = data.get("deal_id") if isinstance(data, dict) else None
        key = deal or event.get("id")
        return str(key).encode() if key is not None else None
