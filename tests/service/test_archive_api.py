"""Signed scans, the retrieval register and the bound volumes."""

from __future__ import annotations

import hashlib
import io

import pikepdf
import pytest
from docx import Document as Docx
from pikepdf import Array, Dictionary, Name, String
from pypdf import PdfReader, PdfWriter

from tests.helpers import pdf_text

# Every download and bound volume names its purpose (查阅登记).
WHY = {"purpose": "核对回签件"}


@pytest.fixture
def scan_pdf(converter) -> bytes:
    """A real PDF with text, as a scanner with OCR would return it."""
    doc = Docx()
    doc.add_paragraph("客户回签：货物已验收合格，同意付款。杭州临平精工机械有限公司（盖章）")
    out = io.BytesIO()
    doc.save(out)
    return converter.to_pdf(out.getvalue())


def upload(client, auth, number, data, name="scan.pdf", role="clerk", **form):
    return client.post(
        f"/api/v1/contracts/{number}/documents", headers=auth(role),
        data={"file": (io.BytesIO(data), name), **form}, content_type="multipart/form-data",
    )  # fmt: skip


def test_a_signed_scan_is_filed_listed_and_searchable(client, auth, effective, scan_pdf):
    number = effective()
    response = upload(client, auth, number, scan_pdf, note="客户回寄")
    assert response.status_code == 201, response.get_json()
    scan = response.get_json()
    assert (scan["kind"], scan["number"]) == ("signed_scan", f"{number}-SM01")
    assert response.headers["Location"] == scan["links"]["self"]
    assert client.get(scan["links"]["self"], headers=auth()).get_json() == scan
    assert scan["archival_code"] == "HT·2026·华东·0001-02"
    assert "docx" not in scan
    found = client.get("/api/v1/search", query_string={"q": "验收合格", "kind": "signed_scan"},
                       headers=auth("archivist")).get_json()  # fmt: skip
    assert [h["number"] for h in found["hits"]] == [f"{number}-SM01"]
    download = client.get(scan["pdf"]["url"], query_string=WHY, headers=auth("archivist"))
    assert "货物已验收合格" in pdf_text(download.data)  # the archival copy, read by everyone
    assert scan["original"]["sha256"] == hashlib.sha256(scan_pdf).hexdigest()
    assert "removed" not in scan  # nothing active in a LibreOffice PDF
    evidence = client.get(scan["original"]["url"], query_string=WHY, headers=auth("archivist"))
    assert evidence.data == scan_pdf  # the original bytes, kept as evidence
    unexplained = client.get(scan["original"]["url"], headers=auth("archivist"))
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]
    refused = client.get(scan["original"]["url"], query_string=WHY, headers=auth("clerk"))
    assert refused.status_code == 403 and "原件" in refused.get_json()["message"]


def _hostile(scan_pdf: bytes) -> bytes:
    """The scan as an attacker would send it: scripts on opening and on a page, a launch
    link, an embedded file and a form field."""
    pdf = pikepdf.open(io.BytesIO(scan_pdf))
    script = pdf.make_indirect(Dictionary(S=Name.JavaScript, JS=String("app.alert('x')")))
    pdf.Root.OpenAction = script
    page = pdf.pages[0]
    page.obj.AA = Dictionary(O=pdf.make_indirect(
        Dictionary(S=Name.JavaScript, JS=String("this.print()"))))  # fmt: skip
    launch = Dictionary(S=Name.Launch, F=String("cmd.exe"))
    link = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Link,
                                        Rect=Array([0, 0, 100, 100]), A=launch))  # fmt: skip
    page.obj.Annots = pdf.make_indirect(Array([link]))
    pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not really")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _active(data: bytes) -> list[str]:
    """Every key of the PDF that makes a viewer act (walked over every object)."""
    found = []
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                keys = set(obj.keys()) & {"/OpenAction", "/AA", "/JS", "/Launch", "/EmbeddedFile",
                                           "/EmbeddedFiles", "/AcroForm"}  # fmt: skip
                found += sorted(keys)
                if obj.get("/S") in (Name.JavaScript, Name.Launch):
                    found.append(str(obj.get("/S")))
    return found


