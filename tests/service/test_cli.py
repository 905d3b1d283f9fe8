"""The same work from the command line, offline."""

from __future__ import annotations

import json

from service.cli import main


def test_users_add_prints_the_token_last_and_it_opens_the_api(runner, app, client):
    result = runner.invoke(main, ["users", "add", "zhangmin", "--role", "archivist"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    response = client.get("/api/v1/contracts", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

    again = runner.invoke(main, ["users", "add", "zhangmin", "--role", "clerk"])
    assert again.exit_code != 0
    assert "已存在" in again.output


def test_create_a_contract_from_a_file(runner, tmp_path, payload, client, auth):
    source = tmp_path / "contract.json"
    source.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    result = runner.invoke(main, ["contracts", "create", str(source)])
    assert result.exit_code == 0, result.output
    number = result.output.strip()
    assert number == "HT-202611-0001"
    # Filed by the operator, owned by no clerk: a manager (who sees all) reads it.
    shown = client.get(f"/api/v1/contracts/{number}", headers=auth("manager")).get_json()
    assert shown["total_upper"] == "叁拾捌万贰仟伍佰零伍元整"
    assert shown["created_by"].startswith("cli:")


def test_invalid_data_exits_2_with_the_field_errors(runner, tmp_path, payload, archive):
    payload["items"][1]["quantity"] = "0"
    payload["seller"].pop("name")
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(payload, ensure_ascii=False), "utf-8")
    result = runner.invoke(main, ["contracts", "create", str(source)])
    assert result.exit_code == 2
    assert "items.1.quantity" in result.output
    assert "seller.name" in result.output
    assert list(archive.storage.digests()) == []

    source.write_text("{broken", "utf-8")
    assert runner.invoke(main, ["contracts", "create", str(source)]).exit_code == 2


def test_approval_from_the_cli_acts_as_a_named_manager(runner, create, tokens):
    number = create()["contract_no"]
    refused = runner.invoke(
        main, ["--as", "clerk-user", "contracts", "status", number, "effective"]
    )
    assert refused.exit_code == 4
    assert "销售经理" in refused.output
    approved = runner.invoke(
        main, ["--as", "manager-user", "contracts", "status", number, "effective"]
    )
    assert approved.exit_code == 0, approved.output
    assert approved.output.split() == [number, "已生效"]


def test_export_writes_the_pdf(runner, create, tmp_path):
    number = create()["contract_no"]
    target = tmp_path / "out.pdf"
    unexplained = runner.invoke(main, ["contracts", "export", number, "-o", str(target)])
    assert unexplained.exit_code == 2 and "--purpose" in unexplained.output  # 查阅登记
    assert not target.exists()
    result = runner.invoke(main, ["contracts", "export", number, "-o", str(target),
                                  "--purpose", "寄送客户盖章"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
    missing = runner.invoke(main, ["contracts", "export", "HT-000000-0000", "--purpose", "核对"])
    assert missing.exit_code == 3
