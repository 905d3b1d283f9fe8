"""The example payloads beside ``tests/data/contract.json`` are what the README tells a clerk to
send: each stays valid for its schema, and the README's story runs with them from the shell —
create, approve, amend, deliver, pay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.dossier import AmendmentSchema, DeliveryNoticeSchema, PaymentSchema
from service.cli import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
EXAMPLES = {"amendment.json": AmendmentSchema, "delivery.json": DeliveryNoticeSchema,
            "payment.json": PaymentSchema}  # fmt: skip


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_is_valid_for_its_schema(name):
    EXAMPLES[name]().load(json.loads((DATA / name).read_text("utf-8")))


@pytest.mark.parametrize("name", ["contract.json", *EXAMPLES])
def test_the_readme_shows_each_example(name):
    assert f"tests/data/{name}" in (ROOT / "README.md").read_text("utf-8")


def test_a_clerk_amends_ships_and_is_paid_with_the_examples(runner, tokens):
    def hetong(*args: str, user: str = "clerk-user") -> str:
        result = runner.invoke(main, ["--as", user, *args])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    number = hetong("contracts", "create", str(DATA / "contract.json"))
    hetong("contracts", "status", number, "effective", user="manager-user")

    amended = hetong("contracts", "amend", number, str(DATA / "amendment.json"))
    assert amended.split("\t") == [f"{number}-BC01", "378505.00"]
    notice = hetong("contracts", "deliver", number, str(DATA / "delivery.json"))
    assert notice.startswith("FH-202612-")
    paid = hetong("contracts", "pay", number, str(DATA / "payment.json"))
    assert paid.split("\t") == [number, "已收 114751.50", "未收 263753.50"]
