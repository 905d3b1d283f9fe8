"""A clerk creates a contract through the API, downloads it, and a manager approves it."""

from __future__ import annotations

import hashlib
import io
import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from archive.models import AuditEntry, Contract, Document, Sequence
from tests.conftest import BOTH_DATABASES
from tests.helpers import docx_part, docx_text, pdf_fonts, pdf_text

pytestmark = BOTH_DATABASES

UPPER = "叁拾捌万贰仟伍佰零伍元整"


PURPOSE = "核对条款"  # every download names its purpose (查阅登记)


def download(client, auth, url, role="clerk"):
    response = client.get(url, query_string={"purpose": PURPOSE}, headers=auth(role))
    assert response.status_code == 200, response.get_json()
    return response


def test_create_returns_a_numbered_draft_with_computed_totals(create):
    body = create()
    assert re.fullmatch(r"HT-202611-\d{4}", body["contract_no"])
    assert body["status"] == "draft"
    assert body["total"] == "382505.00"
    assert body["total_upper"] == UPPER
    assert [i["amount"] for i in body["terms"]["items"]] == ["370000.00", "12505.00"]
    (doc,) = body["documents"]
    assert doc["kind"] == "sales_contract"
    assert {"pdf", "docx"} <= set(doc)
    assert all(len(doc[f]["sha256"]) == 64 and doc[f]["url"] for f in ("pdf", "docx"))


def test_the_pdf_reads_as_the_contract(client, auth, create):
    body = create()
    doc = body["documents"][0]
    response = download(client, auth, doc["pdf"]["url"])
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name == f"销售合同-{body['contract_no']}.pdf"
    assert hashlib.sha256(response.data).hexdigest() == doc["pdf"]["sha256"]
    unexplained = client.get(doc["pdf"]["url"], headers=auth())
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]

    text = pdf_text(response.data)
    for expected in ("上海申远机电设备有限公司", "杭州临平精工机械有限公司", "数控车床", "CK6150",
                     "车床刀具套装", "370,000.00", "382,505.00", UPPER, body["contract_no"],
                     "质量标准", "违约责任", "争议解决", "上海仲裁委员会", "盖章"):  # fmt: skip
        assert expected in text, expected


def test_the_pdf_is_pdfa_with_an_embedded_chinese_font_and_metadata(client, auth, create):
    body = create()
    data = download(client, auth, body["documents"][0]["pdf"]["url"]).data
    fonts = pdf_fonts(data)
    assert any("CJK" in name and embedded for name, embedded in fonts.items()), fonts
    assert all(fonts.values()), f"every font is embedded: {fonts}"
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata.title == f"销售合同 {body['contract_no']}"
    assert body["contract_no"] in reader.metadata["/Keywords"]
    assert "杭州临平精工机械有限公司" in reader.metadata.subject
    xmp = reader.xmp_metadata
    assert (xmp.pdfaid_part, xmp.pdfaid_conformance) == ("2", "B")
    assert xmp.dc_title["x-default"] == reader.metadata.title


def test_the_word_file_is_tagged_simplified_chinese(client, auth, create):
    body = create()
    response = download(client, auth, body["documents"][0]["docx"]["url"])
    assert response.mimetype.endswith("wordprocessingml.document")
    assert UPPER in docx_text(response.data)
    styles = docx_part(response.data, "word/styles.xml")
    assert 'w:eastAsia="zh-CN"' in styles
    assert 'w:eastAsia="Noto Serif CJK SC"' in styles


def test_markup_and_template_syntax_in_data_appear_literally(client, auth, create, payload):
    payload["buyer"]["name"] = 'A&B <贸易> "公司"'
    payload["extra_clauses"] = ["{{ 7*7 }} 与 {% for x in y %} 原样显示", "</w:t><w:t>注入"]
    body = create(payload)
    doc = body["documents"][0]
    text = docx_text(download(client, auth, doc["docx"]["url"]).data)
    assert 'A&B <贸易> "公司"' in text
    assert "{{ 7*7 }} 与 {% for x in y %} 原样显示" in text
    assert "</w:t><w:t>注入" in text
    assert "49" not in text
    pdf = pdf_text(download(client, auth, doc["pdf"]["url"]).data)
    assert "A&B <贸易>" in pdf
    assert "{{ 7*7 }}" in pdf


def test_get_contract_shows_terms_and_documents(client, auth, create):
    body = create()
    response = client.get(f"/api/v1/contracts/{body['contract_no']}", headers=auth("archivist"))
    assert response.status_code == 200
    shown = response.get_json()
    assert shown["total"] == "382505.00"
    assert shown["buyer"]["name"] == "杭州临平精工机械有限公司"
    assert shown["documents"] == body["documents"]
    missing = client.get("/api/v1/contracts/HT-209901-9999", headers=auth())
    assert missing.status_code == 404
    assert "HT-209901-9999" in missing.get_json()["message"]


