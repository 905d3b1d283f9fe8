"""A clerk works on a contract's page: money typed as people type it, lines counted from 1,
and completing a contract that still has goods or money open only after saying why."""

from __future__ import annotations

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

from sqlalchemy import select

from archive import users
from archive.models import AuditEntry

PASSWORD = "correct-horse-9"


def sign_in(client, archive, name="clerk-user", role="clerk") -> None:
    """Sign in as ``name``: by default the clerk who filed the contract (a clerk works on
    her own contracts only), else a new user with ``role``."""
    if users.by_name(archive.catalogue, name):
        users.set_password(archive.catalogue, name, PASSWORD)
    else:
        users.add_user(archive.catalogue, name, role, password=PASSWORD)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": name, "password": PASSWORD,
                                           "csrf": token})  # fmt: skip
    assert response.status_code == 302


def submit(client, number: str, what: str, form: dict):
    """Open the dossier page as a person does, then send one of its forms."""
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post(f"/contracts/{number}/{what}", data={"csrf": token, **form})


def dossier(client, auth, number: str) -> dict:
    return client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()


def test_completing_with_goods_and_money_open_shows_them_and_asks_why(
    client, auth, archive, effective
):
    number = effective()
    sign_in(client, archive)
    asked = submit(client, number, "status", {"status": "completed"})
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    for said in ("确认履行完毕", "第1项", "数控车床", "第2项", "车床刀具套装", "382,505.00"):
        assert said in page, said
    assert 'name="force" value="1"' in page and 'name="note"' in page
    assert dossier(client, auth, number)["status"] == "effective"

    without_reason = submit(client, number, "status", {"status": "completed", "force": "1"})
    assert without_reason.status_code == 422
    assert "说明原因" in without_reason.get_data(as_text=True)
    assert dossier(client, auth, number)["status"] == "effective"

    done = submit(
        client,
        number,
        "status",
        {"status": "completed", "force": "1", "note": "客户书面确认，余款另行催收"},
    )
    assert done.status_code == 302
    assert dossier(client, auth, number)["status"] == "completed"
    with archive.catalogue.reading() as s:
        notes = s.scalars(
            select(AuditEntry.note).where(
                AuditEntry.target == number, AuditEntry.action == "contract.status"
            )
        )
        assert "客户书面确认，余款另行催收" in list(notes)


def test_a_manager_reopens_a_contract_completed_by_mistake(client, auth, archive, effective):
    number = effective()
    completed = client.post(f"/api/v1/contracts/{number}/status", headers=auth(), json={
        "status": "completed", "force": True, "note": "误点"})  # fmt: skip
    assert completed.status_code == 200
    sign_in(client, archive, "wang", "manager")
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "重新打开" in page
    reopened = submit(client, number, "status", {"status": "effective", "note": "货未发，误点"})
    assert reopened.status_code == 302
    shown = dossier(client, auth, number)
    assert shown["status"] == "effective" and shown["approved_by"] == "manager-user"


def test_money_is_taken_as_people_type_it(client, auth, archive, effective):
    number = effective()
    sign_in(client, archive)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for typed in ("31,225.98", "３１，２２５．９８", "31 225.98", "¥31,225.98", "31225.98 元"):
        paid = submit(client, number, "payments",
                      {"amount": typed, "paid_on": today, "method": "银行转账"})  # fmt: skip
        assert paid.status_code == 302, typed
    assert dossier(client, auth, number)["paid"] == "156129.90"  # 5 × 31,225.98

    for typed in ("31.225,98", "3,12,25.98", "31225.981", "三万"):
        refused = submit(client, number, "payments",
                         {"amount": typed, "paid_on": today, "method": "银行转账"})  # fmt: skip
        page = client.get(refused.headers["Location"]).get_data(as_text=True)
        assert "amount" in page or "金额" in page, typed
    assert dossier(client, auth, number)["paid"] == "156129.90"


def test_an_amended_price_may_be_typed_with_separators(client, auth, archive, effective):
    number = effective()
    sign_in(client, archive)
    amended = submit(client, number, "amendments", {
        "reason": "调价", "effective_on": "2026-11-24", "changes.0.field": "unit_price",
        "changes.0.line": "1", "changes.0.after": "１９０,０００.００"})  # fmt: skip
    assert amended.status_code == 302
    terms = dossier(client, auth, number)["terms"]
    assert terms["items"][0]["unit_price"] == "190000.00"


