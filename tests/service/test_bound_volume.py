"""An archivist binds the 2020 华东 volume in 2026, DA/T 22 style: a cover (案卷封面), a
contents page (卷内目录) whose entries give the page each document starts on, the documents
with bookmarks that read as titles, and a 备考表 at the end. A contract destroyed under
retention is left out and named in the 备考表 with its certificate; a contract with money owed
was moved by the sweep to the unpaid volume (未收款另册), which is a volume of its own: listed,
bound and exported through the API, the page and the command line."""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from archive import users
from service.cli import main

PASSWORD = "correct-horse-9"
SELLER = "上海申远机电设备有限公司"
# Every bound volume names its purpose (查阅登记).
WHY = {"purpose": "年度归档装订"}


def pages_text(data: bytes) -> list[str]:
    """Each page as ``pdftotext -layout`` reads it."""
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode()  # fmt: skip
    return out.split("\f")[: len(PdfReader(io.BytesIO(data)).pages)]


def outline(reader: PdfReader, items=None, depth=0) -> list[tuple[int, str, int]]:
    """(depth, title, page index) of every bookmark, in order."""
    found = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            found += outline(reader, item, depth + 1)
        else:
            found.append((depth, item.title, reader.get_destination_page_number(item)))
    return found


@pytest.fixture
def volume(client, auth, payload, archive):
    """2020 华东: A (effective, one amendment, one delivery notice) and D (effective) stay in
    the volume; B was completed with nothing paid, so the 2026-01-01 sweep moved it to the
    unpaid volume; C was withdrawn and a manager destroyed it."""
    _, token = users.add_user(archive.catalogue, "zhao", "archivist", password=PASSWORD,
                              display_name="赵档案")  # fmt: skip

    def contract(signed_on):
        body = copy.deepcopy(payload)
        body["signed_on"] = signed_on
        body["delivery"]["deadline"] = body["payment"]["due_on"] = "2020-12-31"
        response = client.post("/api/v1/contracts", json=body, headers=auth())
        assert response.status_code == 201, response.get_json()
        return response.get_json()["contract_no"]

    def act(number, what, body, role="clerk"):
        response = client.post(f"/api/v1/contracts/{number}/{what}", json=body,
                               headers=auth(role))  # fmt: skip
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    a, d, b, c = (contract(day) for day in ("2020-03-02", "2020-04-08", "2020-05-12",
                                            "2020-06-18"))  # fmt: skip
    for number in (a, d, b):
        act(number, "status", {"status": "effective"}, "manager")
    amendment = act(a, "amendments", {"reason": "调整付款条件", "effective_on": "2020-07-01",
                    "changes": [{"field": "payment.terms",
                                 "after": "验收后10日内付清"}]})  # fmt: skip
    delivery = act(a, "deliveries", {"delivery_date": "2020-07-10",
                   "items": [{"line": 1, "quantity": "1"}], "carrier": "顺丰物流",
                   "tracking_no": "SF1402837465921", "prepared_by": "张敏"})  # fmt: skip
    act(b, "status", {"status": "completed", "force": True, "note": "客户拖欠"}, "manager")
    act(c, "status", {"status": "terminated"})
    swept = client.post("/api/v1/retention/runs", json={"as_of": "2026-01-01"},
                        headers=auth("archivist"))  # fmt: skip
    assert swept.status_code == 201, swept.get_json()
    done = client.post("/api/v1/retention/destructions", headers=auth("manager"),
                       json={"contract_nos": [c], "note": "到期销毁"})  # fmt: skip
    assert done.status_code == 201, done.get_json()
    codes = {n: client.get(f"/api/v1/contracts/{n}", headers=auth()).get_json()["archival_code"]
             for n in (a, d, b)}  # fmt: skip
    return {"a": a, "d": d, "b": b, "c": c, "amendment": amendment["number"],
            "delivery": delivery["number"], "certificate": done.get_json()["certificate"],
            "codes": codes, "zhao": {"Authorization": f"Bearer {token}"}}  # fmt: skip


