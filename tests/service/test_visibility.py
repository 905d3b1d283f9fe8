"""Sales staff see their own business, a manager their region, archivists everything but
secrets (004 查阅与借阅, 保密管理): the same answer from every way into the archive."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from archive import users
from tests.conftest import BOTH_DATABASES

pytestmark = BOTH_DATABASES
API = "/api/v1"
DATA = Path(__file__).resolve().parents[1] / "data"
PURPOSE = {"purpose": "核对合同条款"}


@pytest.fixture
def people(archive):
    """li and zhang sell in 华东 and 华南; wang manages 华东, chen every region; zhou keeps
    the archive; liu is the general manager; fang works in finance. login → API headers."""
    found = {}
    for name, role, department, region in (
        ("li", "clerk", "销售部", "华东"), ("zhang", "clerk", "销售部", "华南"),
        ("wang", "manager", "销售部", "华东"), ("chen", "manager", "销售部", None),
        ("zhou", "archivist", "档案室", None),
        ("liu", "director", "总经理办公室", None), ("fang", "staff", "财务部", None),
    ):  # fmt: skip
        token = users.add_user(archive.catalogue, name, role, department=department,
                               region=region)[1]  # fmt: skip
        found[name] = {"Authorization": f"Bearer {token}"}
    return found


def _file(client, people, who: str, payload: dict, region: str, buyer: str) -> str:
    body = copy.deepcopy(payload)
    body["region"] = region
    body["buyer"]["name"] = buyer
    made = client.post(f"{API}/contracts?wait=true", json=body, headers=people[who])
    assert made.status_code == 201, made.get_json()
    return made.get_json()["contract_no"]


@pytest.fixture
def book(client, people, payload):
    """Three contracts: li's in 华东, zhang's in 华南, and zhang's confidential one."""
    numbers = {
        "li": _file(client, people, "li", payload, "华东", "杭州临平精工机械有限公司"),
        "zhang": _file(client, people, "zhang", payload, "华南", "广州番禺精工机械有限公司"),
        "secret": _file(client, people, "zhang", payload, "华南", "深圳南山精工机械有限公司"),
    }
    marked = client.post(f"{API}/contracts/{numbers['secret']}/secrecy?wait=true",
                         json={"confidential": True, "note": "客户商业秘密"},
                         headers=people["liu"])  # fmt: skip
    assert marked.status_code == 200, marked.get_json()
    return numbers


def _listed(client, headers) -> set[str]:
    body = client.get(f"{API}/contracts", headers=headers).get_json()
    assert body["total"] == len(body["items"])
    return {item["contract_no"] for item in body["items"]}


def _found(client, headers, query: str = "精工") -> tuple[set[str], dict]:
    body = client.get(f"{API}/search", query_string={"q": query}, headers=headers).get_json()
    return {hit["contract_no"] for hit in body["hits"]}, body


def test_each_person_lists_finds_and_counts_only_what_they_may_see(client, people, book):
    expected = {
        "li": {book["li"]},
        "zhang": {book["zhang"], book["secret"]},
        "wang": {book["li"]},
        "zhou": {book["li"], book["zhang"]},
        "liu": set(book.values()),
        "fang": set(),
    }
    for who, visible in expected.items():
        assert _listed(client, people[who]) == visible, who
        found, body = _found(client, people[who])
        assert found == visible, who
        assert body["total"] == len(visible), who
        # A hidden contract is not even counted in a facet.
        assert sum(body["facets"].get("region", {}).values()) == len(visible), who
        owed = client.get(f"{API}/receivables", headers=people[who]).get_json()
        assert {row["contract_no"] for row in owed["items"]} <= visible, who


def test_a_hidden_contract_answers_as_if_it_did_not_exist(client, people, book):
    for number in (book["zhang"], book["secret"], "HT-209901-9999"):
        answer = client.get(f"{API}/contracts/{number}", headers=people["li"])
        assert answer.status_code == 404
        assert answer.get_json()["message"] == f"合同 {number} 不存在。"
    # Nor can she act on one: a payment on zhang's contract is 404, not 403.
    paid = client.post(f"{API}/contracts/{book['zhang']}/payments",
                       json={"amount": "1.00", "paid_on": "2026-11-21", "method": "银行转账"},
                       headers=people["li"])  # fmt: skip
    assert paid.status_code == 404
    # A search for the hidden buyer by name finds nothing, and no highlight gives it away.
    found, body = _found(client, people["li"], "番禺")
    assert found == set() and body["total"] == 0


def test_the_archivist_does_not_see_a_confidential_contract_the_director_does(client, people, book):
    assert (
        client.get(f"{API}/contracts/{book['secret']}", headers=people["zhou"]).status_code == 404
    )
    shown = client.get(f"{API}/contracts/{book['secret']}", headers=people["liu"])
    assert shown.status_code == 200 and shown.get_json()["confidential"] is True
    found, _ = _found(client, people["zhou"], "南山")
    assert found == set()
    found, _ = _found(client, people["liu"], "南山")
    assert found == {book["secret"]}


