"""A Word file offered as a template is inspected before anyone relies on it: every problem
is named with its place, in Chinese; the bundled templates pass the same inspection."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from docx import Document

from service.cli import main
from templates import inspection
from templates.check import SPECS
from templates.render import Renderer
from tests.helpers import docx_text, misspell, offered, paragraph_with, split_tag


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_every_bundled_template_passes(kind):
    assert inspection.inspect(offered(kind=kind), kind) == []


def test_a_misspelled_variable_is_named_with_the_paragraph_it_is_in():
    data = offered(misspell)
    number, _ = paragraph_with(Document(io.BytesIO(data)), "buyer.nmae")
    (problem,) = inspection.inspect(data, "sales_contract")
    assert "buyer.nmae" in problem.message and problem.place.startswith(f"正文第 {number} 段")


def test_a_tag_word_split_over_runs_renders_whole(tmp_path):
    data = offered(split_tag)
    assert inspection.inspect(data, "sales_contract") == []
    (tmp_path / "sales_contract.docx").write_bytes(data)
    sample = SPECS["sales_contract"].sample_context()
    rendered = Renderer(tmp_path).render("sales_contract", sample, properties={})
    assert sample["buyer"]["name"] in docx_text(rendered.data)


def test_tags_broken_over_paragraphs_or_typed_full_width_are_named():
    def broken(document):
        _, paragraph = paragraph_with(document, "{{ buyer.name }}")
        for run in paragraph.runs:
            run.text = run.text.replace("{{ buyer.name }}", "｛｛ buyer.name ｝｝")
        _, other = paragraph_with(document, "{{ signed_at }}")
        for run in other.runs:
            run.text = run.text.replace("{{ signed_at }}", "{{ signed_at")

    problems = [str(p) for p in inspection.inspect(offered(broken), "sales_contract")]
    assert any("全角" in p for p in problems) and any("不完整" in p for p in problems)


def replace_everywhere(document, old: str, new: str = "") -> None:
    """As Word's replace-all: in the body and in every table cell."""
    cells = [c for t in document.tables for r in t.rows for c in r.cells]
    for paragraph in [*document.paragraphs, *(p for c in cells for p in c.paragraphs)]:
        if old in paragraph.text:
            text = paragraph.text.replace(old, new)
            for run in paragraph.runs[1:]:
                run.text = ""
            paragraph.runs[0].text = text


def test_a_contract_without_its_amount_in_words_or_signatures_is_refused():
    def strip(document):
        for old in ("{{ total_upper }}", "盖章", "签字", "签章"):
            replace_everywhere(document, old)

    problems = [str(p) for p in inspection.inspect(offered(strip), "sales_contract")]
    assert "缺少合计金额大写（{{ total_upper }}）" in problems
    assert "缺少签章栏（含“签字”或“盖章”的段落）" in problems


def test_something_that_is_not_a_word_file_is_said_so():
    assert [str(p) for p in inspection.inspect(b"%PDF-1.7", "sales_contract")] == [
        "无法打开：不是 Word 文档（.docx）"
    ]


def test_the_command_line_refuses_then_accepts_the_file_once_fixed(runner, tmp_path: Path):
    wrong = tmp_path / "合同模板.docx"
    wrong.write_bytes(offered(misspell))
    refused = runner.invoke(main, ["templates", "check", str(wrong), "--kind", "sales_contract"])
    assert refused.exit_code == 1 and "buyer.nmae" in refused.output and "正文第" in refused.output
    fixed = tmp_path / "合同模板-改.docx"
    fixed.write_bytes(offered())
    accepted = runner.invoke(main, ["templates", "check", str(fixed), "--kind", "sales_contract"])
    assert accepted.exit_code == 0, accepted.output
    assert "可以作为“销售合同”模板使用" in accepted.output
    unsaid = runner.invoke(main, ["templates", "check", str(fixed)])
    assert unsaid.exit_code == 2 and "--kind" in unsaid.stderr


def test_a_tag_in_a_content_control_is_inspected_too():
    def in_control(document):
        from docx.oxml import parse_xml

        control = parse_xml(
            '<w:sdt xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:sdtContent><w:p><w:r><w:t>{{ buyer.nmae }}</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        )
        document.element.body.insert(0, control)

    (problem,) = inspection.inspect(offered(in_control), "sales_contract", trial=False)
    assert "buyer.nmae" in problem.message and problem.place.startswith("正文（内容控件")


def test_a_loop_over_a_single_value_is_refused():
    def over_text(document):
        document.paragraphs[0].insert_paragraph_before(
            "{% for c in buyer.name %}{{ c }}{% endfor %}"
        )

    (problem,) = inspection.inspect(offered(over_text), "sales_contract", trial=False)
    assert "buyer.name 不是" in problem.message and problem.place.startswith("正文第 1 段")
