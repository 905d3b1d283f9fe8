"""Who may call what: every API route × every kind of caller × own / another's /
confidential contract, with the answer each must get.

The routes come from the app's own route table, so a new route without a rule here fails
the suite. A contract one may not see answers 404 (as one that does not exist), a role
that may not act answers 403, and a caller without a valid token (none, revoked, expired,
a deactivated user) answers 401. The probes are chosen to stop short of changing anything
where they can (a payment on a draft is refused with 409 once the caller passed both
checks), so the whole matrix runs against one archive.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from archive import retention, users
from archive.actor import SYSTEM
from archive.models import ApiToken, User

DATA = Path(__file__).resolve().parents[1] / "data"
API = "/api/v1"


def _data(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text("utf-8"))


# login → (role, department, region); what each sees of contracts A (li's, 华东), B
# (zhang's, 华南) and S (zhang's, 华南, confidential).
PEOPLE = {
    "li": ("clerk", "销售部", "华东"),
    "zhang": ("clerk", "销售部", "华南"),
    "wang": ("manager", "销售部", "华东"),
    "chen": ("manager", "销售部", None),
    "zhou": ("archivist", "档案室", None),
    "liu": ("director", "总经理办公室", None),
    "root": ("admin", "总经理办公室", None),
    "fang": ("staff", "财务部", None),
}
SEES = {"li": "A", "zhang": "BS", "wang": "A", "chen": "ABS", "zhou": "AB", "liu": "ABS",
        "root": "AB", "fang": ""}  # fmt: skip
REGION = {"A": "华东", "B": "华南", "S": "华南"}
OWNER = {"A": "li", "B": "zhang", "S": "zhang"}
SECRET = {"A": False, "B": False, "S": True}
# Callers without a valid token.
STRANGERS = ("none", "revoked", "expired", "deactivated")


@dataclass
class World:
    client: Any
    tokens: dict[str, str]
    numbers: dict[str, str] = field(default_factory=dict)  # A/B/S → contract number
    pdf: dict[str, int] = field(default_factory=dict)  # A/B/S → its PDF document id

    def headers(self, who: str) -> dict[str, str]:
        return {} if who == "none" else {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def world(app, archive, client, payload) -> World:
    tokens = {}
    for name, (role, department, region) in PEOPLE.items():
        tokens[name] = users.add_user(archive.catalogue, name, role, department=department,
                                      region=region)[1]  # fmt: skip
    tokens["revoked"] = users.add_user(archive.catalogue, "old", "clerk")[1]
    tokens["expired"] = users.add_user(archive.catalogue, "late", "clerk")[1]
    tokens["deactivated"] = users.add_user(archive.catalogue, "left", "director")[1]
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with archive.catalogue.writing() as session:
        for name, column in (("old", ApiToken.revoked_at), ("late", ApiToken.expires_at)):
            owner = users.by_name(archive.catalogue, name).id
            session.execute(update(ApiToken).where(ApiToken.user_id == owner)
                            .values({column: past}))  # fmt: skip
        session.execute(update(User).where(User.name == "left").values(active=False))
    w = World(client, tokens)
    for key in "ABS":
        body = copy.deepcopy(payload)
        body["region"] = REGION[key]
        made = client.post(f"{API}/contracts", json=body, headers=w.headers(OWNER[key]))
        assert made.status_code == 201, made.get_json()
        w.numbers[key] = made.get_json()["contract_no"]
        w.pdf[key] = int(made.get_json()["documents"][0]["pdf"]["url"].split("/")[-2])
    marked = client.post(f"{API}/contracts/{w.numbers['S']}/secrecy",
                         json={"confidential": True, "note": "涉及客户商业秘密"},
                         headers=w.headers("liu"))  # fmt: skip
    assert marked.status_code == 200, marked.get_json()
    return w


# -- the rules ----------------------------------------------------------------------------

Expect = Callable[[str, str], int]  # (caller, contract key) → status


def public(status: int = 200) -> Expect:
    return lambda who, key: status


def everyone(status: int = 200) -> Expect:
    """Any signed-in caller."""
    return lambda who, key: status


def roles(allowed: tuple[str, ...], status: int, *, admin: bool = True) -> Expect:
    """Role-gated, not about one contract (admin passes role checks, unless ``admin`` is
    False: business an administrator does not do)."""
    permitted = (*allowed, "admin") if admin else allowed
    return lambda who, key: status if PEOPLE[who][0] in permitted else 403


def seen(status: int = 200) -> Expect:
    """About one contract: its answer if the caller sees it, else 404."""
    return lambda who, key: status if key in SEES[who] else 404


def gated(allowed: tuple[str, ...], status: int, *, admin: bool = True) -> Expect:
    """Role first (403), then whether the caller sees the contract (404)."""
    permitted = (*allowed, "admin") if admin else allowed

    def expect(who: str, key: str) -> int:
        if PEOPLE[who][0] not in permitted:
            return 403
        return status if key in SEES[who] else 404

    return expect


def volume(who: str, key: str) -> int:
    if PEOPLE[who][0] not in ("archivist", "manager", "admin"):
        return 403
    shown = any(REGION[k] == REGION[key] for k in SEES[who])
    return 200 if shown else 404


@dataclass
class Probe:
    expect: Expect
    body: Callable[[World, str], Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    files: bool = False
    after: Callable[[Any, World, str], None] | None = None  # undo what a 2xx changed


def _release(archive, w: World, key: str) -> None:
    retention.hold(archive, w.numbers[key], None, SYSTEM, release=True)


PURPOSE = {"purpose": "核对合同条款"}
ID_RULE = "int(max=9223372036854775807)"
TEMPLATE, VERSION = f"<{ID_RULE}:template_id>", f"<{ID_RULE}:number>"
# Whole-number parts of a route, where a name means a string elsewhere (a record's number).
WHOLE = {"template_id": "1", "number": "1", "customer_id": "1"}
CUSTOMER = f"<{ID_RULE}:customer_id>"
_names = itertools.count(1)


def customer_seen(status: int = 200) -> Expect:
    """The buyer of A, B and S (one customer): the whole register for managers, directors,
    archivists (and administrators); for others, when they see one of its contracts."""
    whole = ("manager", "director", "archivist", "admin")
    return lambda who, key: status if PEOPLE[who][0] in whole or SEES[who] else 404


def customer_kept(status: int = 200) -> Expect:
    """Changing it: sales staff (and administrators) who see it."""

    def expect(who: str, key: str) -> int:
        if PEOPLE[who][0] not in ("clerk", "manager", "admin"):
            return 403
        return customer_seen(status)(who, key)

    return expect


RULES: dict[tuple[str, str], Probe] = {
    ("GET", "/healthz"): Probe(public()),
    ("GET", f"{API}/openapi.json"): Probe(public()),
    ("GET", f"{API}/docs"): Probe(public()),
    ("GET", f"{API}/docs/assets/<path:filename>"): Probe(public(404)),
    ("POST", f"{API}/contracts"): Probe(
        roles(("clerk", "manager"), 201), body=lambda w, k: _contract()
    ),
    ("GET", f"{API}/contracts"): Probe(everyone()),
    ("GET", f"{API}/contracts/<contract_no>"): Probe(seen()),
    # The same data again: the draft as it stands, no new revision.
    ("PUT", f"{API}/contracts/<contract_no>"): Probe(
        gated(("clerk", "manager"), 200), body=lambda w, k: {**_contract(), "region": REGION[k]}
    ),
    ("POST", f"{API}/contracts/<contract_no>/status"): Probe(
        seen(409), body=lambda w, k: {"status": "completed"}
    ),
    ("POST", f"{API}/contracts/<contract_no>/owner"): Probe(
        gated(("manager", "director"), 409, admin=False),
        body=lambda w, k: {"owner": OWNER[k], "note": "交接"},
    ),
    ("POST", f"{API}/contracts/<contract_no>/secrecy"): Probe(
        gated(("manager", "director"), 409, admin=False),
        body=lambda w, k: {"confidential": SECRET[k], "note": "复核密级"},
    ),
    (
        "GET",
        f"{API}/contracts/<contract_no>/documents/<int(max=9223372036854775807):doc_id>/download",
    ): Probe(seen(), query=PURPOSE),
    ("POST", f"{API}/contracts/<contract_no>/amendments"): Probe(
        gated(("clerk", "manager"), 409), body=lambda w, k: _data("amendment")
    ),
    ("GET", f"{API}/contracts/<contract_no>/amendments"): Probe(seen()),
    ("GET", f"{API}/contracts/<contract_no>/amendments/<number>"): Probe(seen(404)),
    ("POST", f"{API}/contracts/<contract_no>/deliveries"): Probe(
        gated(("clerk", "manager"), 409), body=lambda w, k: _data("delivery")
    ),
    ("GET", f"{API}/contracts/<contract_no>/deliveries"): Probe(seen()),
    ("GET", f"{API}/contracts/<contract_no>/deliveries/<number>"): Probe(seen(404)),
    ("POST", f"{API}/contracts/<contract_no>/payments"): Probe(
        gated(("clerk", "manager"), 409), body=lambda w, k: _data("payment")
    ),
    ("GET", f"{API}/contracts/<contract_no>/payments"): Probe(seen()),
    (
        "GET",
        f"{API}/contracts/<contract_no>/payments/<int(max=9223372036854775807):payment_id>",
    ): Probe(seen(404)),
    ("POST", f"{API}/contracts/<contract_no>/documents"): Probe(
        gated(("clerk", "archivist", "manager"), 422), files=True
    ),
    (
        "GET",
        f"{API}/contracts/<contract_no>/documents/<int(max=9223372036854775807):doc_id>",
    ): Probe(seen()),
    ("POST", f"{API}/contracts/<contract_no>/hold"): Probe(
        gated(("archivist", "manager"), 200),
        body=lambda w, k: {"reason": "诉讼保全"},
        after=lambda archive, w, k: _release(archive, w, k),
    ),
    ("DELETE", f"{API}/contracts/<contract_no>/hold"): Probe(gated(("archivist", "manager"), 409)),
    ("GET", f"{API}/receivables"): Probe(everyone()),
    ("GET", f"{API}/search"): Probe(everyone()),
    ("GET", f"{API}/access-log"): Probe(roles(("archivist", "manager"), 200)),
    ("GET", f"{API}/volumes"): Probe(everyone()),
    ("GET", f"{API}/volumes/<int(min=1, max=9999):year>/<region>/pdf"): Probe(
        volume, query=PURPOSE
    ),
    ("GET", f"{API}/retention/rules"): Probe(everyone()),
    ("POST", f"{API}/retention/runs"): Probe(
        roles(("archivist", "manager"), 201),
        body=lambda w, k: {"as_of": "2020-01-01", "dry_run": True},
    ),
    ("GET", f"{API}/retention/runs"): Probe(roles(("archivist", "manager"), 200)),
    ("POST", f"{API}/retention/destructions"): Probe(
        roles(("manager",), 409),
        body=lambda w, k: {"contract_nos": [w.numbers[k]], "note": "到期销毁"},
    ),
    ("GET", f"{API}/retention/records/<number>/pdf"): Probe(roles(("archivist", "manager"), 404)),
    # A loan due in the past is refused (422) once role and scope have passed.
    ("POST", f"{API}/loans"): Probe(
        gated(("archivist",), 422, admin=False),
        body=lambda w, k: {
            "contract_no": w.numbers[k],
            "borrower": "fang",
            "due_on": "2020-01-01",
            "purpose": "核对合同条款",
        },
    ),
    # 查阅申请: a contract one already sees is refused as pointless (422); nobody in this world
    # heads a department, so any other request has nobody to approve it (409), nothing filed.
    ("POST", f"{API}/access-requests"): Probe(
        lambda who, key: 422 if key in SEES[who] else 409, body=lambda w, k: _ask(w, k)
    ),
    ("GET", f"{API}/access-requests"): Probe(everyone()),
    ("GET", f"{API}/access-requests/<int(max=9223372036854775807):request_id>"): Probe(
        everyone(404)
    ),
    ("POST", f"{API}/access-requests/<int(max=9223372036854775807):request_id>/approve"): Probe(
        everyone(404), body=lambda w, k: {}
    ),
    ("POST", f"{API}/access-requests/<int(max=9223372036854775807):request_id>/reject"): Probe(
        everyone(404), body=lambda w, k: {"note": "用途不明"}
    ),
    ("POST", f"{API}/access-requests/<int(max=9223372036854775807):request_id>/withdraw"): Probe(
        everyone(404)
    ),
    # The template register: everyone reads it; only an administrator changes it (here: a
    # business type that has its template already, a file that is not Word, version 1 that
    # is active already and cannot be set aside).
    ("GET", f"{API}/templates"): Probe(everyone()),
    ("POST", f"{API}/templates"): Probe(
        roles((), 409), body=lambda w, k: {"business_type": "设备买卖"}
    ),
    ("GET", f"{API}/templates/{TEMPLATE}"): Probe(everyone()),
    ("POST", f"{API}/templates/{TEMPLATE}/versions"): Probe(roles((), 422), files=True),
    ("GET", f"{API}/templates/{TEMPLATE}/versions/{VERSION}"): Probe(everyone()),
    ("GET", f"{API}/templates/{TEMPLATE}/versions/{VERSION}/file"): Probe(everyone()),
    # A preview with a contract's data names its purpose (422 for everyone, before any work).
    ("GET", f"{API}/templates/{TEMPLATE}/versions/{VERSION}/preview"): Probe(
        everyone(422), query={"contract": "HT-000000-0000"}
    ),
    ("POST", f"{API}/templates/{TEMPLATE}/versions/{VERSION}/activate"): Probe(roles((), 200)),
    ("POST", f"{API}/templates/{TEMPLATE}/versions/{VERSION}/retire"): Probe(roles((), 409)),
    # No chain configured in this world: nothing waits for a decision (409) for who sees it.
    ("GET", f"{API}/contracts/<contract_no>/reviews"): Probe(seen()),
    ("POST", f"{API}/contracts/<contract_no>/reviews"): Probe(
        seen(409), body=lambda w, k: {"decision": "approved"}
    ),
    ("GET", f"{API}/tasks"): Probe(everyone()),
    ("GET", f"{API}/clauses"): Probe(everyone()),
    ("PUT", f"{API}/clauses/<business_type>/<field>"): Probe(
        roles(("manager",), 200, admin=False),
        body=lambda w, k: {"text": "合同生效后预付30%，余款验收后付清"},
    ),
    ("GET", f"{API}/customers"): Probe(everyone()),
    ("POST", f"{API}/customers"): Probe(
        roles(("clerk", "manager"), 201),
        body=lambda w, k: {"name": f"测试客户{next(_names)}", "address": "上海市"},
    ),
    ("GET", f"{API}/customers/{CUSTOMER}"): Probe(customer_seen()),
    ("PATCH", f"{API}/customers/{CUSTOMER}"): Probe(
        customer_kept(), body=lambda w, k: {"phone": "0571-86660000", "note": "核对电话"}
    ),
    ("GET", f"{API}/loans"): Probe(everyone()),
    ("GET", f"{API}/loans/<int(max=9223372036854775807):loan_id>"): Probe(everyone(404)),
    ("POST", f"{API}/loans/<int(max=9223372036854775807):loan_id>/return"): Probe(
        roles(("archivist",), 404, admin=False)
    ),
}


def _destroy(w: World, key: str) -> dict:
    return {"contract_nos": [w.numbers[key]], "note": "到期销毁"}


def _ask(w: World, key: str) -> dict:
    until = dt.date.today() + dt.timedelta(days=7)
    return {"contract_nos": [w.numbers[key]], "purpose": "核对应收账款", "until": until.isoformat()}


def _contract() -> dict:
    body = _data("contract")
    body["region"] = "华东"
    return body


def _url(rule: str, w: World, key: str) -> str:
    values = {"contract_no": w.numbers[key], "doc_id": str(w.pdf[key]), "number": "XX-0001",
              "payment_id": "1", "year": "2026", "region": REGION[key], "filename": "none.js",
              "id": "999999", "loan_id": "999999", "request_id": "999999",
              "business_type": "设备买卖", "field": "payment.terms"}  # fmt: skip
    out = rule
    while "<" in out:
        start, end = out.index("<"), out.index(">")
        converter, _, name = out[start + 1 : end].rpartition(":")
        value = (
            values[name] if not converter.startswith("int") or name not in WHOLE else WHOLE[name]
        )
        out = out[:start] + value + out[end + 1 :]
    return out


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith(API) or rule.rule == "/healthz"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return found


def test_every_api_route_has_an_access_rule(app):
    routes = _routes(app)
    assert routes - RULES.keys() == set(), "routes without a rule in this matrix"
    assert RULES.keys() - routes == set(), "rules for routes that no longer exist"


def test_every_caller_gets_the_answer_the_rules_give(app, archive, world):
    client = world.client
    wrong: list[str] = []
    answered: dict[tuple[str, str, str], int] = {}
    for (method, rule), probe in sorted(RULES.items()):
        for key in "ABS":
            url = _url(rule, world, key)
            for who in (*PEOPLE, *STRANGERS):
                if (method, url, who) in answered and probe.after is None:
                    continue
                kwargs: dict[str, Any] = {"headers": world.headers(who),
                                          "query_string": probe.query}  # fmt: skip
                if probe.body:
                    kwargs["json"] = probe.body(world, key)
                if probe.files:
                    kwargs["data"] = {"file": (_not_a_pdf(), "scan.pdf")}
                response = client.open(url, method=method, **kwargs)
                answered[(method, url, who)] = response.status_code
                public_route = _is_public(rule)
                expected = 401 if who in STRANGERS and not public_route else probe.expect(who, key)
                if response.status_code != expected:
                    body = response.get_json(silent=True) or {}
                    wrong.append(f"{method} {url} as {who} ({key}): {response.status_code}, "
                                 f"expected {expected} — {body.get('message', '')}")  # fmt: skip
                if probe.after and 200 <= response.status_code < 300:
                    probe.after(archive, world, key)
    assert wrong == []


def _is_public(rule: str) -> bool:
    return rule == "/healthz" or rule.startswith(f"{API}/docs") or rule.endswith("openapi.json")


def _not_a_pdf() -> io.BytesIO:
    return io.BytesIO(b"not a pdf at all")
