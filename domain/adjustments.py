"""Adjustments: corrections of an issued statement (a restatement's delta or an accepted dispute),
booked as a line of a later, open period's statement."""

from __future__ import annotations

from datetime import UTC, datetime, time

from pydantic import field_validator

from domain.envelope import Envelope, seal
from domain.facts import Payload
from domain.fields import ID_TEXT, DecimalText
from domain.periods import Period

ADJUSTMENT_TYPE = "adjustment.posted"
LEDGER_SOURCE = "perfledger"


class AdjustmentPosted(Payload):
    """An amount added to a rep's statement of `period`, correcting `corrects_period`."""

    rep_id: ID_TEXT
    period: str
    amount: DecimalText
    corrects_period: str
    corrects_version: int | None = None
    dispute_id: str | None = None
    reason: str

    @field_validator("period", "corrects_period")
    @classmethod
    def check_period(cls, period: str) -> str:
        Period.parse(period)
        return period

    @property
    def reference(self) -> str:
        """What the adjustment corrects, as statements show it."""
        if self.dispute_id:
            return f"dispute {self.dispute_id} on {self.corrects_period}"
        return f"{self.corrects_period} v{self.corrects_version}"


def adjustment_envelope(adjustment_key: str, payload: AdjustmentPosted) -> Envelope:
    """The ledger's own event for an adjustment; its key makes posting it twice a duplicate."""
    starts = datetime.combine(Period.parse(payload.period).first_day, time(), UTC)
    return seal(LEDGER_SOURCE, adjustment_key, ADJUSTMENT_TYPE, starts, payload)
