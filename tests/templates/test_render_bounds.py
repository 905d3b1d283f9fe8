"""No template, whatever an administrator uploaded, holds a rendering for long: loops, output
and arithmetic are bounded for every contract's data, not only the sample the check used."""

from __future__ import annotations

import pytest

from templates import proof, sales_contract
from templates.errors import TemplateProblem
from templates.render import Renderer, TemplateFile
from tests.helpers import docx_part, offered
from tests.templates.test_template_uploads import rezipped


def with_paragraph(text: str) -> TemplateFile:
    def edit(document):
        document.paragraphs[0].insert_paragraph_before(text)

    return TemplateFile.of("sales_contract", offered(edit))


CONTRACT = proof.contract_data(200)


@pytest.mark.parametrize(
    "tag",
    [
        # five loops deep over 200 lines: 3.2e11 visits
        "{% for a in items %}{% for b in items %}{% for c in items %}{% for d in items %}"
        "{% for e in items %}.{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
        "{{ buyer.name * 100000000 }}",
        "{{ 9 ** 99999999 }}",
        "{% for a in items %}{% for b in items %}{{ buyer.address * 900 }}{% endfor %}{% endfor %}",
    ],
    ids=["loops", "repeat", "power", "output"],
)
def test_a_costly_template_stops_with_a_clear_error(tag):
    context = sales_contract.context("HT-202611-0001", CONTRACT)
    with pytest.raises(TemplateProblem) as caught:
        Renderer().render(with_paragraph(tag), context, properties={})
    assert str(caught.value).startswith("模板“sales_contract”无法生成文件：模板")


def test_an_ordinary_two_level_loop_over_every_line_still_renders():
    tag = "{% for a in items %}{% for b in items %}{{ b.no }}{% endfor %}{% endfor %}"
    context = sales_contract.context("HT-202611-0001", CONTRACT)
    Renderer().render(with_paragraph(tag), context, properties={})  # 40,000 visits


def test_an_error_of_the_data_in_an_expression_is_a_template_problem():
    """Whatever an expression runs into with some contract's data is the template's problem,
    said as such (a 422 naming the template), never an unexplained failure."""
    context = sales_contract.context("HT-202611-0001", CONTRACT)
    with pytest.raises(TemplateProblem, match="ZeroDivisionError"):
        Renderer().render(with_paragraph("{{ 1 / 0 }}"), context, properties={})


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def with_footnote(text: str, sections: int = 2) -> TemplateFile:
    """The bundled contract with a footnote holding ``text``, in ``sections`` sections."""
    note = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes {W}>'
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            f'</w:footnote><w:footnote w:id="1"><w:p><w:r><w:t xml:space="preserve">{text}'
            "</w:t></w:r></w:p></w:footnote></w:footnotes>")  # fmt: skip
    kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
    sections_xml = (
        '<w:p><w:pPr><w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:pPr></w:p>'
    )
    data = rezipped(offered(), {
        "[Content_Types].xml": lambda x: x.replace(
            "</Types>", f'<Override PartName="/word/footnotes.xml" ContentType="{kind}"/></Types>'),
        "word/_rels/document.xml.rels": lambda x: x.replace("</Relationships>", (
            '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/footnotes" Target="footnotes.xml"/></Relationships>')),
        "word/document.xml": lambda x: x.replace(
            "<w:body>", "<w:body>" + sections_xml * (sections - 1), 1),
    }, {"word/footnotes.xml": note.encode()})  # fmt: skip
    return TemplateFile.of("sales_contract", data)


def test_what_a_clerk_typed_into_a_footnote_is_printed_not_run():
    """docxtpl rendered footnotes once per section, each time over the last output: a name
    typed as template code ran on the second pass."""
    data = proof.contract_data(1)
    data["buyer"]["name"] = "杭州{{ 7 * 6 }}公司"
    context = sales_contract.context("HT-202611-0001", data)
    rendered = Renderer().render(
        with_footnote("注：需方为{{ buyer.name }}"), context, properties={}
    )
    footnotes = docx_part(rendered.data, "word/footnotes.xml")
    assert "杭州{{ 7 * 6 }}公司" in footnotes and "杭州42公司" not in footnotes
