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
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from templates import BUNDLED
from templates.errors import TemplateProblem

log = logging.getLogger(__name__)

RENDERER = f"docxtpl {version('docxtpl')}"
_TEXT_PART = re.compile(r"word/(document|styles|header\d*|footer\d*)\.xml")
_RUN_FONTS = re.compile(r"<w:rFonts\b([^>]*)>")
_FONT_ATTR = re.compile(r'\bw:(ascii|hAnsi|eastAsia|cs)="([^"]+)"')


class Environment(SandboxedEnvironment):
    """The sandbox, compiling each template part once.

    docxtpl hands ``from_string`` the template's own XML (tags mended, never the data), the
    same text at every rendering of a template; compiling it was half of a rendering. The
    compiled template is kept by its source, so a changed template compiles anew.
    """

    KEEP = 64  # template parts (a template has a few: body, headers, footers)

    def __init__(self) -> None:
        # StrictUndefined: a variable the template names but the context lacks is an
        # error, never a silently blank clause in a contract.
        super().__init__(autoescape=True, undefined=StrictUndefined)
        self._compiled: dict[str, Template] = {}
        self._compiling = threading.Lock()

    def from_string(self, source, globals=None, template_class=None):
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            compiled = super().from_string(source)
            with self._compiling:
                if len(self._compiled) >= self.KEEP:
                    self._compiled.clear()
                self._compiled[source] = compiled
        return compiled


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
        doc = DocxTemplate(io.BytesIO(template.data))
        try:
            doc.render(context, jinja_env=self._jinja, autoescape=True)
        except TemplateError as exc:
            raise TemplateProblem(f"template {name!r}: {exc}") from exc
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
