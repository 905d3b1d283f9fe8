"""A clerk corrects a typo in a draft: the number and 档号 stay, the earlier revision stays in
the dossier as superseded, and the dossier says which fields changed."""

from __future__ import annotations

import copy
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from archive.models import AuditEntry, ContractRevision, Document
from tests.conftest import BOTH_DATABASES
from tests.helpers import pdf_text

pytestmark = BOTH_DATABASES

TYPO = "杭州临平精工机楲有限公司"  # 楲 for 械: the kind of slip a draft is corrected for
FIXED = "杭州临平精工机械有限公司"
PURPOSE = "核对改稿"


@pytest.fixture
def draft_with_typo(create, payload):
    body = copy.deepcopy(payload)
    body["buyer"]["name"] = TYPO
    return create(body), body


def put(client, auth, number, body, role="clerk"):
    return client.put(f"/api/v1/contracts/{number}", json=body, headers=auth(role))


def download(client, auth, url, role="clerk"):
    response = client.get(url, query_string={"purpose": PURPOSE}, headers=auth(role))
    assert response.status_code == 200
    return response.data


def counts(archive):
    with archive.catalogue.reading() as session:
        return (session.scalar(select(func.count()).select_from(Document)),
                session.scalar(select(func.count()).select_from(ContractRevision)))  # fmt: skip


def test_fixing_a_typo_keeps_the_number_and_the_code_and_supersedes_the_first_draft(
    client, auth, archive, draft_with_typo
):
    first, body = draft_with_typo
    number, code = first["contract_no"], first["archival_code"]
    body["buyer"]["name"] = FIXED
    response = put(client, auth, number, {**body, "note": "需方名称错字"})
    assert response.status_code == 200, response.get_json()
    fixed = response.get_json()
    assert (fixed["contract_no"], fixed["archival_code"]) == (number, code)
    assert fixed["revision"] == 2 and fixed["buyer"]["name"] == FIXED

    # Who changed what, field by field.
    assert [r["revision"] for r in fixed["revisions"]] == [1, 2]
    latest = fixed["revisions"][1]
    assert latest["current"] and not fixed["revisions"][0]["current"]
    assert latest["note"] == "需方名称错字" and latest["created_by"] == "clerk-user"
    assert latest["changes"] == [
        {"field": "buyer.name", "label": "需方·名称", "before": TYPO, "after": FIXED}
    ]

    # The current contract reads right; the first draft stays in the dossier, superseded.
    contracts = [d for d in fixed["documents"] if d["kind"] == "sales_contract"]
    assert [(d["revision"], d["superseded"]) for d in contracts] == [(1, True), (2, False)]
    assert all(d["archival_code"] == f"{code}-01" for d in contracts)
    old, new = (pdf_text(download(client, auth, d["pdf"]["url"])) for d in contracts)
    assert TYPO in old and FIXED not in old
    assert FIXED in new and TYPO not in new

    # Search finds the contract by its corrected name only.
    def hits(q):
        found = client.get("/api/v1/search", query_string={"q": q}, headers=auth("archivist"))
        return [h["number"] for h in found.get_json()["hits"]]

    assert hits("精工机械") == [number]
    assert hits("机楲") == []

    with archive.catalogue.reading() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "contract.revise"))
    assert entry.target == number and entry.detail["fields"] == ["buyer.name"]


def test_the_same_data_again_files_nothing(client, auth, archive, create, payload):
    number = create()["contract_no"]
    before = counts(archive)
    response = put(client, auth, number, payload)
    assert response.status_code == 200 and response.get_json()["revision"] == 1
    assert counts(archive) == before


def test_an_effective_contract_is_changed_only_by_amendment(client, auth, archive, effective,
                                                            payload):  # fmt: skip
    number = effective()
    before = counts(archive)
    payload["buyer"]["name"] = FIXED + "（新）"
    response = put(client, auth, number, payload)
    assert response.status_code == 409
    assert "补充协议" in response.get_json()["message"]
    assert counts(archive) == before


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [("region", "华北", "区域"), ("signed_on", "2026-12-01", "编号期间")],
)
def test_a_correction_that_would_move_the_number_or_the_volume_is_refused(
    client, auth, archive, create, payload, field, value, words
):
    number = create()["contract_no"]
    before = counts(archive)
    response = put(client, auth, number, {**payload, field: value})
    assert response.status_code == 422
    assert words in response.get_json()["errors"][field][0]
    assert counts(archive) == before


def test_bad_data_names_the_field_and_writes_nothing(client, auth, archive, create, payload):
    number = create()["contract_no"]
    before = counts(archive)
    payload["items"][0]["quantity"] = "-1"
    response = put(client, auth, number, payload)
    assert response.status_code == 422
    assert "items.0.quantity" in response.get_json()["errors"]
    assert counts(archive) == before


def test_an_edit_from_an_older_revision_does_not_overwrite_a_newer_one(
    client, auth, draft_with_typo
):
    first, body = draft_with_typo
    number = first["contract_no"]
    body["buyer"]["name"] = FIXED
    assert put(client, auth, number, {**body, "based_on": 1}).status_code == 200
    body["signed_at"] = "上海市徐汇区"
    stale = put(client, auth, number, {**body, "based_on": 1})
    assert stale.status_code == 409
    assert "第 2 稿" in stale.get_json()["message"]


def test_only_the_sales_side_that_owns_the_draft_may_correct_it(client, auth, create, payload):
    number = create()["contract_no"]
    payload["signed_at"] = "上海市徐汇区"
    assert put(client, auth, number, payload, role="archivist").status_code == 403


def test_the_bound_volume_holds_the_last_revision_only(client, auth, draft_with_typo):
    first, body = draft_with_typo
    number = first["contract_no"]
    body["buyer"]["name"] = FIXED
    assert put(client, auth, number, body).status_code == 200
    approved = client.post(f"/api/v1/contracts/{number}/status", json={"status": "effective"},
                           headers=auth("manager"))  # fmt: skip
    assert approved.status_code == 200
    assert put(client, auth, number, body).status_code == 409  # effective: amendments only

    bound = client.get("/api/v1/volumes/2026/华东/pdf", query_string={"purpose": "年度归档"},
                       headers=auth("archivist"))  # fmt: skip
    assert bound.status_code == 200
    text = pdf_text(bound.data)
    assert FIXED in text and TYPO not in text
    # The bookmarks: the contract, and under it each of its documents.
    documents = [[d.title for d in item] for item in PdfReader(io.BytesIO(bound.data)).outline
                 if isinstance(item, list)]  # fmt: skip
    assert documents == [[f"销售合同 {number}"]]
