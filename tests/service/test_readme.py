"""A newcomer reads the README of a fresh clone and follows it: the addresses it names answer
where it says, a wrong one answers in Chinese JSON saying where to look, and the domain rules
it points to are in the project itself."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text("utf-8")


def test_the_health_check_is_at_the_root_and_a_guess_under_the_api_says_where_it_is(client):
    assert client.get("/healthz").status_code == 200

    guessed = client.get("/api/v1/healthz")
    assert guessed.status_code == 404
    assert guessed.mimetype == "application/json"
    body = guessed.get_json()
    assert body["code"] == 404
    assert "/api/v1/healthz" in body["message"] and "GET /healthz" in body["message"]
    assert re.search(r"[\u4e00-\u9fff]", body["message"])  # Chinese, not Werkzeug's English


def test_any_unknown_api_address_is_chinese_json_naming_it(client):
    missing = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.mimetype == "application/json"
    message = missing.get_json()["message"]
    assert "/api/v1/no-such-thing" in message and "/api/v1/openapi.json" in message


def test_the_readme_does_not_list_the_health_check_under_the_api_prefix():
    api = README.split("## API (`/api/v1`", 1)[1].split("\n## ", 1)[0]
    table = [line for line in api.splitlines() if line.startswith("| `")]
    assert not any("/healthz" in line for line in table)
    assert "`GET /healthz`" in api  # said where it really is


def test_the_domain_rules_are_in_the_project_and_the_readme_links_them():
    assert "../shared" not in README
    assert "(docs/domain.md)" in README or "`docs/domain.md`" in README
    domain = (ROOT / "docs" / "domain.md").read_text("utf-8")
    for rule in ("销售经理", "一式六联", "保存5年", "另册", "销毁", "补充协议", "按年、按区域",
                 "大写", "查阅"):  # fmt: skip
        assert rule in domain, rule
