"""An archivist binds the 2020 volumes in 2026, after a manager destroyed the paid contracts
under the 5-year rule: what is left is bound, what was destroyed is named with its
certificate, and the counts say so — in the API, the pages and the command line. A file lost
to disk damage is named in a clear answer, never a server error."""

from __future__ import annotations

import copy
import io
import re

import pytest
from pypdf import PdfReader

from archive import users
from service.cli import main
from tests.helpers import pdf_text

PASSWORD = "correct-horse-9"
# Every download and bound volume names its purpose (查阅登记).
WHY = {"purpose": "年度归档装订"}


def pages_of(client, auth, number) -> int:
    """How many pages the contract's documents take (the template decides)."""
    documents = client.get(f"/api/v1/contracts/{number}", headers=auth()).get_json()["documents"]
    return sum(len(PdfReader(io.BytesIO(client.get(d["pdf"]["url"], query_string=WHY,
                                                   headers=auth("archivist")).data)).pages)
               for d in documents if d.get("pdf"))  # fmt: skip


@pytest.fixture
def destroyed(client, auth, payload):
    """2020: two contracts in 华东 and one in 华南. The first 华东 one and the 华南 one were
    withdrawn as drafts (terminated, owing nothing); the sweep of 2026-01-01 listed them and a
    manager destroyed both. The second 华东 one is still in performance and kept. Returns the
    numbers and the certificate."""

    def contract(signed_on, region):
        body = copy.deepcopy(payload)
        body["signed_on"], body["region"] = signed_on, region
        body["delivery"]["deadline"] = body["payment"]["due_on"] = "2020-12-31"
        response = client.post("/api/v1/contracts", json=body, headers=auth())
        assert response.status_code == 201, response.get_json()
        return response.get_json()["contract_no"]

    def act(number, what, body, role="clerk"):
        response = client.post(f"/api/v1/contracts/{number}/{what}", json=body,
                               headers=auth(role))  # fmt: skip
        assert response.status_code in (200, 201), response.get_json()

    def withdrawn(number):
        act(number, "status", {"status": "terminated"})

    gone = contract("2020-03-15", "华东")
    withdrawn(gone)
    kept = contract("2020-05-10", "华东")
    act(kept, "status", {"status": "effective"}, "manager")
    south = contract("2020-04-01", "华南")
    withdrawn(south)

    swept = client.post("/api/v1/retention/runs", json={"as_of": "2026-01-01"},
                        headers=auth("archivist"))  # fmt: skip
    assert swept.status_code == 201, swept.get_json()
    done = client.post("/api/v1/retention/destructions", headers=auth("manager"),
                       json={"contract_nos": [gone, south], "note": "到期销毁"})  # fmt: skip
    assert done.status_code == 201, done.get_json()
    return {"gone": gone, "kept": kept, "south": south,
            "certificate": done.get_json()["certificate"]}  # fmt: skip


def test_the_volume_list_counts_only_what_is_still_kept(client, auth, destroyed):
    volumes = client.get("/api/v1/volumes", headers=auth("archivist")).get_json()["items"]
    assert volumes == [
        {
            "year": 2020,
            "region": "华东",
            "kind": "regular",
            "title": "2020·华东",
            "contracts": 1,
            "documents": 1,
            "destroyed": 1,
        },
        {
            "year": 2020,
            "region": "华南",
            "kind": "regular",
            "title": "2020·华南",
            "contracts": 0,
            "documents": 0,
            "destroyed": 1,
        },
    ]