def test_the_dossier_page_counts_lines_from_1_like_the_pdf(client, auth, archive, effective):
    number = effective()
    sign_in(client, archive)
    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert re.search(r"<td>1</td><td>数控车床</td>", page)
    assert re.search(r"<td>2</td><td>车床刀具套装</td>", page)
    assert 'name="changes.0.line"' in page and 'name="changes.0.item"' not in page
    shipped = submit(client, number, "deliveries", {
        "delivery_date": "2026-11-24", "carrier": "德邦", "tracking_no": "DB1",
        "prepared_by": "张敏", "items.1.line": "2", "items.1.quantity": "3"})  # fmt: skip
    assert shipped.status_code == 302
    (notice,) = dossier(client, auth, number)["deliveries"]
    assert [(line["line"], line["name"]) for line in notice["lines"]] == [(2, "车床刀具套装")]
    refused = submit(client, number, "amendments", {
        "reason": "调价", "effective_on": "2026-11-24", "changes.0.field": "unit_price",
        "changes.0.line": "3", "changes.0.after": "1.00"})  # fmt: skip
    assert "1–2" in client.get(refused.headers["Location"]).get_data(as_text=True)


def _form_values(page: str) -> dict[str, str]:
    """What a browser sends for the form as shown: inputs, textareas, selected options."""
    values = {m.group(1): html.unescape(m.group(2)) for m in
              re.finditer(r'<input name="([^"]+)"[^>]*value="([^"]*)"', page)}  # fmt: skip
    values |= {m.group(1): html.unescape(m.group(2)) for m in
               re.finditer(r'<textarea name="([^"]+)"[^>]*>([^<]*)</textarea>', page)}  # fmt: skip
    for name, options in re.findall(r'<select name="([^"]+)">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option (?:value="([^"]*)" )?selected>([^<]*)', options)
        if chosen:
            values[name] = chosen.group(1) or chosen.group(2)
    values |= dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return values


def test_a_clerk_corrects_a_draft_on_its_page_and_sees_what_changed(client, auth, archive,
                                                                     create):  # fmt: skip
    created = create()
    number = created["contract_no"]
    sign_in(client, archive)
    shown = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "编辑（改稿）" in shown and "改稿记录" not in shown

    form = client.get(f"/contracts/{number}/edit").get_data(as_text=True)
    values = _form_values(form)
    assert values["buyer.name"] == "杭州临平精工机械有限公司"  # the draft as it stands
    assert values["items.0.unit_price"] and values["based_on"] == "1"
    values["buyer.name"] = "杭州临平精工机械股份有限公司"
    values["note"] = "需方已改制为股份公司"
    saved = client.post(f"/contracts/{number}/edit", data=values)
    assert saved.status_code == 302, saved.get_data(as_text=True)

    page = client.get(f"/contracts/{number}").get_data(as_text=True)
    assert "已生成第 2 稿" in page
    history = page[page.index("改稿记录") : page.index("产品与交付")]
    for said in (
        "第 2 稿（现行）",
        "需方·名称",
        "<del>杭州临平精工机械有限公司</del>",
        "<ins>杭州临平精工机械股份有限公司</ins>",
        "需方已改制为股份公司",
        "首次生成",
    ):
        assert said in history, said
    assert "已被后一稿取代" in page
    body = dossier(client, auth, number)
    assert (body["contract_no"], body["archival_code"]) == (number, created["archival_code"])

    # A second tab still showing the first revision cannot overwrite the second.
    values["signed_at"] = "上海市徐汇区"
    stale = client.post(f"/contracts/{number}/edit", data=values)
    assert stale.status_code == 422 and "第 2 稿" in stale.get_data(as_text=True)
    assert dossier(client, auth, number)["revision"] == 2


def test_an_effective_contract_has_no_edit_form(client, auth, archive, effective):
    number = effective()
    sign_in(client, archive)
    assert "编辑（改稿）" not in client.get(f"/contracts/{number}").get_data(as_text=True)
    refused = client.get(f"/contracts/{number}/edit")
    assert refused.status_code == 302
    assert "补充协议" in client.get(refused.location).get_data(as_text=True)
