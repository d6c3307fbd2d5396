"""Commission plans (SPEC §6): a YAML document, validated, identified by a content hash."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from functools import lru_cache
from itertools import pairwise
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from domain.errors import InvalidInput
from domain.fields import DecimalText

Rate = Annotated[DecimalText, Field(ge=0, le=1)]
NonNegative = Annotated[DecimalText, Field(ge=0)]
_STRICT = ConfigDict(frozen=True, extra="forbid")


class Tier(BaseModel):
    model_config = _STRICT
    up_to: NonNegative | None = None
    rate: Rate


class Commission(BaseModel):
    model_config = _STRICT
    tiers: tuple[Tier, ...] = Field(min_length=1)

    @field_validator("tiers")
    @classmethod
    def check_tiers_ascending(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        bounds = [tier.up_to for tier in tiers[:-1]]
        if any(bound is None for bound in bounds):
            raise ValueError("only the last tier may omit up_to")
        if tiers[-1].up_to is not None:
            raise ValueError("the last tier has no up_to")
        known = [bound for bound in bounds if bound is not None]
        if any(low >= high for low, high in pairwise(known)):
            raise ValueError("tiers must be ascending in up_to")
        return tiers


class Renewals(BaseModel):
    model_config = _STRICT
    rate: Rate
    count_toward_attainment: bool = False


class DeliveryBonus(BaseModel):
    model_config = _STRICT
    rate: Rate


class Units(BaseModel):
    model_config = _STRICT
    block: int = Field(gt=0)
    amount: NonNegative


class ComplaintRule(BaseModel):
    model_config = _STRICT
    category: str
    min_severity: Literal["low", "medium", "high"] = "low"
    within_days: int = Field(ge=0)
    rate: Rate


class Clawback(BaseModel):
    model_config = _STRICT
    cancellation_window_days: int | None = Field(default=None, ge=0)
    complaints: tuple[ComplaintRule, ...] = ()


class TeamBonus(BaseModel):
    model_config = _STRICT
    threshold: NonNegative
    rate: Rate


class ScorecardBonus(BaseModel):
    model_config = _STRICT
    target_amount: NonNegative
    min_score: NonNegative


class Scorecard(BaseModel):
    model_config = _STRICT
    cap: NonNegative = Decimal("1.5")
    weights: dict[Literal["revenue", "new_customers", "quality", "coaching"], NonNegative]
    bonus: ScorecardBonus | None = None


class Cap(BaseModel):
    model_config = _STRICT
    max_total: NonNegative


class Plan(BaseModel):
    """A validated commission plan; `sha256` is the hash of the document as published."""

    model_config = _STRICT
    id: str = Field(min_length=1)
    version: int = Field(ge=1)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    target_proration: Literal["time_weighted", "replace"] = "time_weighted"
    commission: Commission
    renewals: Renewals | None = None
    delivery_bonus: DeliveryBonus | None = None
    units: Units | None = None
    clawback: Clawback | None = None
    team_bonus: TeamBonus | None = None
    scorecard: Scorecard | None = None
    cap: Cap | None = None
    sha256: str = ""

    @property
    def ref(self) -> str:
        """`id@version`, the way plans are named on the command line."""
        return f"{self.id}@{self.version}"


@lru_cache(maxsize=64)
def parse_plan(document: str) -> Plan:
    """Return the plan a YAML document describes, or raise InvalidInput naming the key. Plans
    are immutable, so a document parsed once is not parsed again (each command reads the plan
    book afresh)."""
    try:
        content = yaml.safe_load(document)
    except yaml.YAMLError as error:
        raise InvalidInput("plan", f"not valid YAML ({error})") from None
    if not isinstance(content, dict):
        raise InvalidInput("plan", "must be a YAML mapping")
    content.pop("sha256", None)
    try:
        plan = Plan.model_validate(content)
    except ValidationError as error:
        detail = error.errors()[0]
        key = ".".join(str(part) for part in detail["loc"]) or "plan"
        message = str(detail["msg"]).removeprefix("Value error, ")
        raise InvalidInput(key, "is required" if detail["type"] == "missing" else message) from None
    digest = hashlib.sha256(document.encode()).hexdigest()
    return plan.model_copy(update={"sha256": digest})
