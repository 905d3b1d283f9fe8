"""The business owns its templates: an administrator uploads a new wording, the check refuses
a misspelled variable with its place and keeps nothing, a fixed file is previewed, activated,
and drafts the next contract of its business type — while earlier contracts still name the
version they were made with."""

from __future__ import annotations

import io

from docx import Document

from archive import users
from archive.models import Contract, Template, TemplateVersion
from tests.conftest import BOTH_DATABASES
from tests.helpers import docx_text, misspell, offered, paragraph_with, pdf_text, split_tag

pytestmark = BOTH_DATABASES

OWN_WORDING = "设备安装调试由供方负责，验收合格后方可投入使用"


def own_wording(document) -> None:
    """The company's lawyers' clause, added where the quality clause is, and a tag Word split."""
    _, paragraph = paragraph_with(document, "{{ quality_standard }}")
    paragraph.insert_paragraph_before(OWN_WORDING + "。")
    split_tag(document)


def upload(client, auth, template_id, data, note="法务部修订", role="admin"):
    return client.post(f"/api/v1/templates/{template_id}/versions", headers=auth(role),
                       data={"file": (io.BytesIO(data), "设备买卖合同.docx"), "note": note},
                       content_type="multipart/form-data")  # fmt: skip


def register(client, auth) -> dict[str, dict]:
    response = client.get("/api/v1/templates", headers=auth("clerk"))
    assert response.status_code == 200
    return {t["title"]: t for t in response.get_json()}


def document_of(client, auth, contract_no, kind="sales_contract", role="clerk") -> dict:
    dossier = client.get(f"/api/v1/contracts/{contract_no}", headers=auth(role)).get_json()
    return next(d for d in dossier["documents"] if d["kind"] == kind)


def word_text(client, auth, contract_no) -> str:
    doc = document_of(client, auth, contract_no)
    response = client.get(doc["docx"]["url"], query_string={"purpose": "核对"}, headers=auth())
    return docx_text(response.data)


def test_every_kind_starts_with_the_bundled_template_as_version_1(client, auth):
    templates = register(client, auth)
    assert {
        "销售合同·设备买卖",
        "销售合同·零部件供货",
        "销售合同·框架协议",
        "补充协议",
        "发货通知单",
        "销毁清单与销毁记录",
        "卷内目录",
        "案卷封面",
        "卷内备考表",
    } <= set(templates)
    for template in templates.values():
        (first,) = template["versions"]
        assert (first["number"], first["state"], first["origin"]) == (1, "active", "bundled")
        assert template["active_version"] == 1 and first["state_name"] == "使用中"


def test_an_admin_replaces_the_wording_of_one_business_type(client, auth, create, payload, archive):
    machines = register(client, auth)["销售合同·设备买卖"]
    earlier = create({**payload, "business_type": "设备买卖"})
    assert earlier["business_type"] == "设备买卖"
    made_with = document_of(client, auth, earlier["contract_no"])["template"]
    assert (made_with["title"], made_with["version"]) == ("销售合同·设备买卖", 1)

    # A misspelled variable: refused with the variable and its paragraph, nothing kept.
    data = offered(misspell)
    number, _ = paragraph_with(Document(io.BytesIO(data)), "buyer.nmae")
    refused = upload(client, auth, machines["id"], data)
    assert refused.status_code == 422
    (problem,) = refused.get_json()["errors"]["file"]
    assert "buyer.nmae" in problem and f"正文第 {number} 段" in problem
    assert len(register(client, auth)["销售合同·设备买卖"]["versions"]) == 1

    # Only an administrator uploads.
    assert (
        upload(client, auth, machines["id"], offered(own_wording), role="clerk").status_code == 403
    )

    # Fixed: kept as a draft; new contracts still use version 1 until it is activated.
    kept = upload(client, auth, machines["id"], offered(own_wording))
    assert kept.status_code == 201, kept.get_json()
    draft = kept.get_json()
    assert (draft["number"], draft["state"], draft["note"]) == (2, "draft", "法务部修订")
    assert kept.headers["Location"].endswith(f"/templates/{machines['id']}/versions/2")
    before = create({**payload, "business_type": "设备买卖"})
    assert OWN_WORDING not in word_text(client, auth, before["contract_no"])

    # Previewed with the sample data, and with a real contract's (a recorded retrieval).
    preview = client.get(draft["links"]["preview"], headers=auth("admin"))
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert OWN_WORDING in pdf_text(preview.data).replace("\n", "")
    with_data = client.get(
        draft["links"]["preview"],
        headers=auth("admin"),
        query_string={"contract": earlier["contract_no"], "purpose": "试排版"},
    )
    assert payload["buyer"]["name"] in pdf_text(with_data.data).replace("\n", "")
    no_purpose = client.get(draft["links"]["preview"], headers=auth("admin"),
                            query_string={"contract": earlier["contract_no"]})  # fmt: skip
    assert no_purpose.status_code == 422 and "purpose" in no_purpose.get_json()["errors"]

    # Activated: the next contract of that business type uses it, others do not.
    activated = client.post(draft["links"]["activate"], headers=auth("admin"))
    assert activated.status_code == 200 and activated.get_json()["state"] == "active"
    versions = register(client, auth)["销售合同·设备买卖"]["versions"]
    assert [v["state"] for v in versions] == ["retired", "active"]
    after = create({**payload, "business_type": "设备买卖"})
    text = word_text(client, auth, after["contract_no"])
    assert OWN_WORDING in text and payload["buyer"]["name"] in text  # the split tag, whole
    assert document_of(client, auth, after["contract_no"])["template"]["version"] == 2
    parts = create({**payload, "business_type": "零部件供货"})
    assert OWN_WORDING not in word_text(client, auth, parts["contract_no"])
    # Earlier contracts still name the version they were made with.
    assert document_of(client, auth, earlier["contract_no"])["template"]["version"] == 1


