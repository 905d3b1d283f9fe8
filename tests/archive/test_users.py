"""People and their place (department, region, head), tokens that expire and can be revoked,
deactivation, and sign-in attempts that slow down: the domain, without HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from archive import users
from archive.actor import Actor
from archive.catalogue import Catalogue
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from archive.models import ApiToken, AuditEntry, SignInFailure, User, utcnow

PASSWORD = "correct-horse-9"
RULES = users.Policy(regions=("华东", "华北"), token_days=30)
ADMIN = Actor("root", "admin", client="test")


@pytest.fixture
def catalogue(tmp_path) -> Catalogue:
    cat = Catalogue(f"sqlite:///{tmp_path / 'catalogue.sqlite3'}", lock_dir=tmp_path)
    cat.migrate()
    yield cat
    cat.dispose()


def audit_actions(catalogue: Catalogue, name: str) -> list[str]:
    with catalogue.reading() as session:
        return list(session.scalars(select(AuditEntry.action).where(
            AuditEntry.target == f"user:{name}").order_by(AuditEntry.id)))  # fmt: skip


def test_a_person_has_a_department_a_sales_region_and_may_head_it(catalogue):
    user, token = users.add_user(catalogue, "wang", "manager", department="销售部",
                                 region="华东", head=True, rules=RULES, by=ADMIN)  # fmt: skip
    assert (user.department, user.region, user.is_head, user.active) == ("销售部", "华东", True,
                                                                          True)  # fmt: skip
    assert users.by_token(catalogue, token).name == "wang"
    actor = users.actor_of(user, "test")
    assert (actor.department, actor.region, actor.head) == ("销售部", "华东", True)
    # The role implies the department when none is given.
    assert users.add_user(catalogue, "zhou", "archivist")[0].department == "档案室"
    assert audit_actions(catalogue, "wang") == ["user.create"]


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"department": "市场部"}, "department", "不在可选部门之列"),
        ({"role": "staff"}, "department", "请指定部门"),
        ({"department": "财务部", "region": "华东"}, "region", "只有销售部人员有销售区域"),
        ({"department": "销售部", "region": "火星"}, "region", "未知区域"),
        ({"role": "boss"}, "role", "总经理"),
        ({"password": "short"}, "password", "至少 8 个字符"),
    ],
)
def test_a_wrong_place_is_refused_naming_the_field(catalogue, kwargs, field, words):
    role = kwargs.pop("role", "clerk")
    with pytest.raises(InvalidData) as refused:
        users.add_user(catalogue, "li", role, rules=RULES, **kwargs)
    assert words in " ".join(refused.value.errors[field])
    assert users.by_name(catalogue, "li") is None


def test_departments_come_from_the_settings(catalogue):
    rules = users.Policy(departments=("销售部", "质检部"))
    assert users.add_user(catalogue, "qa", "staff", department="质检部",
                          rules=rules)[0].department == "质检部"  # fmt: skip
    with pytest.raises(InvalidData):
        users.add_user(catalogue, "fin", "staff", department="财务部", rules=rules)


def test_update_changes_what_is_given_and_leaving_sales_leaves_the_region(catalogue):
    users.add_user(catalogue, "li", "clerk", region="华东", password=PASSWORD, rules=RULES)
    version = users.by_name(catalogue, "li").session_version
    users.update_user(catalogue, "li", display_name="李四", head=True, rules=RULES, by=ADMIN)
    li = users.by_name(catalogue, "li")
    assert (li.display_name, li.is_head, li.region, li.role) == ("李四", True, "华东", "clerk")
    assert li.session_version == version  # a new name does not end a session

    users.update_user(catalogue, "li", role="staff", department="财务部", rules=RULES, by=ADMIN)
    li = users.by_name(catalogue, "li")
    assert (li.department, li.region, li.role) == ("财务部", None, "staff")
    assert li.session_version == version + 1  # a new role does

    with pytest.raises(InvalidData) as refused:
        users.update_user(catalogue, "li", region="华东", rules=RULES)
    assert "region" in refused.value.errors
    with pytest.raises(InvalidData):
        users.update_user(catalogue, "li", password="short")
    users.update_user(catalogue, "li", password="another-horse-1", by=ADMIN)
    assert users.by_name(catalogue, "li").session_version == version + 2
    assert users.by_password(catalogue, "li", "another-horse-1") is not None

    with catalogue.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "user.update")
                                .order_by(AuditEntry.id)).first()  # fmt: skip
    assert entry.actor == "root" and entry.detail["changes"]["display_name"] == ["li", "李四"]
    assert audit_actions(catalogue, "li") == ["user.create"] + ["user.update"] * 3
    with pytest.raises(NotFound):
        users.update_user(catalogue, "nobody", head=True)


def test_only_an_admin_manages_people(catalogue):
    clerk = Actor("li", "clerk")
    for call in (lambda: users.add_user(catalogue, "x", "clerk", by=clerk),
                 lambda: users.issue_token(catalogue, "x", by=clerk)):  # fmt: skip
        with pytest.raises(Forbidden):
            call()


def test_deactivation_stops_every_token_and_is_undone_by_activation(catalogue):
    users.add_user(catalogue, "root", "admin")
    _, first = users.add_user(catalogue, "li", "clerk", password=PASSWORD)
    _, second = users.issue_token(catalogue, "li", label="对接", by=ADMIN)
    version = users.by_name(catalogue, "li").session_version

    users.deactivate_user(catalogue, "li", by=ADMIN)
    assert users.by_token(catalogue, first) is None and users.by_token(catalogue, second) is None
    assert users.by_password(catalogue, "li", PASSWORD) is None
    assert users.by_name(catalogue, "li").session_version == version + 1
    with pytest.raises(Conflict):
        users.deactivate_user(catalogue, "li", by=ADMIN)
    with pytest.raises(Conflict):
        users.issue_token(catalogue, "li", by=ADMIN)

    users.reactivate_user(catalogue, "li", by=ADMIN)
    assert users.by_token(catalogue, first).name == "li"
    assert audit_actions(catalogue, "li") == ["user.create", "token.issue", "user.deactivate",
                                              "user.activate"]  # fmt: skip


def test_the_last_admin_and_oneself_are_not_deactivated(catalogue):
    users.add_user(catalogue, "root", "admin")
    with pytest.raises(Conflict, match="最后一位"):
        users.deactivate_user(catalogue, "root", by=Actor("cli:ops", "admin"))
    with pytest.raises(Conflict, match="最后一位"):
        users.update_user(catalogue, "root", role="clerk", department="销售部")
    users.add_user(catalogue, "root2", "admin")
    with pytest.raises(Conflict, match="自己"):
        users.deactivate_user(catalogue, "root", by=Actor("root", "admin"))
    users.deactivate_user(catalogue, "root", by=Actor("root2", "admin"))


def test_tokens_expire_and_can_be_revoked(catalogue):
    _, first = users.add_user(catalogue, "li", "clerk", rules=RULES)
    row, second = users.issue_token(catalogue, "li", days=7, label="  财务 系统 ", by=ADMIN)
    assert row.label == "财务 系统"
    assert dt.timedelta(days=6, hours=23) < row.expires_at - utcnow() <= dt.timedelta(days=7)
    listed = users.list_tokens(catalogue, "li")
    assert [t.label for t in listed] == ["初始令牌", "财务 系统"]
    # The first token lives HETONG_TOKEN_DAYS (here 30).
    assert listed[0].expires_at - listed[0].created_at == dt.timedelta(days=30)

    users.revoke_token(catalogue, "li", row.id, by=ADMIN)
    assert users.by_token(catalogue, second) is None
    assert users.token_state(users.list_tokens(catalogue, "li")[1]) == "revoked"
    assert users.list_tokens(catalogue, "li")[1].revoked_by == "root"
    with pytest.raises(Conflict):
        users.revoke_token(catalogue, "li", row.id)
    with pytest.raises(NotFound):
        users.revoke_token(catalogue, "li", 999)

    with catalogue.writing() as session:
        session.execute(update(ApiToken).where(ApiToken.id == listed[0].id)
                        .values(expires_at=utcnow() - dt.timedelta(seconds=1)))  # fmt: skip
    assert users.by_token(catalogue, first) is None
    assert users.token_state(users.list_tokens(catalogue, "li")[0]) == "expired"


@pytest.mark.parametrize("days", [0, -1, 366, 10_000])
def test_a_token_always_expires_within_a_year(catalogue, days):
    users.add_user(catalogue, "li", "clerk")
    with pytest.raises(InvalidData) as refused:
        users.issue_token(catalogue, "li", days=days)
    assert "1–365" in refused.value.errors["days"][0]


def test_a_token_without_an_expiry_is_not_accepted(catalogue):
    """Every token expires (the upgrade gave older tokens a day): one without is refused."""
    _, token = users.add_user(catalogue, "li", "clerk")
    with catalogue.writing() as session:
        session.execute(update(ApiToken).values(expires_at=None))
    assert users.by_token(catalogue, token) is None
    assert users.token_state(users.list_tokens(catalogue, "li")[0]) == "expired"


def test_last_use_is_written_at_most_once_a_minute(catalogue):
    _, token = users.add_user(catalogue, "li", "clerk")

    def last_used() -> dt.datetime | None:
        return users.list_tokens(catalogue, "li")[0].last_used_at

    assert last_used() is None
    users.use_token(catalogue, token)
    first = last_used()
    assert first is not None
    users.use_token(catalogue, token)
    assert last_used() == first
    with catalogue.writing() as session:  # a minute later
        session.execute(update(ApiToken).values(last_used_at=first - dt.timedelta(minutes=2)))
    users.use_token(catalogue, token)
    assert last_used() > first


def test_five_failures_make_the_next_attempt_wait_longer_each_time(catalogue):
    users.add_user(catalogue, "li", "clerk", password=PASSWORD)
    now = utcnow()
    for _ in range(5):
        assert users.sign_in(catalogue, "li", "wrong", "10.0.0.1", now=now).wait == 0
    refused = users.sign_in(catalogue, "li", PASSWORD, "10.0.0.1", now=now)
    assert refused.user is None and refused.wait == 30
    # The right password is not heard from another address either: the account waits.
    assert users.sign_in(catalogue, "li", PASSWORD, "10.0.0.2", now=now).wait == 30

    later = now + dt.timedelta(seconds=31)
    assert users.sign_in(catalogue, "li", "wrong", "10.0.0.1", now=later).wait == 0
    assert users.sign_in_wait(catalogue, "li", "10.0.0.9", now=later) == 60  # doubled

    far = later + dt.timedelta(minutes=20)  # the failures are older than the window
    signed = users.sign_in(catalogue, "li", PASSWORD, "10.0.0.1", now=far)
    assert signed.user is not None and signed.user.name == "li"
    with catalogue.reading() as session:  # a success clears the account's failures
        assert not session.scalars(select(SignInFailure).where(SignInFailure.name == "li")).all()


def test_the_delay_grows_to_at_most_a_quarter_of_an_hour(catalogue):
    now = utcnow()
    with catalogue.writing() as session:
        session.add_all(SignInFailure(name="li", address="a", at=now) for _ in range(30))
    assert users.sign_in_wait(catalogue, "li", "b", now=now) == 15 * 60


def test_an_address_that_fails_for_many_accounts_waits(catalogue):
    now = utcnow()
    for n in range(5):
        users.sign_in(catalogue, f"guess{n}", "wrong", "10.6.6.6", now=now)
    assert users.sign_in(catalogue, "other", "x", "10.6.6.6", now=now).wait == 30
    assert users.sign_in_wait(catalogue, "other", "10.0.0.1", now=now) == 0


def test_old_failures_are_pruned(catalogue):
    old = utcnow() - dt.timedelta(days=2)
    with catalogue.writing() as session:
        session.add(SignInFailure(name="li", address="a", at=old))
    users.sign_in(catalogue, "li", "wrong", "a")
    with catalogue.reading() as session:
        assert [f.at > old for f in session.scalars(select(SignInFailure))] == [True]


def test_a_deactivated_person_with_the_right_password_is_told_so(catalogue):
    users.add_user(catalogue, "root", "admin")
    users.add_user(catalogue, "li", "clerk", password=PASSWORD)
    users.deactivate_user(catalogue, "li", by=ADMIN)
    attempt = users.sign_in(catalogue, "li", PASSWORD, "a")
    assert attempt.inactive and attempt.user is None
    with catalogue.reading() as session:
        assert session.scalar(select(User.active).where(User.name == "li")) is False