def test_a_manager_hands_a_contract_to_another_salesperson(client, people, book):
    moved = client.post(f"{API}/contracts/{book['li']}/owner?wait=true",
                        json={"owner": "zhang", "note": "李明调岗，客户由张伟跟进"},
                        headers=people["wang"])  # fmt: skip
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["owner"] == "zhang"
    assert client.get(f"{API}/contracts/{book['li']}", headers=people["li"]).status_code == 404
    assert book["li"] in _found(client, people["zhang"], "临平")[0]
    assert _found(client, people["li"], "临平")[0] == set()
    # A clerk may not hand contracts around, and the new owner must be in sales.
    refused = client.post(f"{API}/contracts/{book['zhang']}/owner",
                          json={"owner": "li", "note": "x"}, headers=people["zhang"])  # fmt: skip
    assert refused.status_code == 403
    wrong = client.post(f"{API}/contracts/{book['li']}/owner",
                        json={"owner": "fang", "note": "x"}, headers=people["wang"])  # fmt: skip
    assert wrong.status_code == 422 and "owner" in wrong.get_json()["errors"]
    trail = client.get(f"{API}/contracts/{book['li']}", headers=people["liu"]).get_json()
    assert trail["owner"] == "zhang"


def test_every_download_and_volume_names_its_purpose_and_viewing_is_registered(
    client, people, book
):
    shown = client.get(f"{API}/contracts/{book['li']}", headers=people["li"]).get_json()
    url = shown["documents"][0]["pdf"]["url"]
    bare = client.get(url, headers=people["li"])
    assert bare.status_code == 422 and "purpose" in bare.get_json()["errors"]
    assert client.get(url, query_string=PURPOSE, headers=people["li"]).status_code == 200
    volume = f"{API}/volumes/2026/华东/pdf"
    assert client.get(volume, headers=people["zhou"]).status_code == 422
    register = client.get(f"{API}/access-log", query_string={"contract_no": book["li"]},
                          headers=people["zhou"]).get_json()  # fmt: skip
    actions = [(row["user"], row["action"], row["purpose"]) for row in register["items"]]
    assert ("li", "document.download", "核对合同条款") in actions
    assert ("li", "dossier.view", None) in actions


def test_a_regional_manager_binds_only_the_volumes_of_their_region(client, people, book):
    listed = client.get(f"{API}/volumes", headers=people["wang"]).get_json()["items"]
    assert {(v["region"], v["contracts"]) for v in listed} == {("华东", 1)}
    south = client.get(f"{API}/volumes/2026/华南/pdf", query_string=PURPOSE,
                       headers=people["wang"])  # fmt: skip
    assert south.status_code == 404
    archived = client.get(f"{API}/volumes", headers=people["zhou"]).get_json()["items"]
    # The archivist's 华南 volume counts zhang's ordinary contract, not the confidential one.
    assert {(v["region"], v["contracts"]) for v in archived} == {("华东", 1), ("华南", 1)}


def test_the_register_names_only_the_contracts_its_reader_may_see(client, people, book):
    bound = client.get(f"{API}/volumes/2026/华南/pdf", query_string=PURPOSE,
                       headers=people["chen"])  # fmt: skip
    assert bound.status_code == 200
    seen_by = {}
    for who in ("chen", "zhou", "wang"):
        register = client.get(f"{API}/access-log", headers=people[who]).get_json()["items"]
        export = next(row for row in register if row["action"] == "volume.export")
        seen_by[who] = set(export["detail"]["contracts"])
    assert seen_by == {"chen": {book["zhang"], book["secret"]}, "zhou": {book["zhang"]},
                       "wang": set()}  # fmt: skip


def test_a_granted_reader_reads_but_never_changes(client, people, book, archive):
    """An electronic loan opens zhang's contract to li for reading; a payment, a 密级 change
    or a hand-over by her stays refused."""
    lent = client.post(f"{API}/loans", json={
        "contract_no": book["zhang"], "borrower": "li", "form": "electronic",
        "due_on": (dt.date.today() + dt.timedelta(days=7)).isoformat(), "purpose": "协助对账",
    }, headers=people["zhou"])  # fmt: skip
    assert lent.status_code == 201, lent.get_json()
    assert client.get(f"{API}/contracts/{book['zhang']}", headers=people["li"]).status_code == 200
    paid = client.post(f"{API}/contracts/{book['zhang']}/payments",
                       json={"amount": "1.00", "paid_on": "2026-11-21", "method": "银行转账"},
                       headers=people["li"])  # fmt: skip
    assert paid.status_code == 403
    assert "只可查阅" in paid.get_json()["message"]
    register = client.get(f"{API}/access-log", query_string={"contract_no": book["zhang"]},
                          headers=people["zhou"]).get_json()["items"]  # fmt: skip
    view = next(r for r in register if r["user"] == "li" and r["action"] == "dossier.view")
    assert view["detail"]["loan"] == lent.get_json()["id"]


def test_documents_made_after_marking_carry_the_mark_on_every_page(client, people, book):
    """The contract as filed stays as filed; an amendment made once it is 机密 says so."""
    number = book["secret"]
    made = client.post(f"{API}/contracts/{number}/status", json={"status": "effective"},
                       headers=people["chen"])  # fmt: skip
    assert made.status_code == 200, made.get_json()
    amended = client.post(f"{API}/contracts/{number}/amendments",
                          json=json.loads((DATA / "amendment.json").read_text("utf-8")),
                          headers=people["zhang"])  # fmt: skip
    assert amended.status_code == 201, amended.get_json()
    url = amended.get_json()["document"]["pdf"]["url"]
    pdf = client.get(url, query_string=PURPOSE, headers=people["zhang"]).data
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert all("机密" in page.extract_text() for page in pages)
    shown = client.get(f"{API}/contracts/{number}", headers=people["zhang"]).get_json()
    original = shown["documents"][0]["pdf"]["url"]
    first = client.get(original, query_string=PURPOSE, headers=people["zhang"]).data
    assert "机密" not in PdfReader(io.BytesIO(first)).pages[0].extract_text()
