"""Amend, ship and record payments from the command line."""

from __future__ import annotations

import json

from service.cli import main


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    return str(path)


def test_amend_deliver_pay_and_list_receivables(runner, tmp_path, effective):
    number = effective()
    amendment = {"reason": "调整单价", "effective_on": "2026-12-05",
                 "changes": [{"field": "unit_price", "line": 2, "after": "1300.00"}]}  # fmt: skip
    result = runner.invoke(
        main, ["contracts", "amend", number, write(tmp_path, "a.json", amendment)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.split() == [f"{number}-BC01", "383000.00"]

    notice = {"delivery_date": "2026-12-10", "items": [{"line": 1, "quantity": "3"}],
              "carrier": "德邦", "tracking_no": "DB1", "prepared_by": "张敏"}  # fmt: skip
    over = runner.invoke(main, ["contracts", "deliver", number, write(tmp_path, "d.json", notice)])
    assert over.exit_code == 2
    assert "items.0.quantity" in over.output
    notice["items"][0]["quantity"] = "2"
    shipped = runner.invoke(
        main, ["contracts", "deliver", number, write(tmp_path, "d.json", notice)]
    )
    assert shipped.output.strip() == "FH-202612-0001"

    paid = runner.invoke(main, ["contracts", "pay", number, write(tmp_path, "p.json", {
        "amount": "83000.00", "paid_on": "2026-11-24", "method": "银行转账"})])  # fmt: skip
    assert paid.exit_code == 0, paid.output
    assert "未收 300000.00" in paid.output

    owed = runner.invoke(main, ["receivables", "--as-of", "2027-03-05", "--json"])
    (row,) = json.loads(owed.output)
    assert (row["contract_no"], row["outstanding"], row["to_chase"]) == (number, "300000.00", True)


def test_completing_from_the_cli_with_goods_and_money_open_needs_force_and_a_note(
    runner, effective
):
    number = effective()
    refused = runner.invoke(main, ["contracts", "status", number, "completed"])
    assert refused.exit_code == 4
    assert "未发货 2 台" in refused.stderr and "382,505.00" in refused.stderr
    silent = runner.invoke(main, ["contracts", "status", number, "completed", "--force"])
    assert silent.exit_code == 2 and "note" in silent.stderr
    done = runner.invoke(main, ["contracts", "status", number, "completed", "--force",
                                "--note", "需方确认已提货"])  # fmt: skip
    assert done.exit_code == 0, done.output
