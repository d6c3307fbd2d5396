"""Rebuilding payloads from what the ledger itself stored: the data was validated when it was
recorded, so it is trusted and only its decimals and tuples are restored (no second validation,
which dominated loading a period)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from domain.adjustments import ADJUSTMENT_TYPE, AdjustmentPosted
from domain.envelope import PAYLOAD_TYPES
from domain.facts import CoachingSessionHeld, Credit, CreditedSale, Payload

STORED_PAYLOADS: dict[str, type[Payload]] = {**PAYLOAD_TYPES, ADJUSTMENT_TYPE: AdjustmentPosted}


def revive(kind: str, data: dict[str, Any]) -> Payload:
    """The payload of a stored fact of type `kind`, without validating it again."""
    model = STORED_PAYLOADS[kind]
    fields = {name: data[name] for name in model.model_fields if name in data}
    for name in ("amount", "value"):
        if name in fields:
            fields[name] = Decimal(fields[name])
    if fields.get("effective_from"):
        fields["effective_from"] = date.fromisoformat(fields["effective_from"])
    if issubclass(model, CreditedSale):
        fields["credits"] = tuple(Credit.model_construct(
            rep_id=c["rep_id"], role=c["role"], split=Decimal(c["split"])) for c in data["credits"])
    if model is CoachingSessionHeld:
        fields["rep_ids"] = tuple(data["rep_ids"])
    return model.model_construct(**fields)
