"""Templates are trusted code, data is not: the sandbox and the checks that keep them apart."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from schemas import ContractSchema
from templates import BUNDLED, sales_contract
from templates.check import check
from templates.errors import TemplateProblem
from templates.render import Renderer
from templates.text import docx_text


def template_with(tmp_path: Path, replace: dict[str, str]) -> Path:
    """The bundled templates, with text replaced in the sales contract's XML parts."""
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for bundled in BUNDLED.glob("*.docx"):
        shutil.copy(bundled, folder)
    source = BUNDLED / "sales_contract.docx"
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith(".xml"):
                text = data.decode("utf-8")
                for old, new in replace.items():
                    text = text.replace(old, new)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    (folder / "sales_contract.docx").write_bytes(out.getvalue())
    return folder


def test_the_bundled_templates_pass_the_check():
    assert check(Renderer(), "sales_contract") == []


def test_a_template_cannot_reach_python_internals(tmp_path):
    folder = template_with(tmp_path, {"{{ quality_standard }}": "{{ ''.__class__.__mro__ }}"})
    with pytest.raises(TemplateProblem):
        Renderer(folder).render("sales_contract", {"quality_standard": "x"}, properties={})


def test_a_template_changed_on_disk_is_used_at_the_next_rendering(tmp_path, payload):
    """Compiled template parts are kept between renderings; a new template replaces them."""
    data = ContractSchema().load(payload)
    context = sales_contract.context("HT-202611-0001", data)
    renderer = Renderer(template_with(tmp_path, {"质量标准": "质量要求"}))
    first = docx_text(renderer.render("sales_contract", context, properties={}).data)
    assert "质量要求" in first
    template_with(tmp_path, {"质量标准": "品质标准"})
    os.utime(renderer.path("sales_contract"), (1, 1))  # a new mtime, as a new upload has
    second = docx_text(renderer.render("sales_contract", context, properties={}).data)
    assert "品质标准" in second and "质量要求" not in second
    # The same template with other data: the kept compilation renders the new data.
    other = ContractSchema().load({**payload, "quality_standard": "按国家标准 GB/T 9061"})
    third = sales_contract.context("HT-202611-0002", other)
    rendered = docx_text(renderer.render("sales_contract", third, properties={}).data)
    assert "GB/T 9061" in rendered and "HT-202611-0002" in rendered


def test_the_check_reports_variables_the_context_does_not_provide(tmp_path):
    folder = template_with(tmp_path, {"{{ quality_standard }}": "{{ quality_grade }}"})
    problems = check(Renderer(folder), "sales_contract")
    assert any("quality_grade" in p for p in problems)
    assert any("quality_standard" in p for p in problems)


def test_the_check_reports_a_font_that_is_not_installed(tmp_path):
    folder = template_with(tmp_path, {"Noto Serif CJK SC": "方正小标宋不存在体"})
    problems = check(Renderer(folder), "sales_contract")
    assert any("方正小标宋不存在体" in p for p in problems)


def test_templates_check_command(runner, tmp_path, monkeypatch):
    from service.cli import main

    ok = runner.invoke(main, ["templates", "check"])
    assert ok.exit_code == 0, ok.output
    assert "✓ sales_contract" in ok.output

    folder = template_with(tmp_path, {"{{ buyer.name }}": "{{ purchaser }}"})
    monkeypatch.setenv("HETONG_TEMPLATE_DIR", str(folder))
    bad = runner.invoke(main, ["templates", "check"])
    assert bad.exit_code == 1
    assert "purchaser" in bad.output


def test_missing_cjk_font_refuses_to_render_instead_of_substituting(tmp_path, settings, payload):
    """A contract set in a font the machine lacks is a 503 with a clear message, not tofu.
    (A new archive: the folder's templates become version 1 of its register.)"""
    from archive import users
    from service import create_app

    folder = template_with(tmp_path, {"Noto Serif CJK SC": "Noto Serif CJK ZZ"})
    app = create_app({**settings, "TEMPLATE_DIR": str(folder)})
    archive = app.extensions["hetong.archive"]
    token = users.add_user(archive.catalogue, "li", "clerk")[1]
    response = app.test_client().post(
        "/api/v1/contracts", json=payload, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 503
    assert "Noto Serif CJK ZZ" in response.get_json()["message"]
    assert list(archive.storage.digests()) == []
    shutil.rmtree(folder)
    archive.close()