def test_the_bound_volume_leaves_out_the_destroyed_contract_and_names_it(client, auth, destroyed):
    response = client.get("/api/v1/volumes/2020/华东/pdf", query_string=WHY,
                          headers=auth("archivist"))  # fmt: skip
    assert response.status_code == 200, response.get_json()
    reader = PdfReader(io.BytesIO(response.data))
    contents = reader.pages[1].extract_text().replace("\n", "")
    assert destroyed["kept"] in contents and destroyed["gone"] not in contents
    notes = reader.pages[-1].extract_text().replace("\n", "").replace(" ", "")
    assert "已按保存期限销毁" in notes and destroyed["certificate"] in notes
    assert destroyed["gone"] in notes
    # cover, contents, the kept contract, 备考表: nothing of the destroyed one
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    assert top == [
        "案卷封面",
        "卷内目录",
        f"HT·2020·华东·0002 {destroyed['kept']} 杭州临平精工机械有限公司",
        "备考表",
    ]
    assert len(reader.pages) == 1 + 1 + pages_of(client, auth, destroyed["kept"]) + 1

    # a volume whose every contract was destroyed is its cover, contents and 备考表 alone
    south = client.get("/api/v1/volumes/2020/华南/pdf", query_string=WHY,
                       headers=auth("archivist"))  # fmt: skip
    assert south.status_code == 200, south.get_json()
    assert len(PdfReader(io.BytesIO(south.data)).pages) == 3
    unexplained = client.get("/api/v1/volumes/2020/华南/pdf", headers=auth("archivist"))
    assert unexplained.status_code == 422 and "purpose" in unexplained.get_json()["errors"]
    text = pdf_text(south.data).replace("\n", "")
    assert destroyed["south"] in text and destroyed["certificate"] in text


def test_the_volumes_page_counts_and_binds_after_destruction(app, client, auth, archive,
                                                             destroyed):  # fmt: skip
    users.add_user(archive.catalogue, "zhao", "archivist", password=PASSWORD)
    browser = app.test_client()
    login = browser.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
    browser.post("/login", data={"username": "zhao", "password": PASSWORD, "csrf": csrf})

    page = browser.get("/volumes")
    assert page.status_code == 200
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page.get_data(as_text=True))
    assert cells[:5] == ["2020", "华东", "1", "1", "1"]
    assert "已销毁" in page.get_data(as_text=True)
    asked = browser.get("/volumes/2020/华东.pdf")  # first the purpose (查阅登记), no file
    assert asked.status_code == 200 and asked.mimetype == "text/html"
    assert "说明用途" in asked.get_data(as_text=True)
    bound = browser.get("/volumes/2020/华东.pdf", query_string=WHY)
    assert bound.status_code == 200 and bound.mimetype == "application/pdf"
    pages = 1 + 1 + pages_of(client, auth, destroyed["kept"]) + 1
    assert len(PdfReader(io.BytesIO(bound.data)).pages) == pages


def test_the_command_line_lists_and_exports_the_volume_after_destruction(
    client, auth, runner, destroyed, tmp_path
):
    listed = runner.invoke(main, ["volumes", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == ["2020\t华东\t合同 1\t文件 1\t已销毁 1",
                                          "2020\t华南\t合同 0\t文件 0\t已销毁 1"]  # fmt: skip
    target = tmp_path / "2020-华东.pdf"
    unexplained = runner.invoke(main, ["volumes", "export", "2020", "华东", "-o", str(target)])
    assert unexplained.exit_code == 2 and "--purpose" in unexplained.output
    assert not target.exists()
    exported = runner.invoke(main, ["volumes", "export", "2020", "华东", "-o", str(target),
                                    "--purpose", "年度归档装订"])  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert len(PdfReader(target).pages) == 1 + 1 + pages_of(client, auth, destroyed["kept"]) + 1


def test_a_file_lost_to_disk_damage_is_named_not_a_server_error(
    app, client, auth, archive, runner, destroyed, tmp_path
):
    dossier = client.get(f"/api/v1/contracts/{destroyed['kept']}", headers=auth()).get_json()
    document = dossier["documents"][0]
    archive.storage.path_for(document["pdf"]["sha256"]).unlink()  # the disk lost it

    response = client.get("/api/v1/volumes/2020/华东/pdf", query_string=WHY,
                          headers=auth("archivist"))  # fmt: skip
    assert response.status_code == 409
    body = response.get_json()
    assert destroyed["kept"] in body["message"] and "缺失" in body["message"]
    assert document["pdf"]["sha256"] in body["message"]

    download = client.get(document["pdf"]["url"], query_string=WHY, headers=auth("archivist"))
    assert download.status_code == 409
    assert destroyed["kept"] in download.get_json()["message"]

    result = runner.invoke(main, ["volumes", "export", "2020", "华东", "--purpose", "年度归档装订",
                                  "-o", str(tmp_path / "v.pdf")])  # fmt: skip
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "错误：" in result.output and destroyed["kept"] in result.output
    assert "Traceback" not in result.output
