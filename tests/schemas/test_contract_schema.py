"""What a clerk is told when contract data is wrong — before anything is rendered."""

from decimal import Decimal

import pytest
from marshmallow import ValidationError

from schemas import ContractSchema, flatten_errors


def errors_of(data: dict, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as info:
        ContractSchema(**kwargs).load(data)
    return flatten_errors(info.value.messages)


def test_the_example_contract_is_valid_and_money_is_decimal(payload):
    data = ContractSchema(regions=["华东"]).load(payload)
    assert data["items"][1]["unit_price"] == Decimal("1250.50")
    assert isinstance(data["items"][0]["quantity"], Decimal)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["items"][1].update(quantity="0"), "items.1.quantity"),
        (lambda d: d["items"][0].update(quantity="-2"), "items.0.quantity"),
        (lambda d: d["items"][0].update(unit_price="-1.00"), "items.0.unit_price"),
        (lambda d: d["items"][0].update(unit_price="10.005"), "items.0.unit_price"),
        (lambda d: d["items"][0].update(unit_price=185000.1), "items.0.unit_price"),
        (lambda d: d["items"][0].update(unit_price="abc"), "items.0.unit_price"),
        (lambda d: d["items"][0].update(unit_price="NaN"), "items.0.unit_price"),
        (lambda d: d.update(items=[]), "items"),
        (lambda d: d.update(signed_on="2026/11/20"), "signed_on"),
        (lambda d: d["delivery"].update(deadline="2026-02-30"), "delivery.deadline"),
        (lambda d: d["buyer"].pop("name"), "buyer.name"),
        (lambda d: d["buyer"].update(name="   "), "buyer.name"),
        (lambda d: d["buyer"].update(name="杭州\x00公司"), "buyer.name"),
        (lambda d: d["seller"].update(name="上海\u202e公司"), "seller.name"),
        (lambda d: d["seller"].update(name="长" * 101), "seller.name"),
        (lambda d: d.update(total="382505.00"), "total"),
        (lambda d: d["items"][0].update(amount="1"), "items.0.amount"),
        (lambda d: d["transport"].update(freight_paid_by="nobody"), "transport.freight_paid_by"),
        (lambda d: d.update(dispute_resolution="长" * 2001), "dispute_resolution"),
        (lambda d: d["payment"].update(due_on="2026-01-01"), "payment.due_on"),
    ],
)
def test_each_problem_is_reported_at_its_field(payload, change, path):
    change(payload)
    assert path in errors_of(payload)


def test_every_bad_field_is_reported_at_once(payload):
    payload["items"][1]["quantity"] = "0"
    payload["buyer"]["name"] = ""
    payload["region"] = "火星"
    found = errors_of(payload, regions=["华东", "华北"])
    assert {"items.1.quantity", "buyer.name", "region"} <= set(found)
    assert "华东" in found["region"][0]


def test_clauses_may_span_lines_but_names_may_not(payload):
    payload["breach_liability"] = "第一款。\n第二款。"
    assert ContractSchema().load(payload)["breach_liability"] == "第一款。\n第二款。"
    payload["buyer"]["name"] = "杭州\n公司"
    assert "buyer.name" in errors_of(payload)


def test_an_api_client_sending_thousands_separators_is_told_to_drop_them(payload):
    payload["items"][0]["unit_price"] = "185,000.00"
    with pytest.raises(ValidationError) as refused:
        ContractSchema().load(payload)
    (message,) = flatten_errors(refused.value.messages)["items.0.unit_price"]
    assert "千位分隔符" in message and '"185000.00"' in message
