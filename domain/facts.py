"""Facts reported by systems of record (SPEC §2): their payloads and checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from domain.fields import ID_TEXT, PAYLOAD_CONFIG, DecimalText, Money

ProductLine = Literal["enterprise", "consumer"]
Role = Literal["owner", "presales", "aftersales", "partner"]
Severity = Literal["low", "medium", "high"]


class Credit(BaseModel):
    """One participant's share of a deal or renewal."""

    model_config = PAYLOAD_CONFIG
    rep_id: ID_TEXT
    role: Role
    split: DecimalText

    @field_validator("split")
    @classmethod
    def check_split_in_range(cls, split: Decimal) -> Decimal:
        if not Decimal(0) < split <= 1:
            raise ValueError(f"split {split} must be in (0, 1]")
        return split


def check_credits(credits: tuple[Credit, ...]) -> tuple[Credit, ...]:
    """Exactly one owner, splits summing to exactly 1, each rep once."""
    if not credits:
        raise ValueError("at least one credit (the owner) is required")
    owners = sum(1 for credit in credits if credit.role == "owner")
    if owners != 1:
        raise ValueError(f"exactly one owner is required, got {owners}")
    total = sum((credit.split for credit in credits), Decimal(0))
    if total != 1:
        raise ValueError(f"credits split sums to {total}, must be 1")
    reps = [credit.rep_id for credit in credits]
    if len(set(reps)) != len(reps):
        raise ValueError("a rep appears more than once")
    return credits


class Payload(BaseModel):
    """Base of every fact and decision payload: frozen, no unknown fields."""

    model_config = PAYLOAD_CONFIG


class CreditedSale(Payload):
    """A sale with an amount in a currency, credited to one or more reps."""

    customer_id: ID_TEXT
    amount: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    credits: tuple[Credit, ...]

    @field_validator("credits")
    @classmethod
    def check_credits(cls, credits: tuple[Credit, ...]) -> tuple[Credit, ...]:
        return check_credits(credits)

    def split_of(self, rep_id: str) -> Decimal:
        """The rep's split of this sale, zero when not credited."""
        for credit in self.credits:
            if credit.rep_id == rep_id:
                return credit.split
        return Decimal(0)

    @property
    def owner(self) -> str:
        """The rep who owns the sale."""
        return next(c.rep_id for c in self.credits if c.role == "owner")


class DealClosed(CreditedSale):
    deal_id: ID_TEXT
    product_line: ProductLine
    new_customer: bool = False
    units: int = Field(default=0, ge=0)
    segment: str | None = None

    @model_validator(mode="after")
    def check_units_on_consumer_deals(self) -> DealClosed:
        if self.units and self.product_line != "consumer":
            raise ValueError("units: only consumer deals carry units")
        return self


class DealDelivered(Payload):
    deal_id: ID_TEXT


class DealCancelled(Payload):
    deal_id: ID_TEXT
    reason: str


class RenewalBooked(CreditedSale):
    renewal_id: ID_TEXT
    deal_id: str | None = None
    term_months: int = Field(gt=0)


class ComplaintLogged(Payload):
    complaint_id: ID_TEXT
    customer_id: ID_TEXT
    rep_id: ID_TEXT
    deal_id: str | None = None
    severity: Severity
    category: str


class CoachingSessionHeld(Payload):
    session_id: ID_TEXT
    coach_id: ID_TEXT
    rep_ids: tuple[ID_TEXT, ...] = Field(min_length=1)
    topic: str
    minutes: int = Field(gt=0)


SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}
