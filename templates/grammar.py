"""What a template may say: the Jinja a Word template is allowed, checked on its syntax tree
— of exactly the sources docxtpl renders (body, headers, footers, footnotes, the document's
properties) — before an uploaded version is kept.

Templates print the data they are given and repeat rows over its lists; they need no
functions, arithmetic, assignments or macros, and each of those is a way to make a
rendering cost minutes or gigabytes. So the language is a small allowlist: names, attributes
and constant subscripts, ``for`` over a list of the data (not recursive), ``if``, comparisons,
``and``/``or``/``not``, ``~``, a few filters with short constant arguments, and ``loop``'s
counters. Anything else is named with the paragraph it is in.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from docxtpl import DocxTemplate
from jinja2 import TemplateSyntaxError, nodes

from templates.render import jinja_environment

# Filters a template author may use (templates.reference.FILTERS), with their longest
# constant argument: none of them makes more text than it is given, beyond that.
FILTERS = {"default": 200, "d": 200, "join": 20, "length": 0, "count": 0, "upper": 0,
           "lower": 0, "trim": 0, "first": 0, "last": 0, "truncate": 4, "replace": 50,
           "e": 0, "escape": 0, "string": 0, "title": 0, "capitalize": 0}  # fmt: skip
TESTS = {"defined", "undefined", "none", "string", "number", "sequence"}
LOOP = {"index", "index0", "first", "last", "length", "revindex", "revindex0"}
ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const,
           nodes.Getattr, nodes.Getitem, nodes.For, nodes.If, nodes.Filter, nodes.Test,
           nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.CondExpr,
           nodes.Concat, nodes.Tuple)  # fmt: skip
WHAT = {nodes.Call: "函数或方法调用", nodes.Macro: "宏（macro）", nodes.CallBlock: "call 块",
        nodes.FilterBlock: "filter 块", nodes.Assign: "赋值（set）",
        nodes.AssignBlock: "赋值（set）", nodes.Mul: "乘法", nodes.Pow: "乘方",
        nodes.Mod: "取余或格式化（%）", nodes.Add: "加法", nodes.Sub: "减法", nodes.Div: "除法",
        nodes.FloorDiv: "整除", nodes.Slice: "切片", nodes.List: "列表", nodes.Dict: "字典",
        nodes.Pair: "字典", nodes.Keyword: "关键字参数", nodes.Include: "include",
        nodes.Import: "import", nodes.FromImport: "import",
        nodes.Extends: "extends", nodes.Block: "block", nodes.With: "with"}  # fmt: skip
_TAG = re.compile(r"<[^>]+>")
_RAW = re.compile(r"\{%-?\s*raw\b")


def sources(data: bytes) -> Iterator[tuple[str, str]]:
    """(where, Jinja source) of every part docxtpl renders, as it renders it."""
    template = DocxTemplate(io.BytesIO(data))
    template.render_init()
    yield "正文", template.patch_xml(template.get_xml())
    for where, uri in (("页眉", template.HEADER_URI), ("页脚", template.FOOTER_URI)):
        for _, part in template.get_headers_footers(uri):
            yield where, template.patch_xml(template.get_part_xml(part))
    for part in template.docx.part.package.parts:
        if part.content_type.endswith(".footnotes+xml"):
            yield "脚注", template.patch_xml(part.blob.decode("utf-8"))
    core = template.docx.core_properties
    for name in ("author", "comments", "identifier", "language", "subject", "title"):
        yield "文档属性", getattr(core, name) or ""


Loop = tuple[list[str], str, str]  # its loop variables, the dotted name it goes over, place


def check(data: bytes) -> tuple[list[tuple[str, str]], list[Loop]]:
    """Every source read and parsed once: (message, place) of everything outside what a
    template may say, and every ``for`` (outer before inner), so that the inspection can
    check each goes over a list of its kind's data."""
    env = jinja_environment()
    problems: list[tuple[str, str]] = []
    loops: list[Loop] = []
    for where, source in sources(data):
        lines = re.sub(r"<w:p([ >])", r"\n<w:p\1", source).splitlines()
        if _RAW.search(source):  # text that would print as template code
            problems.append(("模板中不能用 raw 块", where))
        try:
            tree = env.parse("\n".join(lines))
        except TemplateSyntaxError as exc:
            problems.append((f"模板语法错误：{exc.message}", _place(where, lines, exc.lineno)))
            continue
        for node, message in _refused(tree):
            problems.append((message, _place(where, lines, node.lineno)))
        for node in tree.find_all(nodes.For):
            name = _dotted(node.iter)
            targets = [n.name for n in node.target.find_all(nodes.Name)]
            if isinstance(node.target, nodes.Name):
                targets = [node.target.name]
            if name:
                loops.append((targets, name, _place(where, lines, node.lineno)))
    return problems, loops


def _refused(tree: nodes.Node) -> Iterator[tuple[nodes.Node, str]]:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, ALLOWED):
            what = next((w for kind, w in WHAT.items() if isinstance(node, kind)),
                        type(node).__name__)  # fmt: skip
            yield node, f"模板中不能用{what}：模板只能显示数据、按数据循环和判断"
        elif isinstance(node, nodes.For) and node.recursive:
            yield node, "模板中不能用递归循环（recursive）"
        elif isinstance(node, nodes.For) and not _data(node.iter):
            yield node, "循环只能遍历模板数据中的一组数据（如 items），不能是算出来的"
        elif isinstance(node, nodes.Filter) and not _short_filter(node):
            yield node, f"模板中不能用过滤器 {node.name}（或其参数过长）：可用的见“模板变量参考”"
        elif isinstance(node, nodes.Test) and node.name not in TESTS:
            yield node, f"模板中不能用判断 is {node.name}"
        elif isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            yield node, "下标只能是常数（如 items[0]）"
        elif (isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name)
              and node.node.name == "loop" and node.attr not in LOOP):  # fmt: skip
            yield node, f"模板中不能用 loop.{node.attr}"


def _dotted(node: nodes.Node) -> str | None:
    parts = []
    while isinstance(node, nodes.Getattr):
        parts.append(node.attr)
        node = node.node
    return ".".join([node.name, *reversed(parts)]) if isinstance(node, nodes.Name) else None


def _data(node: nodes.Node) -> bool:
    """Whether a loop's iterable names the data (items, copy.lines): nothing computed."""
    while isinstance(node, nodes.Getattr):
        node = node.node
    return isinstance(node, nodes.Name) and node.name not in ("range", "loop", "lipsum")


def _short_filter(node: nodes.Filter) -> bool:
    longest = FILTERS.get(node.name)
    if longest is None or node.kwargs or node.dyn_args or node.dyn_kwargs:
        return False
    for arg in node.args:
        if not isinstance(arg, nodes.Const) or len(str(arg.value)) > longest:
            return False
    if node.name == "replace":  # never grows the text: a chain of them could, fifty-fold a step
        old, new = (str(arg.value) for arg in node.args[:2]) if len(node.args) >= 2 else ("", "")
        if not old or len(new) > len(old):
            return False
    return True


def _place(where: str, lines: list[str], lineno: int | None) -> str:
    """正文（…the words of the paragraph…）: where a node is, as a person finds it."""
    text = _TAG.sub("", lines[lineno - 1]).strip() if lineno and lineno <= len(lines) else ""
    text = text if len(text) <= 30 else text[:29] + "…"
    return f"{where}（{text}）" if text else where
