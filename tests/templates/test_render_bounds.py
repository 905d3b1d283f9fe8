"""No template, whatever an administrator uploaded, holds a rendering for long: loops, output
and arithmetic are bounded for every contract's data, not only the sample the check used."""

from __future__ import annotations

import pytest

from templates import proof, sales_contract
from templates.errors import TemplateProblem
from templates.render import Renderer, TemplateFile
from tests.helpers import offered


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
