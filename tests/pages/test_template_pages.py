"""An administrator runs the template register from the pages: a refused upload lists each
problem with its place, a kept one is previewed, compared side by side and activated; a clerk
chooses the business type on the new-contract form and the dossier names the version used."""

from __future__ import annotations

import io
import re

from tests.helpers import misspell, offered, pdf_text
from tests.pages.test_dossier_forms import sign_in

WORDING = "本合同一式肆份，双方各执贰份"


def reworded(document) -> None:
    document.paragraphs[-1].insert_paragraph_before(WORDING + "。")


def csrf(client, url: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(url).get_data(as_text=True))[1]


def machines(client) -> str:
    page = client.get("/templates").get_data(as_text=True)
    return re.search(r'href="(/templates/\d+)">销售合同·设备买卖<', page)[1]


def send(client, url: str, data: bytes):
    return client.post(f"{url}/versions", content_type="multipart/form-data",
                       data={"csrf": csrf(client, url), "note": "法务部修订",
                             "file": (io.BytesIO(data), "设备买卖.docx")})  # fmt: skip


def test_an_admin_uploads_compares_and_activates_in_the_pages(client, archive):
    sign_in(client, archive, "admin-user", "admin")
    url = machines(client)

    refused = send(client, url, offered(misspell))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "未通过检查，未保存" in page and "buyer.nmae" in page and "正文第" in page

    kept = send(client, url, offered(reworded))
    assert kept.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "第 2 版已通过检查" in page and 'id="v2" class="draft"' in page

    preview = client.get(f"{url}/versions/2/preview.pdf")
    assert preview.mimetype == "application/pdf"
    assert WORDING in pdf_text(preview.data).replace("\n", "")

    compared = client.get(f"{url}/compare", query_string={"a": 1, "b": 2})
    assert compared.status_code == 200
    page = compared.get_data(as_text=True)
    assert "第 1 版（使用中）" in page and "第 2 版（草稿）" in page
    assert page.count('src="data:image/png;base64,') >= 2

    activated = client.post(f"{url}/versions/2/activate", data={"csrf": csrf(client, url)})
    assert activated.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'id="v2" class="active"' in page and 'id="v1" class="retired"' in page


def test_a_clerk_cannot_upload(client, archive):
    sign_in(client, archive, "admin-user", "admin")
    url = machines(client)
    client.post("/logout", data={"csrf": csrf(client, url)})
    sign_in(client, archive, "li", "clerk")
    response = send(client, url, offered(reworded))
    assert response.status_code == 403
    assert "第 2 版" not in client.get(url).get_data(as_text=True)


def test_a_clerk_chooses_the_business_type_and_the_dossier_names_the_version(
    client, archive, create, payload
):
    sign_in(client, archive)
    form = client.get("/contracts/new").get_data(as_text=True)
    assert '<select name="business_type"' in form and "<option selected>设备买卖</option>" in form
    contract_no = create({**payload, "business_type": "零部件供货"})["contract_no"]
    page = client.get(f"/contracts/{contract_no}").get_data(as_text=True)
    assert "<dt>业务类型</dt><dd>零部件供货</dd>" in page
    assert "销售合同·零部件供货 第 1 版</a>" in page


def test_an_id_beyond_any_and_an_overlong_note_are_answered_not_crashed(client, archive):
    sign_in(client, archive, "admin-user", "admin")
    assert client.get("/templates/99999999999999999999").status_code == 404
    assert client.get("/templates/99999999999999999999/compare").status_code == 404
    url = machines(client)
    response = client.post(f"{url}/versions", content_type="multipart/form-data",
                           data={"csrf": csrf(client, url), "note": "长" * 501,
                                 "file": (io.BytesIO(offered(reworded)), "新.docx")})  # fmt: skip
    assert response.status_code == 422 and "说明至多 500 字" in response.get_data(as_text=True)
