"""A Word file offered as a template is hostile until the boxed worker has read it: what a
template must never carry is refused in Chinese, a bomb costs the worker its bounds, and
East-Asian text is tagged zh-CN on the way in."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from templates import BUNDLED
from templates.check import SPECS
from templates.template_uploads import TemplateRejected, check_template
from templates.uploads import MiB, UploadLimits
from tests.helpers import docx_part, offered

LIMITS = UploadLimits(max_decompressed=8 * MiB)


def rezipped(data: bytes, change=None, add: dict[str, bytes] | None = None) -> bytes:
    """``data`` with some parts changed (name → new text) or added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for item in source.infolist():
            body = source.read(item)
            if change and item.filename in change:
                body = change[item.filename](body.decode("utf-8")).encode("utf-8")
            z.writestr(item.filename, body)
        for name, body in (add or {}).items():
            z.writestr(name, body)
    return out.getvalue()


def refused(data: bytes) -> str:
    with pytest.raises(TemplateRejected) as caught:
        check_template(data, "sales_contract", LIMITS, None)
    return caught.value.message


def test_the_bundled_template_passes_unchanged():
    data = offered()
    checked = check_template(data, "sales_contract", LIMITS, None)
    assert (checked.problems, checked.fixes, checked.data) == ([], [], data)


def test_a_file_with_macros_is_refused():
    assert "宏" in refused(rezipped(offered(), add={"word/vbaProject.bin": b"\0" * 100}))


def test_content_fetched_from_elsewhere_is_refused():
    def linked_picture(rels: str) -> str:
        link = ('<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/image" Target="http://intranet.example/logo.png" '
                'TargetMode="External"/>')  # fmt: skip
        return rels.replace("</Relationships>", link + "</Relationships>")

    message = refused(rezipped(offered(), {"word/_rels/document.xml.rels": linked_picture}))
    assert "外部内容" in message


def test_a_compression_bomb_is_named_and_costs_nothing_kept():
    bomb = rezipped(offered(), add={"word/media/huge.xml": b"\0" * (9 * MiB)})
    assert len(bomb) < MiB
    assert "解压后超过上限" in refused(bomb)


def test_something_that_is_not_word_is_said_so():
    assert "不是 Word 文档" in refused(b"PK\x03\x04 not really a zip")
    assert "不是 Word 文档" in refused(b"%PDF-1.7 a pdf")


def test_a_loop_over_range_is_refused_with_its_place():
    def counting(document):
        document.paragraphs[0].insert_paragraph_before(
            "{% for i in range(100000) %}{{ i }}{% endfor %}"
        )

    problems = check_template(offered(counting), "sales_contract", LIMITS, None).problems
    assert any("range" in p.message and p.place.startswith("正文第 1 段") for p in problems)
    assert all(p.place.startswith("正文") for p in problems)


def test_east_asian_text_in_another_language_is_tagged_zh_cn_on_the_way_in():
    def japanese(xml: str) -> str:
        return xml.replace('w:eastAsia="zh-CN"', 'w:eastAsia="ja-JP"')

    data = rezipped(offered(), {"word/styles.xml": japanese})
    checked = check_template(data, "sales_contract", LIMITS, None)
    assert checked.problems == [] and "zh-CN" in checked.fixes[0]
    styles = docx_part(checked.data, "word/styles.xml")
    assert "ja-JP" not in styles and 'w:eastAsia="zh-CN"' in styles


def test_a_file_without_any_language_gets_zh_cn_as_its_default():
    def no_language(xml: str) -> str:
        return re.sub(r"<w:lang\b[^>]*/>", "", xml)

    data = rezipped(offered(), {"word/styles.xml": no_language, "word/document.xml": no_language})
    checked = check_template(data, "sales_contract", LIMITS, None)
    assert checked.problems == [] and checked.fixes
    defaults = re.search(r"<w:rPrDefault>.*?</w:rPrDefault>",
                         docx_part(checked.data, "word/styles.xml"), re.S)[0]  # fmt: skip
    assert 'w:eastAsia="zh-CN"' in defaults


@pytest.mark.parametrize("kind", sorted(SPECS))
def test_every_bundled_template_passes_the_upload_check_with_its_trial_conversion(kind, converter):
    data = (BUNDLED / f"{kind}.docx").read_bytes()
    checked = check_template(data, kind, LIMITS, converter)
    assert (checked.problems, checked.fixes, checked.data) == ([], [], data)


RELS = "word/_rels/document.xml.rels"
TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"


def related(rel_type: str, target: str, mode: str = "", use: str = "") -> bytes:
    """The bundled contract with one more relationship (``mode``: its TargetMode attribute as
    typed) and, when ``use`` is given, a run in the body that names it."""

    def rels(xml: str) -> str:
        extra = f'<Relationship Id="rId99" Type="{TYPE}{rel_type}" Target="{target}"{mode}/>'
        return xml.replace("</Relationships>", extra + "</Relationships>")

    def body(xml: str) -> str:
        return xml.replace("</w:body>", f"<w:p>{use}</w:p></w:body>") if use else xml

    return rezipped(offered(), {RELS: rels, "word/document.xml": body})


