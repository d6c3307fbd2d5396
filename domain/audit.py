"""Period close, issued statements and their versions, disputes (SPEC §8). Issued statements are
never edited: a change after issue is a new version with its causes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.aggregates import NAMESPACE
from domain.errors import DomainError


def period_id(period: str) -> UUID:
    """The aggregate id of an accounting period."""
    return uuid5(NAMESPACE, f"period:{period}")


def statement_id(rep_id: str, period: str) -> UUID:
    """The aggregate id of a rep's issued statements for a period."""
    return uuid5(NAMESPACE, f"statement:{rep_id}|{period}")


def dispute_uuid(dispute_id: str) -> UUID:
    """The aggregate id of a dispute."""
    return uuid5(NAMESPACE, f"dispute:{dispute_id}")


class AccountingPeriod(Aggregate):
    """A period whose statements were issued; once closed, changes come as restatements."""

    class Closed(Aggregate.Created):
        period: str

    def __init__(self, period: str) -> None:
        self.period = period

    @classmethod
    def close(cls, period: str, recorded_at: datetime) -> AccountingPeriod:
        """Close the period."""
        return cls._create(cls.Closed, id=period_id(period), timestamp=recorded_at, period=period)


class IssuedStatement(Aggregate):
    """Every issued version of one rep's statement for one period."""

    class Issued(Aggregate.Created):
        rep_id: str
        period: str
        statement: dict[str, Any]
        known_at: str
        causes: list[str]

    class Restated(Aggregate.Event):
        statement: dict[str, Any]
        known_at: str
        causes: list[str]
        delta: str
        adjustment_period: str | None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, IssuedStatement)
            aggregate.latest = self.statement

    def __init__(self, rep_id: str, period: str, statement: dict[str, Any], known_at: str,
                 causes: list[str]) -> None:
        self.rep_id = rep_id
        self.period = period
        self.latest = statement
        self.known_at = known_at
        self.causes = causes

    @classmethod
    def issue(cls, statement: dict[str, Any], known_at: datetime, recorded_at: datetime
              ) -> IssuedStatement:
        """Issue version 1."""
        return cls._create(cls.Issued, id=statement_id(statement["rep_id"], statement["period"]),
                           timestamp=recorded_at, rep_id=statement["rep_id"],
                           period=statement["period"], statement=statement,
                           known_at=known_at.isoformat(), causes=[])

    def restate(self, statement: dict[str, Any], known_at: datetime, causes: list[str],
                adjustment_period: str | None, recorded_at: datetime) -> None:
        """Issue the next version, with the events that caused it and the delta it posts."""
        if statement["fingerprint"] == self.latest["fingerprint"]:
            raise DomainError(f"statement {self.rep_id} {self.period}: nothing changed since "
                              f"version {self.version}")
        delta = Decimal(statement["total"]) - Decimal(self.latest["total"])
        self.trigger_event(self.Restated, timestamp=recorded_at, statement=statement,
                           known_at=known_at.isoformat(), causes=causes, delta=str(delta),
                           adjustment_period=adjustment_period)


class Dispute(Aggregate):
    """A rep's dispute of a statement (optionally one line), resolved by finance."""

    class Opened(Aggregate.Created):
        dispute_id: str
        rep_id: str
        period: str
        line: int | None
        reason: str
        statement_version: int | None

    class Resolved(Aggregate.Event):
        outcome: str
        amount: str | None
        note: str
        adjustment_period: str | None

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Dispute)
            aggregate.outcome = self.outcome

    def __init__(self, dispute_id: str, rep_id: str, period: str, line: int | None, reason: str,
                 statement_version: int | None) -> None:
        self.dispute_id = dispute_id
        self.rep_id = rep_id
        self.period = period
        self.line = line
        self.reason = reason
        self.statement_version = statement_version
        self.outcome: str | None = None

    @classmethod
    def open(cls, dispute_id: str, rep_id: str, period: str, line: int | None, reason: str,
             statement_version: int | None, recorded_at: datetime) -> Dispute:
        """Open a dispute."""
        if not reason.strip():
            raise DomainError("reason: say what is disputed")
        return cls._create(cls.Opened, id=dispute_uuid(dispute_id), timestamp=recorded_at,
                           dispute_id=dispute_id, rep_id=rep_id, period=period, line=line,
                           reason=reason, statement_version=statement_version)

    def resolve(self, accepted: bool, amount: Decimal | None, note: str,
                adjustment_period: str | None, recorded_at: datetime) -> None:
        """Accept (with the amount to pay back or claw) or reject, with finance's note."""
        if self.outcome is not None:
            raise DomainError(f"dispute {self.dispute_id} was already {self.outcome}")
        if accepted and (amount is None or amount == 0):
            raise DomainError("amount: an accepted dispute needs a non-zero adjustment amount")
        if not note.strip():
            raise DomainError("note: finance's note is required")
        self.trigger_event(self.Resolved, timestamp=recorded_at,
                           outcome="accepted" if accepted else "rejected",
                           amount=str(amount) if accepted and amount is not None else None,
                           note=note, adjustment_period=adjustment_period if accepted else None)
