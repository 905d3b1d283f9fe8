"""Fill Word templates with docxtpl, in a sandboxed, autoescaping Jinja environment.

User data is passed as context values only: the sandbox stops template code from
reaching Python internals, autoescaping turns ``&<>"`` into XML entities, and since
the template is compiled before the data is inserted, ``{{ 7*7 }}`` in a clause is
printed as typed.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
import zipfile
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from templates import BUNDLED
from templates.errors import TemplateProblem

log = logging.getLogger(__name__)

RENDERER = f"docxtpl {version('docxtpl')}"
_TEXT_PART = re.compile(r"word/(document|styles|header\d*|footer\d*)\.xml")
_RUN_FONTS = re.compile(r"<w:rFonts\b([^>]*)>")
_FONT_ATTR = re.compile(r'\bw:(ascii|hAnsi|eastAsia|cs)="([^"]+)"')


# What one rendering may cost, whatever a template asks: characters written per template
# part, elements visited by its loops, and the size of what * and ** may make. A template an
# administrator uploaded is checked before use, but only with the sample data; these hold
# for every contract's, so no rendering can hold a service thread for long.
MAX_OUTPUT = 32 * 1024 * 1024
MAX_VISITS = 1_000_000
MAX_PRODUCT = 100_000
MAX_EXPONENT = 64


class Budget:
    """What is left to one rendering: loop visits, and characters over all its parts."""

    def __init__(self, visits: int = MAX_VISITS, characters: int = MAX_OUTPUT) -> None:
        self.visits, self.characters = visits, characters
        self.left, self.room = visits, characters

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise SecurityError(f"模板的循环超过 {self.visits:,} 次，已停止")

    def write(self, size: int) -> None:
        self.room -= size
        if self.room < 0:
            raise SecurityError(f"模板生成的内容超过 {self.characters:,} 个字符，已停止")


# The budget of the rendering under way on this thread (parts render one after another).
_current: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


class _Counted(list):
    """A list of the context whose every visit by a loop (or filter) spends the budget."""

    def __init__(self, items: list, budget: Budget) -> None:
        super().__init__(items)
        self.budget = budget

    def __iter__(self):
        for item in list.__iter__(self):
            self.budget.spend()
            yield item


def counted(value: Any, budget: Budget) -> Any:
    """``value`` with every list in it (at any depth) counting its visits against ``budget``."""
    if isinstance(value, dict):
        return {key: counted(inner, budget) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return _Counted([counted(inner, budget) for inner in value], budget)
    return value


class CappedTemplate(Template):
    """A template part whose output counts against its rendering's ``Budget`` (all parts
    together: body, headers, footers, footnotes, properties)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        budget = _current.get() or Budget()
        pieces = []
        for piece in self.generate(*args, **kwargs):
            budget.write(len(piece))
            pieces.append(piece)
        return "".join(pieces)


class _Kept:
    """What a template part's source always gives (its mended tags, its compiled code),
    kept by that source; at most ``KEEP`` entries (a template has a few parts: body,
    headers, footers), so a changed template is worked on anew and old ones go."""

    KEEP = 64

    def __init__(self) -> None:
        self._kept: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, source: str, make: Callable[[str], Any]) -> Any:
        kept = self._kept.get(source)
        if kept is None:
            kept = make(source)
            with self._lock:
                if len(self._kept) >= self.KEEP:
                    self._kept.clear()
                self._kept[source] = kept
        return kept


class _Template(DocxTemplate):
    """docxtpl's template, mending each template part's tags once and rendering each
    footnotes part once.

    docxtpl renders the footnotes once per section, each time over its own previous output,
    so in a document of two sections a clerk's ``{% … %}`` typed into a party's name would
    be run as template code on the second pass."""

    _patched = _Kept()  # template XML → the same with its tags mended

    def patch_xml(self, src_xml: str) -> str:
        """docxtpl's tag mending, which depends on the template's XML alone (never the
        data): done once per template part, it was 40 % of a rendering."""
        return self._patched.get(src_xml, super().patch_xml)

    def render_footnotes(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        for part in self.docx.part.package.parts:
            if part.content_type.endswith(".footnotes+xml"):
                blob = part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob
                xml = self.render_xml_part(self.patch_xml(blob), part, context, jinja_env)
                part._blob = xml.encode("utf-8")


class Environment(SandboxedEnvironment):
    """The sandbox, compiling each template part once, with bounds on what a rendering may
    cost (``MAX_OUTPUT``, ``MAX_VISITS``, ``MAX_PRODUCT``).

    docxtpl hands ``from_string`` the template's own XML (tags mended, never the data), the
    same text at every rendering of a template; compiling it was half of a rendering. The
    compiled template is kept by its source, so a changed template compiles anew.
    """

    template_class = CappedTemplate
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        """``*`` and ``**`` within bounds: no string repeated into megabytes, no power that
        takes the processor for minutes."""
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"模板中的乘方过大（指数超过 {MAX_EXPONENT}）")
        if operator == "*":
            for one, other in ((left, right), (right, left)):
                if (isinstance(one, str | list | tuple) and isinstance(other, int)
                        and len(one) * other > MAX_PRODUCT):  # fmt: skip
                    raise SecurityError(f"模板中的重复过多（超过 {MAX_PRODUCT:,}）")
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, int | float) and abs(result) > 10**15:
            raise SecurityError("模板中的运算结果过大")
        return result

    def __init__(self) -> None:
        # StrictUndefined: a variable the template names but the context lacks is an
        # error, never a silently blank clause in a contract.
        super().__init__(autoescape=True, undefined=StrictUndefined)
        self._compiled = _Kept()

    def from_string(self, source, globals=None, template_class=None):
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        return self._compiled.get(source, super().from_string)