def test_the_bound_volume_has_cover_contents_with_start_pages_and_a_notes_page(
    client, auth, archive, volume
):
    response = client.get("/api/v1/volumes/2020/华东/pdf", query_string=WHY,
                          headers=volume["zhao"])  # fmt: skip
    assert response.status_code == 200, response.get_json()
    reader = PdfReader(io.BytesIO(response.data))
    pages = pages_text(response.data)
    flat = [re.sub(r"\s+", "", p) for p in pages]

    # the documents: A's contract, amendment, six delivery copies; D's contract
    documents = [volume["a"], volume["amendment"], volume["delivery"], volume["d"]]
    headings = {volume["a"]: "销售合同", volume["amendment"]: "补充协议",
                volume["delivery"]: "发货通知单", volume["d"]: "销售合同"}  # fmt: skip

    # 案卷封面
    cover = flat[0]
    for field in ("全宗名称", SELLER, "案卷题名", "2020年度华东区域销售合同", "年度2020",
                  "区域华东", "保管期限5年", "件数2件", "立卷人赵档案"):  # fmt: skip
        assert field in cover, (field, pages[0])
    codes = sorted(volume["codes"][n] for n in (volume["a"], volume["d"]))
    assert f"{codes[0]}至{codes[-1]}" in cover, pages[0]
    today = dt.datetime.now(archive.zone).date()  # the day in local time
    assert f"日期{today.year}年{today.month}月{today.day}日" in cover, pages[0]
    assert volume["b"] not in "".join(flat[:-1])  # in the unpaid volume: named in the 备考表
    assert volume["c"] not in "".join(flat[:-1])  # the destroyed contract: only in the 备考表

    # 卷内目录: one entry per document with the page it starts on
    contents = [i for i, p in enumerate(flat) if "卷内目录" in p and "页号" in p]
    assert contents and contents[0] == 1
    starts = {}
    for i in contents:
        for line in pages[i].splitlines():
            for number in documents:
                if re.search(rf"(?<![\w-]){re.escape(number)}(?![\w-])", line):
                    starts[number] = int(line.split()[-1])
    assert set(starts) == set(documents), starts
    for number, page in starts.items():
        index = page - 1
        assert headings[number] in re.sub(r"\s+", "", pages[index]).replace("销售合同档案", ""), (
            number, page)  # fmt: skip
        assert number in flat[index]
        if index - 1 not in contents:  # the page before is another document's
            assert number not in flat[index - 1], (number, page)
    assert starts[volume["a"]] == contents[-1] + 2
    pages_of_documents = len(reader.pages) - 1 - len(contents) - 1
    assert f"页数{pages_of_documents}页" in cover, pages[0]

    # bookmarks: titles, never file names; each points where the contents says
    marks = outline(reader)
    titles = [title for _, title, _ in marks]
    assert not any(t.lower().endswith(".pdf") for t in titles), titles
    expected = {f"销售合同 {volume['a']}": volume["a"],
                f"补充协议 {volume['amendment']}": volume["amendment"],
                f"发货通知单 {volume['delivery']}": volume["delivery"],
                f"销售合同 {volume['d']}": volume["d"]}  # fmt: skip
    for title, number in expected.items():
        page = next(p for _, t, p in marks if t == title)
        assert page + 1 == starts[number], (title, page)
    assert ("案卷封面", 0) in [(t, p) for _, t, p in marks]
    assert any(t == "备考表" and p == len(reader.pages) - 1 for _, t, p in marks)

    # 备考表 at the end
    notes = flat[-1]
    assert "备考表" in notes
    assert f"本卷共有2件（文件4份），共{pages_of_documents}页" in notes, pages[-1]
    assert volume["c"] in notes and volume["certificate"] in notes
    assert volume["b"] in notes and "未收款另册" in notes
    for field in ("立卷人", "赵档案", "检查人", "立卷时间"):
        assert field in notes, (field, pages[-1])
    assert "赵档案" in notes and "archivist-user" not in notes


