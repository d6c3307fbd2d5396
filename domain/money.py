"""Money and ratios: exact decimals, rounded half-up only where the rules say so."""

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RATIO = Decimal("0.0001")
ZERO = Decimal(0)


def to_cents(amount: Decimal) -> Decimal:
    """Return the amount rounded half-up to cents."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_ratio(value: Decimal) -> Decimal:
    """Return a ratio (attainment, score) rounded half-up to four decimals."""
    return value.quantize(RATIO, rounding=ROUND_HALF_UP)


def floor_int(value: Decimal) -> int:
    """Return the largest integer not above value."""
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def money_text(amount: Decimal) -> str:
    """Format money with exactly two decimals, as statements show it."""
    return str(to_cents(amount))


def decimal_text(value: Decimal) -> str:
    """Format a decimal without exponent notation, e.g. rates and splits."""
    return format(value, "f")