def test_a_manager_makes_a_contract_effective_and_the_lifecycle_is_enforced(client, auth, create):
    number = create()["contract_no"]
    url = f"/api/v1/contracts/{number}/status"

    refused = client.post(url, json={"status": "effective"}, headers=auth("clerk"))
    assert refused.status_code == 403
    assert "销售经理" in refused.get_json()["message"]

    too_early = client.post(url, json={"status": "completed"}, headers=auth("manager"))
    assert too_early.status_code == 409

    approved = client.post(url, json={"status": "effective"}, headers=auth("manager"))
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "effective"
    assert approved.get_json()["approved_by"] == "manager-user"

    done = client.post(url, json={"status": "completed", "force": True, "note": "已线下交付"},
                       headers=auth("clerk"))  # fmt: skip
    assert done.get_json()["status"] == "completed"
    again = client.post(url, json={"status": "terminated"}, headers=auth("manager"))
    assert again.status_code == 409

    bad = client.post(url, json={"status": "archived"}, headers=auth("manager"))
    assert bad.status_code == 422
    assert "status" in bad.get_json()["errors"]


def test_completing_a_contract_with_goods_undelivered_or_money_owed_asks_for_a_reason(
    client, auth, archive, effective
):
    number = effective()
    url = f"/api/v1/contracts/{number}/status"
    refused = client.post(url, json={"status": "completed"}, headers=auth("clerk"))
    assert refused.status_code == 409
    message = refused.get_json()["message"]
    for said in ("第1项", "数控车床", "未发货 2 台", "第2项", "车床刀具套装", "未发货 10 套",
                 "382,505.00", "force", "note"):  # fmt: skip
        assert said in message, said
    unexplained = client.post(url, json={"status": "completed", "force": True},
                              headers=auth("clerk"))  # fmt: skip
    assert unexplained.status_code == 422
    assert "note" in unexplained.get_json()["errors"]
    not_a_boolean = client.post(url, json={"status": "completed", "force": "yes", "note": "x"},
                                headers=auth("clerk"))  # fmt: skip
    assert not_a_boolean.status_code == 422 and "force" in not_a_boolean.get_json()["errors"]
    shown = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    assert shown["status"] == "effective"

    done = client.post(url, headers=auth("clerk"), json={
        "status": "completed", "force": True, "note": "需方书面确认收货，余款另案追收",
    })  # fmt: skip
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "completed"
    with archive.catalogue.reading() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.target == number,
                                                   AuditEntry.action == "contract.status")
                          .order_by(AuditEntry.id.desc())).first()  # fmt: skip
    assert entry.note == "需方书面确认收货，余款另案追收"
    assert entry.detail["forced"] is True and entry.detail["outstanding"] == "382505.00"
    assert [line["line"] for line in entry.detail["undelivered"]] == [1, 2]


def test_a_contract_delivered_and_paid_in_full_completes_without_a_question(
    client, auth, effective
):
    number = effective()
    shipped = client.post(f"/api/v1/contracts/{number}/deliveries", headers=auth(), json={
        "delivery_date": "2026-11-23", "items": [{"line": 1, "quantity": "2"},
                                                 {"line": 2, "quantity": "10"}],
        "carrier": "德邦", "tracking_no": "DB1", "prepared_by": "张敏"})  # fmt: skip
    assert shipped.status_code == 201, shipped.get_json()
    paid = client.post(f"/api/v1/contracts/{number}/payments", headers=auth(), json={
        "amount": "382505.00", "paid_on": "2026-11-24", "method": "银行转账"})  # fmt: skip
    assert paid.status_code == 201, paid.get_json()
    done = client.post(f"/api/v1/contracts/{number}/status", json={"status": "completed"},
                       headers=auth("clerk"))  # fmt: skip
    assert done.status_code == 200, done.get_json()


def test_only_a_manager_reopens_a_completed_contract_and_says_why(client, auth, effective):
    number = effective()
    url = f"/api/v1/contracts/{number}/status"
    client.post(url, json={"status": "completed", "force": True, "note": "误操作前"},
                headers=auth("clerk"))  # fmt: skip
    clerk = client.post(url, json={"status": "effective", "note": "点错了"}, headers=auth("clerk"))
    assert clerk.status_code == 403 and "销售经理" in clerk.get_json()["message"]
    silent = client.post(url, json={"status": "effective"}, headers=auth("manager"))
    assert silent.status_code == 422 and "note" in silent.get_json()["errors"]
    reopened = client.post(url, json={"status": "effective", "note": "货物尚未交付，误标履行完毕"},
                           headers=auth("manager"))  # fmt: skip
    assert reopened.status_code == 200, reopened.get_json()
    body = reopened.get_json()
    assert body["status"] == "effective" and body["approved_by"] == "manager-user"


