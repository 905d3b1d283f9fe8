"""Deactivated users and revoked or expired tokens get 401 at once, with a message that says
which case it may be."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from archive import users
from archive.models import ApiToken, utcnow
from service import config

MESSAGE = "令牌无效、已过期或已撤销，或用户已停用。"


def get(client, token: str):
    return client.get("/api/v1/contracts", headers={"Authorization": f"Bearer {token}"})


def refused(response) -> bool:
    body = response.get_json()
    return (response.status_code == 401 and body["message"] == MESSAGE
            and "invalid_token" in response.headers["WWW-Authenticate"])  # fmt: skip


def test_a_deactivated_users_token_is_refused_at_once(client, archive):
    users.add_user(archive.catalogue, "root", "admin")
    _, token = users.add_user(archive.catalogue, "li", "clerk")
    assert get(client, token).status_code == 200
    users.deactivate_user(archive.catalogue, "li")
    assert refused(get(client, token))
    users.reactivate_user(archive.catalogue, "li")
    assert get(client, token).status_code == 200


def test_a_revoked_token_is_refused_and_the_others_still_work(client, archive):
    _, first = users.add_user(archive.catalogue, "li", "clerk")
    row, second = users.issue_token(archive.catalogue, "li", label="脚本")
    assert get(client, second).status_code == 200
    users.revoke_token(archive.catalogue, "li", row.id)
    assert refused(get(client, second))
    assert get(client, first).status_code == 200


def test_an_expired_token_is_refused(client, archive):
    row, token = users.issue_token(archive.catalogue, users.add_user(
        archive.catalogue, "li", "clerk")[0].name, days=1)  # fmt: skip
    assert get(client, token).status_code == 200
    with archive.catalogue.writing() as session:
        session.execute(update(ApiToken).where(ApiToken.id == row.id)
                        .values(expires_at=utcnow() - dt.timedelta(seconds=1)))  # fmt: skip
    assert refused(get(client, token))


def test_an_unknown_token_gets_the_same_answer(client):
    assert refused(get(client, "ht_not-a-token"))


def test_a_request_notes_when_its_token_was_last_used(client, archive):
    _, token = users.add_user(archive.catalogue, "li", "clerk")
    get(client, token)
    used = users.list_tokens(archive.catalogue, "li")[0].last_used_at
    assert used is not None and utcnow() - used < dt.timedelta(minutes=1)
    get(client, token)
    assert users.list_tokens(archive.catalogue, "li")[0].last_used_at == used


def test_the_first_token_expires_after_the_configured_days(settings):
    from service import create_app

    app = create_app({**settings, "TOKEN_DAYS": 7, "DEPARTMENTS": ["销售部", "质检部"]})
    try:
        archive = app.extensions["hetong.archive"]
        assert archive.departments == ["销售部", "质检部"] and archive.token_days == 7
        users.add_user(archive.catalogue, "qa", "staff", department="质检部",
                       rules=users.policy(archive))  # fmt: skip
        row = users.list_tokens(archive.catalogue, "qa")[0]
        assert row.expires_at - row.created_at == dt.timedelta(days=7)
    finally:
        app.extensions["hetong.archive"].close()


def test_token_days_and_departments_are_checked_when_settings_load():
    values = config.load(
        environ={"HETONG_DEPARTMENTS": "销售部, 质检部", "HETONG_TOKEN_DAYS": "30"}
    )
    assert values["DEPARTMENTS"] == ["销售部", "质检部"] and values["TOKEN_DAYS"] == 30
    for wrong in ({"TOKEN_DAYS": 0}, {"TOKEN_DAYS": 366}, {"DEPARTMENTS": []}):
        with pytest.raises(ValueError):
            config.load(wrong, environ={})
