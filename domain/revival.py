"""Rebuilding payloads from what the ledger itself stored: the data was validated when it was
recorded, so it is trusted and only its decimals, dates and tuples are restored (no second
validation, which dominated loading a period). A revived payload equals the validated one field
for field, with the same defaults and the same set of fields given."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from domain.adjustments import ADJUSTMENT_TYPE, AdjustmentPosted
from domain.envelope import PAYLOAD_TYPES
from domain.facts import Credit, Payload

STORED_PAYLOADS: dict[str, type[Payload]] = {**PAYLOAD_TYPES, ADJUSTMENT_TYPE: AdjustmentPosted}
M = TypeVar("M", bound=BaseModel)


def _built(model: type[M], values: dict[str, Any], given: set[str] | None = None) -> M:
    """The model instance holding `values` as given (what `model_construct` does, without its
    per-call look-ups of the model's fields); `given` are the fields set (all by default)."""
    instance = model.__new__(model)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values) if given is None else given)
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


@lru_cache(maxsize=1 << 16)
def _shared_credit(rep_id: str, role: str, split: str) -> Credit:
    """One frozen Credit per (rep, role, split): the same few thousand recur across a period's
    deals, so they are built once and shared."""
    return _built(Credit, {"rep_id": rep_id, "role": role, "split": Decimal(split)})


def _effective_from(value: Any) -> Any:
    return date.fromisoformat(value) if value else value


def _credits(credits: list[dict[str, str]]) -> tuple[Credit, ...]:
    return tuple([_shared_credit(c["rep_id"], c["role"], c["split"]) for c in credits])


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "amount": Decimal, "value": Decimal, "effective_from": _effective_from,
    "rep_ids": tuple, "credits": _credits,
}


class Reviver:
    """Rebuilds one payload model: its fields in declaration order, each converted from its
    stored JSON form, defaults filled in for fields the stored data leaves out."""

    def __init__(self, model: type[Payload]) -> None:
        self.model = model
        self.fields = [(name, CONVERTERS.get(name), field.default)
                       for name, field in model.model_fields.items()]
        self.names = frozenset(model.model_fields)

    def __call__(self, data: dict[str, Any]) -> Payload:
        values: dict[str, Any] = {}
        for name, convert, default in self.fields:
            if name in data:
                values[name] = data[name] if convert is None else convert(data[name])
            elif default is not PydanticUndefined:
                values[name] = default
        return _built(self.model, values, data.keys() & self.names)


REVIVERS = {kind: Reviver(model) for kind, model in STORED_PAYLOADS.items()}


def revive(kind: str, data: dict[str, Any]) -> Payload:
    """The payload of a stored fact of type `kind`, without validating it again."""
    return REVIVERS[kind](data)
