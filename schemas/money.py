"""Exact money: Decimal yuan with two places, and Chinese capitals (大写)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import cn2an

CENT = Decimal("0.01")


def quantize(value: Decimal) -> Decimal:
    """Round to fen (half up), the rule for a line amount = quantity × unit price."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    return int(quantize(value) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def upper(value: Decimal) -> str:
    """人民币大写, e.g. 382505.00 → 叁拾捌万贰仟伍佰零伍元整."""
    value = quantize(value)
    if value < 0:
        return "负" + upper(-value)
    if value == 0:
        return "零元整"
    # cn2an takes the string form: never hand it a float.
    return cn2an.an2cn(format(value, "f"), "rmb")


def figures(value: Decimal) -> str:
    """Thousands-separated figures as printed in the contract: 382,505.00."""
    return f"{quantize(value):,.2f}"