def _catalogue_counts(archive) -> tuple[int, int, int, int]:
    with archive.catalogue.reading() as s:
        return (
            s.scalar(select(func.count(Contract.id))),
            s.scalar(select(func.count(Document.id))),
            s.scalar(select(func.coalesce(func.sum(Sequence.last), 0))),
            len(list(archive.storage.digests())),
        )


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["items"][1].update(quantity="0"), "items.1.quantity"),
        (lambda d: d["items"][0].update(unit_price="1.001"), "items.0.unit_price"),
        (lambda d: d["items"][0].update(unit_price=185000.5), "items.0.unit_price"),
        (lambda d: d.update(signed_on="20-11-2026"), "signed_on"),
        (lambda d: d.update(total="1.00"), "total"),
        (lambda d: d["buyer"].update(name="\x1b[31m红色"), "buyer.name"),
        (lambda d: d.pop("items"), "items"),
    ],
)
def test_invalid_payloads_get_422_with_paths_and_write_nothing(
    client, auth, archive, payload, change, path
):
    before = _catalogue_counts(archive)
    change(payload)
    response = client.post("/api/v1/contracts", json=payload, headers=auth())
    assert response.status_code == 422
    body = response.get_json()
    assert path in body["errors"], body
    assert _catalogue_counts(archive) == before == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("{not json", "application/json"), ("[1, 2]", "application/json"),
     ("region=华东", "application/x-www-form-urlencoded"), ("", "application/json")],
)  # fmt: skip
def test_a_body_that_is_not_a_json_object_is_a_4xx(client, auth, archive, data, content_type):
    response = client.post("/api/v1/contracts", data=data.encode(), content_type=content_type,
                           headers=auth())  # fmt: skip
    assert response.status_code in (400, 422)
    assert response.is_json and response.get_json()["message"]
    assert _catalogue_counts(archive) == (0, 0, 0, 0)


def test_numbers_continue_after_a_rejected_request(client, auth, create, payload):
    bad = {**payload, "items": []}
    assert client.post("/api/v1/contracts", json=bad, headers=auth()).status_code == 422
    assert create()["contract_no"] == "HT-202611-0001"
    assert create()["contract_no"] == "HT-202611-0002"


def test_twenty_parallel_creates_get_twenty_distinct_numbers(app, auth, payload):
    def post(_):
        response = app.test_client().post("/api/v1/contracts", json=payload, headers=auth())
        assert response.status_code == 201, response.get_json()
        return response.get_json()["contract_no"]

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(post, range(20)))
    assert sorted(numbers) == [f"HT-202611-{n:04d}" for n in range(1, 21)]


def test_every_api_call_needs_a_valid_token(client, create):
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/contracts", headers=headers)
        assert response.status_code == 401
        assert response.is_json and response.get_json()["message"]
        assert "Bearer" in response.headers["WWW-Authenticate"]


def test_an_archivist_cannot_create_contracts(client, auth, payload):
    response = client.post("/api/v1/contracts", json=payload, headers=auth("archivist"))
    assert response.status_code == 403
    assert response.is_json


def test_creation_status_changes_and_downloads_are_audited(client, auth, archive, create):
    body = create()
    number = body["contract_no"]
    client.post(f"/api/v1/contracts/{number}/status", json={"status": "effective"},
                headers=auth("manager"))  # fmt: skip
    client.get(body["documents"][0]["pdf"]["url"] + "?purpose=核对条款", headers=auth("archivist"))
    with archive.catalogue.reading() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.target == number)).all()
    actions = [(e.action, e.actor) for e in entries]
    assert actions == [
        ("contract.create", "clerk-user"),
        ("contract.status", "manager-user"),
        ("document.download", "archivist-user"),
    ]
    assert all(e.client == "127.0.0.1" and e.at for e in entries)
    assert entries[1].detail == {"before": "draft", "after": "effective"}
    assert entries[2].note == "核对条款"


def test_list_contracts_filters_and_pages(client, auth, create, payload):
    create()
    payload["region"] = "华北"
    create(payload)
    listed = client.get("/api/v1/contracts?region=华北", headers=auth("archivist")).get_json()
    assert listed["total"] == 1
    assert listed["items"][0]["region"] == "华北"


def test_openapi_document_and_docs_page(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/contracts" in spec["paths"]
    assert "/api/v1/contracts/{contract_no}/status" in spec["paths"]
    assert "bearer" in spec["components"]["securitySchemes"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/api/v1/docs/assets/swagger-ui-bundle.js" in page.data
    with client.get("/api/v1/docs/assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200


def test_healthz_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"
