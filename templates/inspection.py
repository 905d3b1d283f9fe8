"""A Word file offered as a template of some kind, inspected before anyone relies on it: does
it open, is every tag whole, does every variable it names exist in what that kind is given
(with the place of one that does not), are the parts a contract needs there, are its fonts
installed, and does a trial rendering with the sample data go through (to PDF, when a
converter is at hand)?

Word often splits a tag over several runs (a spelling mark, a change of format in the middle
of ``{{ buyer.name }}``): docxtpl joins them when it renders, and so does this inspection,
which reads each paragraph's text whole. A tag Word broke in other ways — over two
paragraphs, or typed with full-width braces — is named with its place.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph as DocxParagraph
from marshmallow import Schema, fields

from templates import grammar, pdf
from templates.check import SPECS
from templates.convert import Converter
from templates.errors import ConverterUnavailable, RenderError
from templates.render import Renderer, TemplateFile

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}")
_STATEMENT = re.compile(r"\{%-?\s*(?:tr\s+|tc\s+|p\s+|r\s+)?(.*?)\s*-?%\}")
_NAME = re.compile(r"(?<![\w.'\"])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_FOR = re.compile(r"for\s+(\w+)(?:\s*,\s*\w+)?\s+in\s+([\w.]+)")
# Words of the template language, not variables.
_KEYWORDS = {"for", "in", "if", "elif", "else", "endif", "endfor", "not", "and", "or", "is",
             "true", "false", "none", "True", "False", "None", "loop", "set", "with",
             "endwith", "defined", "range"}  # fmt: skip
# What a sales contract cannot do without: the variables, and words of its signature block.
REQUIRED = {
    "sales_contract": (("seller.name", "供方名称"), ("buyer.name", "需方名称"),
                       ("items", "产品明细表"), ("total", "合计金额"),
                       ("total_upper", "合计金额大写")),
}  # fmt: skip
SIGNATURE_WORDS = ("盖章", "签字", "签章")


@dataclass(frozen=True)
class Problem:
    message: str
    place: str = ""  # where in the document: 正文第 3 段 / 第 1 个表格第 2 行第 4 列 / 页眉

    def __str__(self) -> str:
        return f"{self.place}：{self.message}" if self.place else self.message


def inspect(data: bytes, kind: str, *, converter: Converter | None = None,
            trial: bool = True) -> list[Problem]:  # fmt: skip
    """Everything wrong with ``data`` as a template of ``kind`` (empty: fit for use).
    ``trial=False``: the tags and parts only (for a caller that renders it anyway)."""
    spec = SPECS.get(kind)
    if spec is None:
        return [Problem(f"未知的模板种类：{kind}（可选：{'、'.join(SPECS)}）")]
    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError):
        return [Problem("无法打开：不是 Word 文档（.docx）")]
    paragraphs = list(_paragraphs(document))
    problems = _tags(paragraphs, spec.context_schema(), spec.sample_context())
    refused, loops = grammar.check(data)
    problems += [Problem(message, place) for message, place in refused]
    said = {p.message for p in problems}  # a loop the text search found already is said once
    problems += [p for p in _loops_over_lists(loops, spec.context_schema(), spec.sample_context())
                 if p.message not in said]  # fmt: skip
    problems += _required(kind, paragraphs)
    if problems or not trial:  # a trial rendering would fail on what is named already
        return problems
    return _trial(data, kind, spec.sample_context(), converter)


def _paragraphs(document: Any) -> Iterator[tuple[str, str]]:
    """(place, whole text) of every paragraph: body, tables, headers, footers — and those
    the structure above does not reach (content controls, text boxes, nested tables)."""
    seen: set[Any] = set()  # the w:p elements named above (kept alive, so compared as such)

    def named(place: str, paragraph: Any) -> tuple[str, str]:
        seen.add(paragraph._p)
        return place, paragraph.text

    for n, paragraph in enumerate(document.paragraphs, 1):
        yield named(f"正文第 {n} 段", paragraph)
    for t, table in enumerate(document.tables, 1):
        for r, row in enumerate(table.rows, 1):
            for c, cell in enumerate(row.cells, 1):
                for paragraph in cell.paragraphs:
                    yield named(f"第 {t} 个表格第 {r} 行第 {c} 列", paragraph)
    parts = [("正文（内容控件、文本框等）", document.element.body)]
    for section in document.sections:
        for where, part in (("页眉", section.header), ("页脚", section.footer)):
            for paragraph in part.paragraphs:
                yield named(where, paragraph)
            for table in part.tables:
                for row in table.rows:
                    for cell in row.cells:
                        for paragraph in cell.paragraphs:
                            yield named(where, paragraph)
            parts.append((where, part._element))
    for where, element in parts:
        for p in element.iter(qn("w:p")):
            if p not in seen:
                seen.add(p)
                yield where, DocxParagraph(p, None).text


def _tags(paragraphs: list[tuple[str, str]], schema: Schema, sample: Any) -> list[Problem]:
    problems: list[Problem] = []
    loops: dict[str, tuple[Any, Any]] = {}  # loop variable → (its element's field, example)
    for place, text in paragraphs:
        broken = _broken(text)
        if broken:
            problems.append(Problem(broken, f"{place}（{_excerpt(text)}）"))
            continue
        for found in _FOR.finditer(" ".join(_STATEMENT.findall(text))):
            element, example = _resolve(found[2], schema, sample, loops)
            if isinstance(element, fields.List):
                first = example[0] if isinstance(example, list) and example else None
                loops[found[1]] = (element.inner, first)
            elif element is not None:  # an unknown name is reported below, as any other
                problems.append(Problem(f"循环只能遍历一组数据（如 items），{found[2]} 不是",
                                        f"{place}（{_excerpt(text)}）"))  # fmt: skip
                loops[found[1]] = (fields.Raw(), None)  # said once, not again for each use
        for source in [*_EXPRESSION.findall(text), *_STATEMENT.findall(text)]:
            for name in _names(source):
                field, _ = _resolve(name, schema, sample, loops)
                if field is None:
                    unknown = f"模板用了不存在的变量 {name}（可用的变量见“模板变量参考”）"
                    problems.append(Problem(unknown, f"{place}（{_excerpt(text)}）"))
    return problems


def _loops_over_lists(found: list[grammar.Loop], schema: Schema, sample: Any) -> list[Problem]:
    """Every ``for`` of the syntax tree goes over a list of the data (what a text search of
    the tags misses: parentheses, a loop variable named like a field)."""
    loops: dict[str, tuple[Any, Any]] = {}
    problems = []
    for targets, name, place in found:
        field, example = _resolve(name, schema, sample, loops)
        if field is not None and not isinstance(field, fields.List):
            problems.append(Problem(f"循环只能遍历一组数据（如 items），{name} 不是", place))
        elif isinstance(field, fields.List):
            first = example[0] if isinstance(example, list) and example else None
            for target in targets:
                loops[target] = (field.inner, first)
    return problems


def _broken(text: str) -> str | None:
    if re.search(r"\brange\s*\(", " ".join(_STATEMENT.findall(text) + _EXPRESSION.findall(text))):
        return "模板中不能用 range（循环只能遍历给定的数据，如 items）"
    if any(brace in text for brace in ("｛", "｝", "％")) and re.search(r"[｛{][｛{%％]", text):
        return "标签用了全角括号或百分号（应为半角 {{ }} 或 {% %}）"
    if text.count("{{") != text.count("}}") or text.count("{%") != text.count("%}"):
        return "标签不完整：{{ 与 }}（或 {% 与 %}）不在同一段中成对出现"
    return None


def _names(source: str) -> Iterator[str]:
    """The variables an expression or statement names (not filters, strings, keywords)."""
    source = _STRING.sub("", source)
    head, *filters = source.split("|")
    for match in _NAME.finditer(head):
        name = match[1]
        if name.split(".")[0] not in _KEYWORDS:
            yield name
    for part in filters:  # a filter's arguments may name variables too: join(x)
        arguments = part.partition("(")[2]
        for match in _NAME.finditer(arguments):
            if match[1].split(".")[0] not in _KEYWORDS:
                yield match[1]


def _resolve(name: str, schema: Schema, sample: Any,
             loops: dict[str, tuple[Any, Any]]) -> tuple[Any, Any]:  # fmt: skip
    """The field ``name`` (a.b.c) stands for, and an example value; (None, None) if none."""
    root, *path = name.split(".")
    if root in loops:
        field, value = loops[root]
    elif root in schema.fields:
        field, value = schema.fields[root], _get(sample, root)
    else:
        return None, None
    for key in path:
        if isinstance(field, fields.Nested):
            nested = field.schema
            if key not in nested.fields:
                return None, None
            field, value = nested.fields[key], _get(value, key)
        elif isinstance(field, fields.Dict):
            if isinstance(value, dict) and key not in value:
                return None, None
            field, value = fields.Raw(), _get(value, key)
        else:  # an attribute of a plain value (a string's method, say)
            return field, value
    return field, value


def _get(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    return getattr(value, key, None)


def _required(kind: str, paragraphs: list[tuple[str, str]]) -> list[Problem]:
    if kind not in REQUIRED:
        return []
    text = "\n".join(t for _, t in paragraphs)
    tags = " ".join(_EXPRESSION.findall(text) + _STATEMENT.findall(text))
    problems = [Problem(f"缺少{what}（{{{{ {name} }}}}）") for name, what in REQUIRED[kind]
                if not re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", tags)]  # fmt: skip
    if not any(word in text for word in SIGNATURE_WORDS):
        problems.append(Problem("缺少签章栏（含“签字”或“盖章”的段落）"))
    return problems


def _trial(data: bytes, kind: str, sample: dict[str, Any],
           converter: Converter | None) -> list[Problem]:  # fmt: skip
    """Render the sample with the file as the template of ``kind``; check its fonts; convert."""
    problems = font_problems(data, kind)
    more, rendered = trial_render(data, kind, sample)
    problems += more
    if rendered is not None and converter is not None:
        problems += trial_convert(rendered, kind, converter)
    return problems


def font_problems(data: bytes, kind: str) -> list[Problem]:
    """No East-Asian font set, or a font named that is not installed."""
    fonts = Renderer().fonts(TemplateFile.of(kind, data))
    problems = []
    if not fonts.get("eastAsia"):
        problems.append(Problem("未设置中文（East Asian）字体：中文将由替代字体显示"))
    named = set().union(*fonts.values()) if fonts else set()
    problems += [Problem(f"字体未安装（将被替换）：{f}") for f in sorted(named)
                 if not pdf.font_installed(f)]  # fmt: skip
    return problems


def trial_render(
    data: bytes,
    kind: str,
    sample: dict[str, Any] | None = None,
    *,
    name: str = "",
    renderer: Renderer | None = None,
) -> tuple[list[Problem], bytes | None]:
    """The sample rendered with ``data`` as the template of ``kind``, or why it does not
    render (``name`` says which sample); one ``renderer`` compiles the parts once for many."""
    sample = SPECS[kind].sample_context() if sample is None else sample
    template = TemplateFile.of(kind, data)
    try:
        rendered = (renderer or Renderer()).render(template, sample, properties={"title": kind})
    except RenderError as exc:
        which = f"（{name}）" if name else ""
        return [Problem(f"试渲染失败{which}：{exc}")], None
    return [], rendered.data


def trial_convert(rendered: bytes, kind: str, converter: Converter) -> list[Problem]:
    """Whether a rendered trial converts to a PDF/A with its Chinese font embedded."""
    try:
        pdf.check(converter.to_pdf(rendered), title=kind)
    except ConverterUnavailable:  # the converter's trouble, not the template's: retry later
        raise
    except RenderError as exc:
        return [Problem(f"试转换为 PDF/A 失败：{exc}")]
    return []


def _excerpt(text: str, width: int = 30) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"