LINKED_PICTURE = ('<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/'
                  'drawingml/2006/wordprocessingDrawing"><a:graphic xmlns:a="http://schemas.'
                  'openxmlformats.org/drawingml/2006/main"><a:graphicData><a:blip r:link="rId99"/>'
                  "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>")  # fmt: skip


@pytest.mark.parametrize(
    "data",
    [
        related("image", "http://intranet.example/a.png", " TargetMode='External'"),
        related("image", "file:///etc/passwd", ' TargetMode = "External" '),
        # declared a hyperlink, used by a picture: LibreOffice would fetch it
        related("hyperlink", "file:///etc/passwd", ' TargetMode="External"', LINKED_PICTURE),
    ],
    ids=["single-quotes", "spaces", "hyperlink-used-as-picture"],
)
def test_an_external_target_in_any_spelling_or_disguise_is_refused(data):
    assert "外部内容" in refused(data)


@pytest.mark.parametrize("rel_type", ["oleObject", "package", "aFChunk", "attachedTemplate"])
def test_embedded_objects_are_refused_by_their_kind_not_their_file_name(rel_type):
    assert "嵌入" in refused(related(rel_type, "media/object1.xlsx"))


def test_an_imported_document_in_a_footer_is_refused():
    def footer_chunk(xml: str) -> str:
        extra = f'<Relationship Id="rId98" Type="{TYPE}aFChunk" Target="chunk.mht"/>'
        return xml.replace("</Relationships>", extra + "</Relationships>")

    data = rezipped(offered(), add={"word/_rels/footer1.xml.rels": footer_chunk(
        '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"></Relationships>'), "word/chunk.mht": b"MIME"})  # fmt: skip
    assert "嵌入" in refused(data)


def test_a_hyperlink_a_reader_follows_stays():
    link = '<w:hyperlink r:id="rId99"><w:r><w:t>公司网站</w:t></w:r></w:hyperlink>'
    data = related("hyperlink", "https://www.example.com/", ' TargetMode="External"', link)
    assert check_template(data, "sales_contract", LIMITS, None).problems == []


@pytest.mark.parametrize(
    ("tag", "case"),
    [
        ("{% if items|length > 25 %}{{ items[1].nope }}{% endif %}", "200 行的合同"),
        ("{% if confidential %}{{ items[0].nope }}{% endif %}", "（机密）"),
    ],
)
def test_a_condition_the_sample_never_reaches_is_tried_before_the_version_is_kept(tag, case):
    def conditional(document):
        document.paragraphs[0].insert_paragraph_before(tag)

    (problem,) = check_template(offered(conditional), "sales_contract", LIMITS, None).problems
    assert problem.message.startswith("试渲染失败") and case in problem.message


@pytest.mark.parametrize(
    ("tag", "said"),
    [
        ("{% for total in (range)(100000) %}x{% endfor %}", "函数或方法调用"),
        ("{% for i in items[:] %}{% for j in items[:] %}x{% endfor %}{% endfor %}", "切片"),
        ("{% for i in items|reverse %}x{% endfor %}", "过滤器 reverse"),
        ("{{ items[0].update({'spec': 'x'}) }}", "函数或方法调用"),
        ("{{ total|center(300000000) }}", "过滤器 center"),
        ("{{ buyer.name|replace('', 'x') }}", "过滤器 replace"),
        ("{% set x %}{{ buyer.name }}{% endset %}", "赋值"),
        ("{% macro m() %}x{% endmacro %}", "宏"),
        ("{{ '%s' % total }}", "格式化"),
        ("{{ 1e300 ** 2 }}", "乘方"),
        ("{{ 1 / 0 }}", "除法"),
        # a loop over a single value hidden from a text search by parentheses
        ("{% for total in (quality_standard) %}x{% endfor %}", "quality_standard 不是"),
        # a replace that grows the text: chained, fifty-fold a step
        ("{{ contract_no|replace('H', 'HHHHHHHHHH') }}", "过滤器 replace"),
        ("{% raw %}{{ 7 * 6 }}{% endraw %}", "raw"),
    ],
)
def test_a_template_says_only_what_a_template_may(tag, said):
    """Functions, arithmetic, assignments, macros, computed loops and unbounded filters are
    refused on the syntax tree, whatever spelling hides them from a text search."""

    def edited(document):
        document.paragraphs[0].insert_paragraph_before(tag)

    problems = check_template(offered(edited), "sales_contract", LIMITS, None).problems
    assert any(said in p.message for p in problems), [str(p) for p in problems]
    assert all(p.place.startswith("正文") for p in problems)


def test_a_tag_in_a_first_page_footer_or_the_properties_is_read_too():
    def elsewhere(document):
        document.core_properties.title = "{% for i in (range)(9) %}{% endfor %}"

    problems = check_template(offered(elsewhere), "sales_contract", LIMITS, None).problems
    assert any(p.place.startswith("文档属性") for p in problems)
