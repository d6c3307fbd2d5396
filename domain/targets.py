"""Effective targets (SPEC §5): revisable decisions prorated over a period's days."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from domain.money import to_cents
from domain.periods import Period


@dataclass(frozen=True)
class TargetDecision:
    """A `target.set` as known to the ledger, with its recording position."""

    decision_id: str
    scope: str
    metric: str
    period: str
    value: Decimal
    effective_from: date
    position: int
    reason: str = ""
    approved_by: str = ""
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Segment:
    """A value holding from `starts` to `ends` inclusive, `days` long."""

    decision_id: str
    value: Decimal
    starts: date
    ends: date
    days: int
    reason: str
    approved_by: str


@dataclass(frozen=True)
class EffectiveTarget:
    """A prorated target with the segments and decisions it was derived from."""

    metric: str
    value: Decimal
    segments: tuple[Segment, ...]

    @property
    def decision_ids(self) -> tuple[str, ...]:
        """Ids of the decisions behind the value."""
        return tuple(segment.decision_id for segment in self.segments)


def effective_target(
    decisions: Iterable[TargetDecision], period: Period, proration: str = "time_weighted"
) -> EffectiveTarget | None:
    """Return the effective target of one (scope, metric, period), or None if none was set."""
    ordered = sorted(
        (d for d in decisions if d.effective_from <= period.last_day),
        key=lambda d: (d.effective_from, d.position),
    )
    if not ordered:
        return None
    segments = _segments(ordered, period)
    if proration == "replace":
        last = segments[-1]
        whole = Segment(last.decision_id, last.value, period.first_day, period.last_day,
                        period.days, last.reason, last.approved_by)
        return EffectiveTarget(ordered[0].metric, to_cents(last.value), (whole,))
    weighted = sum((s.value * s.days for s in segments), Decimal(0)) / period.days
    return EffectiveTarget(ordered[0].metric, to_cents(weighted), tuple(segments))


def _segments(ordered: Sequence[TargetDecision], period: Period) -> list[Segment]:
    """Each value holds from its start to the day before the next start (the last to period end);
    at an equal start (clamped to the period's first day) the later one in `ordered` wins."""
    starts = [max(d.effective_from, period.first_day) for d in ordered]
    segments: list[Segment] = []
    for index, decision in enumerate(ordered):
        later = [s for s in starts[index + 1:] if s > starts[index]]
        if any(s == starts[index] for s in starts[index + 1:]):
            continue
        ends = (later[0] - timedelta(days=1)) if later else period.last_day
        days = (ends - starts[index]).days + 1
        segments.append(Segment(decision.decision_id, decision.value, starts[index], ends, days,
                                decision.reason, decision.approved_by))
    return segments


def sum_of_targets(metric: str, targets: Iterable[EffectiveTarget | None]) -> EffectiveTarget | None:
    """A team's target when it has none of its own: the sum of its members' targets."""
    known = [target for target in targets if target is not None]
    if not known:
        return None
    total = sum((target.value for target in known), Decimal(0))
    segments = tuple(segment for target in known for segment in target.segments)
    return EffectiveTarget(metric, total, segments)