def test_an_archived_scan_carries_no_active_content(
    client, auth, archive, effective, scan_pdf, tmp_path
):
    number = effective()
    hostile = _hostile(scan_pdf)
    assert _active(hostile)  # the upload really is hostile
    response = upload(client, auth, number, hostile)
    assert response.status_code == 201, response.get_json()
    scan = response.get_json()
    clean = client.get(scan["pdf"]["url"], query_string=WHY, headers=auth("archivist")).data
    assert _active(clean) == []
    assert "货物已验收合格" in pdf_text(clean)
    # The dossier says what was taken out, in words a person reads.
    assert any("JavaScript" in r for r in scan["removed"])
    assert any("嵌入文件" in r for r in scan["removed"])
    shown = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()
    assert next(d for d in shown["documents"] if d["kind"] == "signed_scan")["removed"]
    # The bound volume is made from the clean copy.
    volume = client.get("/api/v1/volumes/2026/华东/pdf", query_string=WHY,
                        headers=auth("archivist"))  # fmt: skip
    assert volume.status_code == 200 and _active(volume.data) == []
    original = client.get(scan["original"]["url"], query_string=WHY, headers=auth("manager"))
    assert original.data == hostile


def _bomb() -> bytes:
    """15 KB on disk: one page whose drawing instructions inflate to 6 MB."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page()
    page.obj.Contents = pdf.make_stream(b"BT /F1 1 Tf (x) Tj ET\n" * 280_000)
    out = io.BytesIO()
    pdf.save(out, compress_streams=True)
    return out.getvalue()


def test_a_decompression_bomb_is_refused_and_search_stays_fast(client, auth, archive, effective):
    number = effective()
    bomb = _bomb()
    assert len(bomb) < 50_000
    before = set(archive.storage.digests())
    response = upload(client, auth, number, bomb)
    assert response.status_code == 422
    assert "单页内容超过上限" in response.get_json()["errors"]["file"][0]
    assert set(archive.storage.digests()) == before  # nothing kept
    found = client.get("/api/v1/search", query_string={"q": "临平"}, headers=auth("archivist"))
    assert found.status_code == 200 and found.get_json()["total"] == 1


def _encrypted(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (lambda pdf: b"", 422, "为空"),
        (lambda pdf: b"GIF89a not a pdf", 422, "不是 PDF"),
        (lambda pdf: pdf[: len(pdf) // 3], 422, "损坏"),
        (_encrypted, 422, "加密"),
    ],
)
def test_bad_uploads_get_a_clear_4xx_and_file_nothing(
    client, auth, archive, effective, scan_pdf, make, status, words
):
    number = effective()
    before = set(archive.storage.digests())
    response = upload(client, auth, number, make(scan_pdf))
    assert response.status_code == status
    assert words in str(response.get_json())
    assert set(archive.storage.digests()) == before


def test_an_upload_over_the_size_limit_is_413(settings, auth, tokens, effective):
    from service import create_app

    number = effective()
    small = create_app({**settings, "MAX_CONTENT_LENGTH": 10_000})
    response = upload(small.test_client(), auth, number, b"%PDF-1.7" + b"0" * 20_000)
    assert response.status_code == 413
    assert response.is_json
    small.extensions["hetong.archive"].close()


def test_missing_file_field_is_422(client, auth, effective):
    number = effective()
    response = client.post(f"/api/v1/contracts/{number}/documents", headers=auth(),
                           data={"other": "x"}, content_type="multipart/form-data")  # fmt: skip
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]


def test_every_retrieval_is_in_the_access_log(client, auth, create):
    body = create()
    url = body["documents"][0]["pdf"]["url"]
    client.get(url + "?purpose=审计抽查", headers=auth("archivist"))
    docx = body["documents"][0]["docx"]["url"]
    unexplained = client.get(docx, headers=auth("manager"))  # no purpose: refused, not a retrieval
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]
    client.get(docx, query_string={"purpose": "准备催款函"}, headers=auth("manager"))
    log = client.get("/api/v1/access-log", headers=auth("archivist")).get_json()
    assert log["total"] == 2
    latest, first = log["items"]
    assert (first["user"], first["purpose"], first["contract_no"]) == (
        "archivist-user", "审计抽查", body["contract_no"],
    )  # fmt: skip
    assert first["detail"]["format"] == "pdf" and first["at"]
    assert (latest["user"], latest["purpose"]) == ("manager-user", "准备催款函")
    mine = client.get("/api/v1/access-log?user=manager-user", headers=auth("archivist"))
    assert mine.get_json()["total"] == 1
    assert client.get("/api/v1/access-log", headers=auth("clerk")).status_code == 403


def test_volumes_are_listed_by_year_and_region(client, auth, create, payload):
    create()
    create()
    payload["region"] = "华北"
    create(payload)
    volumes = client.get("/api/v1/volumes", headers=auth("archivist")).get_json()["items"]
    assert volumes == [
        {
            "year": 2026,
            "region": "华东",
            "kind": "regular",
            "title": "2026·华东",
            "contracts": 2,
            "documents": 2,
            "destroyed": 0,
        },
        {
            "year": 2026,
            "region": "华北",
            "kind": "regular",
            "title": "2026·华北",
            "contracts": 1,
            "documents": 1,
            "destroyed": 0,
        },
    ]


def test_the_bound_volume_has_contents_and_a_bookmark_per_contract(
    client, auth, create, effective, runner, tmp_path
):
    first = effective()
    second = create()["contract_no"]
    client.post(f"/api/v1/contracts/{first}/amendments", headers=auth(), json={
        "reason": "调整", "effective_on": "2026-12-01",
        "changes": [{"field": "payment.terms", "after": "验收后10日内付清"}]})  # fmt: skip
    client.post(f"/api/v1/contracts/{first}/deliveries", headers=auth(), json={
        "delivery_date": "2026-12-10", "items": [{"line": 1, "quantity": "1"}],
        "carrier": "顺丰物流", "tracking_no": "SF1", "prepared_by": "张敏"})  # fmt: skip

    response = client.get("/api/v1/volumes/2026/华东/pdf", query_string=WHY,
                          headers=auth("archivist"))  # fmt: skip
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    contents = reader.pages[1].extract_text()
    assert "卷内目录" in contents
    for expected in ("HT·2026·华东·0001", "HT·2026·华东·0002", first, second):
        assert expected in contents
    outline = reader.outline
    top = [item.title for item in outline if not isinstance(item, list)]
    assert top == ["案卷封面", "卷内目录", f"HT·2026·华东·0001 {first} 杭州临平精工机械有限公司",
                   f"HT·2026·华东·0002 {second} 杭州临平精工机械有限公司", "备考表"]  # fmt: skip
    children = next(item for item in outline if isinstance(item, list))
    assert [c.title.split()[0] for c in children] == ["销售合同", "补充协议", "发货通知单"]
    # cover, contents, then the documents (as many pages as the contents counts), 备考表
    pages = sum(
        len(
            PdfReader(
                io.BytesIO(
                    client.get(d["pdf"]["url"], query_string=WHY, headers=auth("archivist")).data
                )
            ).pages
        )
        for n in (first, second)
        for d in client.get(f"/api/v1/contracts/{n}", headers=auth()).get_json()["documents"]
        if d.get("pdf")
    )
    assert len(reader.pages) == 1 + 1 + pages + 1
    assert "补 充 协 议" in pdf_text(response.data)

    unexplained = client.get("/api/v1/volumes/2026/华东/pdf", headers=auth("archivist"))
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]
    clerk = client.get("/api/v1/volumes/2026/华东/pdf", query_string=WHY, headers=auth("clerk"))
    assert clerk.status_code == 403
    none = client.get("/api/v1/volumes/1999/华东/pdf", query_string=WHY, headers=auth("archivist"))
    assert none.status_code == 404

    from service.cli import main

    target = tmp_path / "volume.pdf"
    result = runner.invoke(main, ["volumes", "export", "2026", "华东", "-o", str(target),
                                  "--purpose", "年度归档装订"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(PdfReader(target).pages) == len(reader.pages)
