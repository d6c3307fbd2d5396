"""Statements: the lines of a rep's commission for a period, each with its provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from domain.money import decimal_text, money_text, to_ratio
from domain.targets import EffectiveTarget

# Lines without a source event come after the others, in this order.
CLOSING_KINDS = ("team_bonus", "scorecard_bonus", "cap", "adjustment")
NO_TIME = datetime.min.replace(tzinfo=UTC)  # what closing lines sort by in place of a time


@dataclass(frozen=True)
class Line:
    """One statement line: what it pays, and the event, deal, tier, rate and base it came from."""

    kind: str
    amount: Decimal
    base: Decimal
    rate: Decimal
    event_id: str | None = None
    source: str | None = None
    deal_id: str | None = None
    tier: int | None = None
    time: datetime | None = None
    reference: str | None = None

    def sort_key(self) -> tuple[int, datetime, str, int]:
        """Lines are ordered by (time, event id, tier); lines without a business time close the
        list: team bonus, scorecard bonus, cap, then adjustments of earlier periods."""
        if self.time is None:
            return (1 + CLOSING_KINDS.index(self.kind), NO_TIME, self.event_id or "", 0)
        return (0, self.time, self.event_id or "", self.tier or 0)

    def to_json(self) -> dict[str, Any]:
        """The line as statement JSON: money with two decimals, rates as exact decimals."""
        return {
            "kind": self.kind,
            "amount": money_text(self.amount),
            "deal_id": self.deal_id,
            "event_id": self.event_id,
            "source": self.source,
            "time": self.time.isoformat().replace("+00:00", "Z") if self.time else None,
            "tier": self.tier,
            "rate": decimal_text(self.rate),
            "base": decimal_text(self.base),
            "reference": self.reference,
        }


@dataclass(frozen=True)
class Scorecard:
    """The multi-metric score: each metric's capped value, the weights used, and the score."""

    metrics: dict[str, Decimal]
    weights: dict[str, Decimal]
    score: Decimal | None


@dataclass(frozen=True)
class Statement:
    """A rep's commission statement for a period, reproducible byte for byte from its inputs."""

    rep_id: str
    period: str
    plan: dict[str, Any]
    effective_targets: dict[str, EffectiveTarget]
    attainment: dict[str, Decimal]
    credited_revenue: Decimal
    lines: tuple[Line, ...]
    scorecard: Scorecard
    warnings: tuple[str, ...]
    fingerprint: str
    team_id: str | None = None
    sources: tuple[str, ...] = field(default=(), repr=False)

    @property
    def total(self) -> Decimal:
        """The sum of the rounded lines."""
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def to_json(self) -> dict[str, Any]:
        """The statement as the CLI and the read models show it."""
        return {
            "rep_id": self.rep_id,
            "period": self.period,
            "team_id": self.team_id,
            "plan": self.plan,
            "effective_targets": {m: money_text(t.value) for m, t in self.effective_targets.items()},
            "attainment": {m: decimal_text(to_ratio(v)) for m, v in self.attainment.items()},
            "credited_revenue": money_text(self.credited_revenue),
            "scorecard": {
                "metrics": {m: decimal_text(to_ratio(v)) for m, v in self.scorecard.metrics.items()},
                "weights": {m: decimal_text(w) for m, w in self.scorecard.weights.items()},
                "score": decimal_text(self.scorecard.score)
                if self.scorecard.score is not None else None,
            },
            "lines": [line.to_json() for line in self.lines],
            "total": money_text(self.total),
            "warnings": list(self.warnings),
            "fingerprint": self.fingerprint,
        }
