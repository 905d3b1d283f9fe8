"""Field types shared by the schemas: text without control characters, exact decimals."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate

# UI text is zh-CN: the stock messages clients see most often, in Chinese.
fields.Field.default_error_messages.update(
    {"required": "必填。", "null": "不能为空值。", "validator_failed": "取值无效。"}
)
fields.String.default_error_messages.update({"invalid": "必须是字符串。"})
fields.Date.default_error_messages.update({"invalid": "日期格式必须为 YYYY-MM-DD。"})
fields.List.default_error_messages.update({"invalid": "必须是列表。"})
fields.Nested.default_error_messages.update({"type": "必须是对象。"})
Schema.error_messages = {"unknown": "未知字段。", "type": "必须是 JSON 对象。"}

# Bidirectional overrides can make a contract read differently from what was entered.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_characters(value: str, *, multiline: bool) -> None:
    for ch in value:
        if multiline and ch == "\n":
            continue
        if unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} or ch in _BIDI_CONTROLS:
            raise ValidationError(f"不允许包含控制字符 (U+{ord(ch):04X})。")


class Text(fields.String):
    """A trimmed, non-empty (when required), length-limited string without control characters."""

    def __init__(self, *, max_length: int = 200, multiline: bool = False, **kwargs) -> None:
        self.multiline = multiline
        validators = [validate.Length(max=max_length, error="长度不能超过 {max} 个字符。")]
        super().__init__(validate=validators, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.multiline:
            text = text.replace("\r\n", "\n")
        _check_characters(text, multiline=self.multiline)
        text = text.strip()
        if self.required and not text:
            raise ValidationError("不能为空。")
        return text


class ExactDecimal(fields.Field):
    """A decimal that travels as a string (or an integer): floats are refused, never rounded."""

    default_error_messages = {
        "type": '必须是字符串形式的数字，例如 "1250.50"（不接受浮点数）。',
        "invalid": "不是有效的数字。",
        "places": "最多 {places} 位小数。",
        "too_large": "数值过大。",
    }

    def __init__(self, *, places: int = 2, max_digits: int = 15, **kwargs) -> None:
        self.places = places
        self.max_digits = max_digits
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("type")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise self.make_error("invalid") from exc
        if not number.is_finite():
            raise self.make_error("invalid")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.places:
            raise self.make_error("places", places=self.places)
        if number.adjusted() >= self.max_digits - self.places:
            raise self.make_error("too_large")
        return number

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(Decimal(value), "f")


class Money(ExactDecimal):
    """Yuan, at most two decimal places; always written with exactly two."""

    def __init__(self, **kwargs) -> None:
        super().__init__(places=2, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(Decimal(value).quantize(Decimal("0.01")), "f")


class Quantity(ExactDecimal):
    """A quantity of goods: up to three decimal places (tonnes, metres)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(places=3, max_digits=12, **kwargs)
