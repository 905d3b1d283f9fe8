"""Carbone as the peer of bench/render.py: the same contract through Carbone 3.8.2.

``template`` turns hetong's own sales_contract.docx into a Carbone template (the same
document, its docxtpl tags rewritten as Carbone markers), ``data`` gives it the same
context, and ``run`` calls ``render.js`` and returns its docs/s. Carbone is installed by
``make bench`` (``npm install`` in this folder); without it ``available()`` is False.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LIBREOFFICE = "/usr/lib/libreoffice/program"

# The rows and paragraphs that only carry a docxtpl loop tag, and the element around them.
_ROW = r"<w:tr\b(?:(?!<w:tr\b).)*?{tag}.*?</w:tr>"
_PARAGRAPH = r"<w:p[ >](?:(?!<w:p[ >]).)*?{tag}.*?</w:p>"


def available() -> bool:
    return shutil.which("node") is not None and (HERE / "node_modules" / "carbone").is_dir()


def _rewrite(xml: str) -> str:
    def drop(pattern: str, tag: str, text: str) -> str:
        return re.sub(pattern.format(tag=re.escape(tag)), text, xml, flags=re.S)

    # {%tr for %} row: gone; {%tr endfor %} row: Carbone's [i+1] row that ends the loop.
    xml = drop(_ROW, "{%tr for item in items %}", "")
    xml = xml.replace("{%tr endfor %}", "{d.items[i+1].no}")
    xml = drop(_PARAGRAPH, "{%p for text in extra_clauses %}", "")
    xml = xml.replace("{%p endfor %}", "{d.extra_clauses[i+1].text}")
    xml = xml.replace("{% if not extra_clauses %}无。{% endif %}", "{d.extra_none}")
    xml = xml.replace("{{ loop.index }}", "{d.extra_clauses[i].no}")
    xml = xml.replace("{{ text }}", "{d.extra_clauses[i].text}")
    # The header's 机密 mark: shown only for a confidential contract.
    xml = xml.replace("{% if confidential %}", "{d.confidential:ifEQ(true):showBegin}")
    xml = xml.replace("{% endif %}", "{d.confidential:showEnd}")
    xml = re.sub(r"{{ item\.(\w+) }}", r"{d.items[i].\1}", xml)
    xml = re.sub(r"{{ ([\w.]+) }}", r"{d.\1}", xml)
    left = re.findall(r"{[{%][^}]*[}%]}", xml)
    assert not left, f"docxtpl tags left in the Carbone template: {left}"
    return xml


def template(source: Path, dest: Path) -> Path:
    """Write the Carbone version of the docxtpl template ``source`` to ``dest``."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if re.fullmatch(r"word/(document|footer\d*|header\d*)\.xml", info.filename):
                data = _rewrite(data.decode("utf-8")).encode("utf-8")
            out.writestr(info, data)
    return dest


def data(context: dict[str, Any]) -> dict[str, Any]:
    """hetong's template context in the shape the Carbone template reads."""
    clauses = [{"no": n, "text": t} for n, t in enumerate(context["extra_clauses"], start=1)]
    return {**context, "extra_clauses": clauses, "extra_none": "" if clauses else "无。"}


def run(template_path: Path, data_path: Path, *, factories: int, callers: int, docs: int) -> float:
    """Carbone's PDF docs/s with ``factories`` LibreOffice processes and ``callers`` callers."""
    # Carbone finds soffice on PATH and runs its converter with the python3 it finds there:
    # it must be the system one, which has `uno`.
    path = os.pathsep.join([LIBREOFFICE, "/usr/bin", os.environ.get("PATH", "")])
    with tempfile.TemporaryDirectory(prefix="carbone-bench-", ignore_cleanup_errors=True) as temp:
        args = [str(template_path), str(data_path), str(factories), str(callers), str(docs), temp]
        done = subprocess.run(
            ["node", str(HERE / "render.js"), *args], cwd=HERE, env={**os.environ, "PATH": path},
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"Carbone failed: {done.stderr.strip()[-800:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["docs_per_s"])
