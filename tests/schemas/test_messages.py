"""Whatever field or rule a schema uses, what it tells a person is Chinese (marshmallow's
stock messages included), and a field is named by its label, not its key."""

from __future__ import annotations

import inspect
import re

import pytest
from marshmallow import Schema, ValidationError, fields, validate

import schemas  # noqa: F401  (the translations are installed with the schemas)

HAN = re.compile(r"[\u4e00-\u9fff]")


def _field_classes():
    found = [c for c in vars(fields).values() if inspect.isclass(c) and issubclass(c, fields.Field)]
    return sorted(set(found), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _field_classes(), ids=lambda c: c.__name__)
def test_every_stock_field_message_reads_in_chinese(cls):
    messages = {}
    for klass in reversed(cls.__mro__):
        messages.update(getattr(klass, "default_error_messages", {}))
    english = {k: m for k, m in messages.items() if not HAN.search(m)}
    assert english == {}


@pytest.mark.parametrize(
    ("rule", "value"),
    [(validate.Range(min=1), 0), (validate.Range(max=9), 10), (validate.Range(min=1, max=9), 0),
     (validate.Range(min=1, min_inclusive=False), 1), (validate.Length(min=1), ""),
     (validate.Length(max=1), "ab"), (validate.Length(min=1, max=2), ""),
     (validate.Length(equal=3), "ab"), (validate.OneOf(["a", "b"]), "c"),
     (validate.NoneOf(["a"]), "a"), (validate.Equal(1), 2), (validate.Regexp(r"\d"), "x"),
     (validate.URL(), "x"), (validate.Email(), "x"), (validate.ContainsOnly(["a"]), ["b"]),
     (validate.ContainsNoneOf(["a"]), ["a"]), (validate.Predicate("isdigit"), "x")],
    ids=lambda v: type(v).__name__,
)  # fmt: skip
def test_every_stock_rule_message_reads_in_chinese(rule, value):
    with pytest.raises(ValidationError) as info:
        rule(value)
    assert all(HAN.search(m) for m in info.value.messages), info.value.messages


def test_a_float_that_is_not_a_number_is_told_so_in_chinese():
    class Reading(Schema):
        value = fields.Float(validate=validate.Range(min=0))
        when = fields.DateTime()

    with pytest.raises(ValidationError) as info:
        Reading().load({"value": "abc", "when": "yesterday"})
    assert info.value.messages == {"value": ["不是有效的数字。"],
                                   "when": ["不是有效的日期时间。"]}  # fmt: skip
    with pytest.raises(ValidationError) as info:
        Reading().load({"value": "-1"})
    assert info.value.messages == {"value": ["必须大于或等于 0。"]}


@pytest.mark.parametrize(
    ("path", "label"),
    [("amount", "金额"), ("paid_on", "收款日期"), ("seller.name", "供方·名称"),
     ("delivery.deadline", "交货期限"), ("items.1.quantity", "产品第 2 项·数量"),
     ("changes.0.after", "变更第 1 项·变更后"), ("items.0._schema", "产品第 1 项"),
     ("_schema", ""), ("colour", "colour")],
)  # fmt: skip
def test_a_field_is_named_by_its_label(path, label):
    from schemas.labels import field_label

    assert field_label(path) == label
