"""Decisions made inside the company (SPEC §3): targets and the roster."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import field_validator

from domain.errors import InvalidInput
from domain.facts import Payload
from domain.fields import ID_TEXT, Money
from domain.periods import Period

Metric = Literal["revenue", "new_customers", "renewals", "coaching_minutes", "complaint_allowance"]
METRICS: tuple[str, ...] = (
    "revenue", "new_customers", "renewals", "coaching_minutes", "complaint_allowance",
)


class TargetSet(Payload):
    scope: str
    metric: Metric
    period: str
    value: Money
    effective_from: date | None = None
    reason: str
    approved_by: ID_TEXT

    @field_validator("scope")
    @classmethod
    def check_scope(cls, scope: str) -> str:
        kind, _, name = scope.partition(":")
        if scope == "org" or (kind in ("rep", "team") and name):
            return scope
        raise ValueError(f"{scope!r} is not a scope (use rep:ID, team:ID or org)")

    @field_validator("period")
    @classmethod
    def check_period(cls, period: str) -> str:
        try:
            Period.parse(period)
        except InvalidInput as error:
            raise ValueError(error.message) from None
        return period

    @property
    def starts_on(self) -> date:
        """The day the value takes effect (the period's first day unless given)."""
        return self.effective_from or Period.parse(self.period).first_day


class RosterAssigned(Payload):
    rep_id: ID_TEXT
    team_id: ID_TEXT
    effective_from: date