def test_the_unpaid_volume_is_listed_and_bound_on_its_own(
    app, client, auth, runner, volume, tmp_path
):
    items = client.get("/api/v1/volumes", headers=auth("archivist")).get_json()["items"]
    assert items == [
        {"year": 2020, "region": "华东", "kind": "regular", "title": "2020·华东",
         "contracts": 2, "documents": 4, "destroyed": 1},
        {"year": 2020, "region": "华东", "kind": "unpaid", "title": "2020·华东·未收款另册",
         "contracts": 1, "documents": 1, "destroyed": 0},
    ]  # fmt: skip

    unpaid = client.get("/api/v1/volumes/2020/华东/pdf", query_string={"kind": "unpaid", **WHY},
                        headers=auth("archivist"))  # fmt: skip
    assert unpaid.status_code == 200, unpaid.get_json()
    assert "%E6%9C%AA%E6%94%B6%E6%AC%BE" in unpaid.headers["Content-Disposition"]  # 未收款
    flat = [re.sub(r"\s+", "", p) for p in pages_text(unpaid.data)]
    assert "2020年度华东区域销售合同（未收款另册）" in flat[0], flat[0]
    assert "件数1件" in flat[0] and "保管期限" in flat[0]
    titles = [t for _, t, _ in outline(PdfReader(io.BytesIO(unpaid.data)))]
    assert f"销售合同 {volume['b']}" in titles
    assert not any(volume["a"] in t or volume["d"] in t for t in titles)
    regular = client.get("/api/v1/volumes/2020/华东/pdf", query_string=WHY,
                         headers=auth("archivist"))  # fmt: skip
    assert not any(volume["b"] in t for _, t, _ in outline(PdfReader(io.BytesIO(regular.data))))

    bad = client.get("/api/v1/volumes/2020/华东/pdf", query_string={"kind": "other", **WHY},
                     headers=auth("archivist"))  # fmt: skip
    assert bad.status_code == 422
    none = client.get("/api/v1/volumes/2020/华南/pdf", query_string={"kind": "unpaid", **WHY},
                      headers=auth("archivist"))  # fmt: skip
    assert none.status_code == 404
    unexplained = client.get("/api/v1/volumes/2020/华东/pdf?kind=unpaid",
                             headers=auth("archivist"))  # fmt: skip
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]

    spec = client.get("/api/v1/openapi.json").get_json()
    params = spec["paths"]["/api/v1/volumes/{year}/{region}/pdf"]["get"]["parameters"]
    assert any(p["name"] == "kind" and p["in"] == "query" for p in params)
    assert any(p["name"] == "purpose" and p["required"] for p in params)

    # the command line
    listed = runner.invoke(main, ["volumes", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        "2020\t华东\t合同 2\t文件 4\t已销毁 1",
        "2020\t华东·未收款另册\t合同 1\t文件 1\t已销毁 0",
    ]
    target = tmp_path / "unpaid.pdf"
    exported = runner.invoke(main, ["volumes", "export", "2020", "华东", "--unpaid", "-o",
                                    str(target), "--purpose", "清理欠款"])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert "未收款另册" in re.sub(r"\s+", "", pages_text(target.read_bytes())[0])

    # the page
    browser = app.test_client()
    login = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
    browser.post("/login", data={"username": "zhao", "password": PASSWORD, "csrf": csrf})
    page = browser.get("/volumes").get_data(as_text=True)
    assert "未收款另册" in page
    link = re.search(r'href="([^"]*\.pdf\?kind=unpaid)"', page)
    assert link, page
    asked = browser.get(link.group(1).replace("&amp;", "&"))  # first: why? (查阅登记)
    assert asked.status_code == 200 and asked.mimetype == "text/html"
    form = asked.get_data(as_text=True)
    assert "说明用途" in form and 'name="purpose"' in form
    assert '<input type="hidden" name="kind" value="unpaid">' in form
    bound = browser.get(link.group(1).replace("&amp;", "&") + "&purpose=清理欠款")
    assert bound.status_code == 200 and bound.mimetype == "application/pdf"
    assert "未收款另册" in re.sub(r"\s+", "", pages_text(bound.data)[0])
