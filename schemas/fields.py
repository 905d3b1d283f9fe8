"""Field types shared by the schemas: text without control characters, exact decimals.

Each field also states in the OpenAPI document what it enforces (length, pattern), so a
client can tell a valid request from the schema alone.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate

# UI text is zh-CN: the stock messages clients see most often, in Chinese.
fields.Field.default_error_messages.update(
    {"required": "必填。", "null": "不能为空值。", "validator_failed": "取值无效。"}
)
fields.String.default_error_messages.update({"invalid": "必须是字符串。"})
fields.Integer.default_error_messages.update({"invalid": "必须是整数。", "too_large": "数值过大。"})
fields.Boolean.default_error_messages.update({"invalid": "必须是 true 或 false。"})
fields.Date.default_error_messages.update({"invalid": "日期格式必须为 YYYY-MM-DD。"})
fields.List.default_error_messages.update({"invalid": "必须是列表。"})
fields.Dict.default_error_messages.update({"invalid": "必须是对象。"})
fields.Nested.default_error_messages.update({"type": "必须是对象。"})
Schema.error_messages = {"unknown": "未知字段。", "type": "必须是 JSON 对象。"}
# Every other stock message a field or rule may give, so that none reaches a person in English.
_STOCK = {
    fields._TemporalField: {"invalid": "不是有效的日期或时间。",
                            "invalid_awareness": "时区信息不符合要求。",
                            "format": "“{input}”无法按日期或时间输出。"},
    fields.String: {"invalid_utf8": "不是有效的 UTF-8 文本。"},
    fields.Number: {"invalid": "不是有效的数字。", "too_large": "数值过大。"},
    fields.Float: {"special": "不接受 NaN 或无穷大。"},
    fields.Decimal: {"special": "不接受 NaN 或无穷大。"},
    fields.Tuple: {"invalid": "必须是列表。"},
    fields.UUID: {"invalid_uuid": "不是有效的 UUID。"},
    fields.DateTime: {"invalid": "不是有效的日期时间。",
                      "format": "“{input}”无法按日期时间输出。"},
    fields.Time: {"invalid": "不是有效的时间。"},
    fields.Date: {"format": "“{input}”无法按日期输出。"},
    fields.TimeDelta: {"invalid": "不是有效的时长。", "format": "{input!r} 无法按时长输出。"},
    fields.Url: {"invalid": "不是有效的网址。"},
    fields.Email: {"invalid": "不是有效的电子邮件地址。"},
    fields.IP: {"invalid_ip": "不是有效的 IP 地址。"},
    fields.IPv4: {"invalid_ip": "不是有效的 IPv4 地址。"},
    fields.IPv6: {"invalid_ip": "不是有效的 IPv6 地址。"},
    fields.IPInterface: {"invalid_ip_interface": "不是有效的 IP 网络接口。"},
    fields.IPv4Interface: {"invalid_ip_interface": "不是有效的 IPv4 网络接口。"},
    fields.IPv6Interface: {"invalid_ip_interface": "不是有效的 IPv6 网络接口。"},
    fields.Enum: {"unknown": "取值须为 {choices} 之一。"},
}  # fmt: skip
for _cls, _messages in _STOCK.items():
    # A class's own dict (never its parent's, which other fields share).
    _cls.default_error_messages = {**_cls.__dict__.get("default_error_messages", {}),
                                   **_messages}  # fmt: skip
validate.Range.message_min = "必须{min_op} {{min}}。"
validate.Range.message_max = "必须{max_op} {{max}}。"
validate.Range.message_all = "必须{min_op} {{min}}且{max_op} {{max}}。"
validate.Range.message_gte, validate.Range.message_gt = "大于或等于", "大于"
validate.Range.message_lte, validate.Range.message_lt = "小于或等于", "小于"
validate.Length.message_min = "长度至少为 {min}。"
validate.Length.message_max = "长度至多为 {max}。"
validate.Length.message_all = "长度须在 {min}–{max} 之间。"
validate.Length.message_equal = "长度须为 {equal}。"
validate.Equal.default_message = "必须等于 {other}。"
validate.Regexp.default_message = "格式不符合要求。"
validate.Predicate.default_message = "取值无效。"
validate.NoneOf.default_message = "取值无效。"
validate.OneOf.default_message = "取值须为 {choices} 之一。"
validate.ContainsOnly.default_message = "所选的一项或多项不在 {choices} 之中。"
validate.ContainsNoneOf.default_message = "所选的一项或多项属于 {values}。"
validate.URL.default_message = "不是有效的网址。"
validate.Email.default_message = "不是有效的电子邮件地址。"

# Bidirectional overrides can make a contract read differently from what was entered.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# The same rule as a JSON-Schema pattern for the OpenAPI document: no C0 controls, DEL,
# C1 controls, bidirectional overrides or private-use characters; tab and newline only
# where text may have several lines; and at least one visible character.
_BAD = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ue000-\uf8ff"
_BAD_LINE = _BAD.replace(r"\u0000-\u0008\u000b-\u001f", r"\u0000-\u001f")
SINGLE_LINE = rf"^[^{_BAD_LINE}]*$"
MULTI_LINE = rf"^[^{_BAD}]*$"
_VISIBLE_LINE = rf"^[^{_BAD_LINE}]*[^{_BAD_LINE}\s][^{_BAD_LINE}]*$"
_VISIBLE_MULTI = rf"^[^{_BAD}]*[^{_BAD}\s][^{_BAD}]*$"


def _check_characters(value: str, *, multiline: bool) -> None:
    for ch in value:
        if multiline and ch in "\n\t":
            continue
        if unicodedata.category(ch) in {"Cc", "Cs", "Co", "Cn"} or ch in _BIDI_CONTROLS:
            raise ValidationError(f"不允许包含控制字符 (U+{ord(ch):04X})。")


class Text(fields.String):
    """A trimmed, length-limited string without control characters; required means it must
    hold something visible. ``multiline`` allows newlines and tabs."""

    def __init__(self, *, max_length: int = 200, multiline: bool = False, **kwargs) -> None:
        self.multiline = multiline
        required = kwargs.get("required", False)
        lowest = 1 if required else 0
        validators = [
            validate.Length(min=lowest, max=max_length,
                            error=f"长度须在 {lowest}–{max_length} 个字符之间。")
        ]  # fmt: skip
        if required:
            pattern = _VISIBLE_MULTI if multiline else _VISIBLE_LINE
        else:
            pattern = MULTI_LINE if multiline else SINGLE_LINE
        metadata = {"pattern": pattern, **kwargs.pop("metadata", {})}
        super().__init__(validate=validators, metadata=metadata, **kwargs)

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
    """A decimal that travels as a string: floats (and bare JSON numbers, which many
    clients produce from floats) are refused, never rounded."""

    default_error_messages = {
        "type": '必须是字符串形式的数字，例如 "1250.50"（不接受 JSON 数字）。',
        "invalid": "不是有效的数字。",
        "separators": '不要写千位分隔符：写作 "{plain}"。',
        "places": "最多 {places} 位小数。",
        "too_large": "数值过大。",
    }

    def __init__(self, *, places: int = 2, max_digits: int = 15, **kwargs) -> None:
        self.places = places
        self.max_digits = max_digits
        whole = max_digits - places
        metadata = {
            "type": "string",
            "pattern": rf"^\s*[0-9]{{1,{whole}}}(\.[0-9]{{0,{places}}})?\s*$",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> Decimal:
        if not isinstance(value, str):
            raise self.make_error("type")
        try:
            number = Decimal(value.strip())
        except InvalidOperation as exc:
            plain = value.strip().replace(",", "")
            if "," in value and re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d*)?", value.strip()):
                # Exact strings here; only the pages take figures as people type them.
                raise self.make_error("separators", plain=plain) from exc
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


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing else (not 1, not "yes")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class Upload(fields.Field):
    """An uploaded file (multipart/form-data); the object the web framework gives."""

    default_error_messages = {"invalid": "必须是上传的文件。"}

    def __init__(self, **kwargs) -> None:
        metadata = {"type": "string", "format": "binary", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not hasattr(value, "read") or not hasattr(value, "filename"):
            raise self.make_error("invalid")
        return value


# Ids that reach the catalogue: anything above a signed 64-bit integer can name nothing.
MAX_ID = 2**63 - 1


def positive_int(*, maximum: int = MAX_ID, strict: bool = False, **kwargs) -> fields.Integer:
    """An integer from 1 to ``maximum`` (documented as such). ``strict`` for JSON bodies,
    where "3" is not a number; a query string only has strings."""
    return fields.Integer(
        strict=strict,
        validate=validate.Range(min=1, max=maximum, error=f"必须是 1–{maximum} 之间的整数。"),
        **kwargs,
    )
