"""Field types shared by the inbound payloads: money, splits, identifiers."""

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, StringConstraints

ID_TEXT = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

PAYLOAD_CONFIG = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _decimal_string(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("must be a decimal string such as \"1250.00\", never a float")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite decimal number")
    return number


def _non_negative(value: Any) -> Decimal:
    number = _decimal_string(value)
    if number < 0:
        raise ValueError(f"must not be negative, got {number}")
    return number


DecimalText = Annotated[Decimal, BeforeValidator(_decimal_string)]
Money = Annotated[Decimal, BeforeValidator(_non_negative)]
