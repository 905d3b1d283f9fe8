"""A clerk who builds a template in Word finds what each kind may use on one page."""

from __future__ import annotations

from archive import users
from tests.pages.test_pages import PASSWORD, login


def test_a_signed_in_person_reads_the_variables_with_their_meaning_and_an_example(client, archive):
    assert client.get("/templates/reference").status_code == 302  # signed in first
    users.add_user(archive.catalogue, "li", "clerk", password=PASSWORD)
    login(client)
    page = client.get("/templates/reference").get_data(as_text=True)
    assert "模板变量参考" in page and "销售合同（sales_contract.docx）" in page
    assert "{{ buyer.name }}" in page and "需方（买方）·名称" in page
    assert "{% for item in items %}" in page and "合计金额大写" in page and "壹佰元整" in page
    assert "{%tr for item in items %}" in page  # how to repeat a table row