def jinja_environment() -> SandboxedEnvironment:
    return Environment()


@dataclass(frozen=True)
class TemplateFile:
    """A Word template: its kind (``name``), bytes and SHA-256, and — when it came from the
    catalogue's template register — the id of its version."""

    name: str
    data: bytes
    sha256: str
    version_id: int | None = None

    @classmethod
    def of(cls, name: str, data: bytes, version_id: int | None = None) -> TemplateFile:
        return cls(name, data, hashlib.sha256(data).hexdigest(), version_id)


@dataclass(frozen=True)
class Rendered:
    data: bytes
    template: TemplateFile
    renderer: str = RENDERER


class Renderer:
    """Loads each template once (the costly part) and renders it many times."""

    def __init__(self, template_dir: Path | None = None) -> None:
        self.template_dir = Path(template_dir) if template_dir else BUNDLED
        self._cache: dict[str, tuple[float, TemplateFile]] = {}
        self._fonts: dict[str, dict[str, set[str]]] = {}  # by template sha256
        self._lock = threading.Lock()
        self._jinja = Environment()

    def path(self, name: str) -> Path:
        return self.template_dir / f"{name}.docx"

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.template_dir.glob("*.docx"))

    def template(self, name: str) -> TemplateFile:
        path = self.path(name)
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError as exc:
            raise TemplateProblem(f"template {name!r} not found in {self.template_dir}") from exc
        with self._lock:
            cached = self._cache.get(name)
            if cached is None or cached[0] != mtime:
                data = path.read_bytes()
                cached = (mtime, TemplateFile.of(name, data))
                self._cache[name] = cached
        return cached[1]

    def _file(self, template: str | TemplateFile) -> TemplateFile:
        return template if isinstance(template, TemplateFile) else self.template(template)

    def render(self, template: str | TemplateFile, context: dict[str, Any], *,
               properties: dict[str, str]) -> Rendered:  # fmt: skip
        """Render a template (a registered version, or a file of the folder by kind);
        ``properties`` become the document's title etc."""
        template = self._file(template)
        name = template.name
        doc = _Template(io.BytesIO(template.data))
        budget = Budget()
        token = _current.set(budget)
        try:
            doc.render(counted(context, budget), jinja_env=self._jinja, autoescape=True)
        except TemplateError as exc:
            raise TemplateProblem(f"模板“{name}”无法生成文件：{exc}") from exc
        except Exception as exc:
            # Whatever the data makes a template's expression or its XML do (1/0, a huge
            # number, a paragraph tag left open in a header): the template's fault, said as
            # such, never a 500.
            log.warning("template %s failed: %r", name, exc)
            raise TemplateProblem(f"模板“{name}”无法生成文件：{type(exc).__name__}: {exc}") from exc
        finally:
            _current.reset(token)
        core = doc.docx.core_properties
        for key, value in properties.items():
            setattr(core, key, value)
        out = io.BytesIO()
        doc.save(out)
        return Rendered(out.getvalue(), template)

    def fonts(self, template: str | TemplateFile) -> dict[str, set[str]]:
        """Font families the template's styles and runs name, by script slot.

        ``{"eastAsia": {"Noto Serif CJK SC"}, "ascii": {...}, ...}``. Only the parts text
        is set from (body, styles, headers, footers) count, not the font table, the theme,
        or Word 2010's alternative styles part that LibreOffice ignores.
        """
        template = self._file(template)
        if template.sha256 not in self._fonts:  # asked before every rendering: read once
            with zipfile.ZipFile(io.BytesIO(template.data)) as z:
                parts = [n for n in z.namelist() if _TEXT_PART.fullmatch(n)]
                xml = "".join(z.read(n).decode("utf-8") for n in parts)
            found: dict[str, set[str]] = {}
            for attrs in _RUN_FONTS.findall(xml):
                for slot, family in _FONT_ATTR.findall(attrs):
                    found.setdefault(slot, set()).add(family)
            self._fonts[template.sha256] = found
        return self._fonts[template.sha256]

    def variables(self, template: str | TemplateFile) -> set[str]:
        """Top-level names the template uses (for ``hetong templates check``)."""
        doc = DocxTemplate(io.BytesIO(self._file(template).data))
        return set(doc.get_undeclared_template_variables(jinja_environment()))