def test_a_contract_of_an_unknown_business_type_is_refused_and_nothing_is_filed(
    client, auth, payload, archive
):
    response = client.post("/api/v1/contracts", json={**payload, "business_type": "太空旅行"},
                           headers=auth())  # fmt: skip
    assert response.status_code == 422
    (message,) = response.get_json()["errors"]["business_type"]
    assert "太空旅行" in message and "设备买卖" in message
    with archive.catalogue.reading() as session:
        assert session.query(Contract).count() == 0


def test_a_contract_without_a_business_type_gets_the_default(create, payload):
    assert create(payload)["business_type"] == "设备买卖"


def test_a_new_business_type_starts_from_the_standard_template(client, auth, create, payload):
    response = client.post("/api/v1/templates", json={"business_type": "工程安装"},
                           headers=auth("admin"))  # fmt: skip
    assert response.status_code == 201
    assert response.get_json()["title"] == "销售合同·工程安装"
    assert response.get_json()["active_version"] == 1
    again = client.post("/api/v1/templates", json={"business_type": "工程安装"},
                        headers=auth("admin"))  # fmt: skip
    assert again.status_code == 409
    assert create({**payload, "business_type": "工程安装"})["business_type"] == "工程安装"


def test_the_same_file_twice_is_one_version(client, auth):
    notes = register(client, auth)["补充协议"]
    data = offered(kind="amendment")  # re-saved by Word: not the bundled bytes
    assert upload(client, auth, notes["id"], data).status_code == 201
    again = upload(client, auth, notes["id"], data)
    assert again.status_code == 409 and "第 2 版" in again.get_json()["message"]


def test_only_a_draft_can_be_set_aside_and_the_active_one_stays(client, auth, archive):
    notes = register(client, auth)["发货通知单"]
    retire_active = client.post(f"/api/v1/templates/{notes['id']}/versions/1/retire",
                                headers=auth("admin"))  # fmt: skip
    assert retire_active.status_code == 409
    with archive.catalogue.reading() as session:
        active = (
            session.query(TemplateVersion)
            .join(Template)
            .filter(Template.kind == "delivery_notice", TemplateVersion.state == "active")
            .count()
        )
    assert active == 1


def test_an_amendment_uses_the_amendment_template_active_when_it_is_made(
    client, auth, effective, archive
):
    notes = register(client, auth)["补充协议"]

    def marked(document):
        document.paragraphs[0].insert_paragraph_before("（二〇二七年版）")

    kept = upload(client, auth, notes["id"], offered(marked, kind="amendment")).get_json()
    client.post(kept["links"]["activate"], headers=auth("admin"))
    contract_no = effective()
    change = {"reason": "调整交货期", "effective_on": "2026-12-05",
              "changes": [{"field": "delivery.deadline", "after": "2027-01-15"}]}  # fmt: skip
    response = client.post(f"/api/v1/contracts/{contract_no}/amendments", json=change,
                           headers=auth("manager"))  # fmt: skip
    assert response.status_code == 201, response.get_json()
    document = document_of(client, auth, contract_no, kind="amendment", role="manager")
    assert document["template"] == {**document["template"], "title": "补充协议", "version": 2}


def test_a_template_that_fails_on_some_contract_answers_422_and_files_nothing(
    tmp_path, settings, payload
):
    """A version that reached the register unchecked (a folder's file, as releases before the
    register used) and fails on this contract's data: a clear 4xx naming the template."""
    from service import create_app
    from tests.templates.test_render import template_with

    broken = "{% if items|length > 1 %}{{ items[1].nope }}{% endif %}{{ buyer.name }}"
    folder = template_with(tmp_path, {"{{ buyer.name }}": broken})
    app = create_app({**settings, "TEMPLATE_DIR": str(folder)})
    archive = app.extensions["hetong.archive"]
    try:
        token = users.add_user(archive.catalogue, "li", "clerk")[1]
        response = app.test_client().post("/api/v1/contracts", json=payload,
                                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert response.status_code == 422
        body = response.get_json()
        assert "template" in body["errors"] and "请管理员检查该模板" in body["message"]
        with archive.catalogue.reading() as session:
            assert session.query(Contract).count() == 0
    finally:
        archive.close()
