"""An operator manages the template register from the shell: list, upload (checked, refused
with the place of each problem), preview, activate, and a check that covers the register."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader

from service.cli import main
from tests.helpers import misspell, offered, pdf_text

DATA = Path(__file__).resolve().parents[1] / "data"
WORDING = "本合同一式肆份，双方各执贰份"


def reworded(document) -> None:
    document.paragraphs[-1].insert_paragraph_before(WORDING + "。")


def test_an_operator_uploads_previews_and_activates_a_version(runner, archive, tmp_path, tokens):
    listed = runner.invoke(main, ["templates", "list"])
    assert listed.exit_code == 0, listed.output
    assert (
        "销售合同·设备买卖" in listed.output
        and "第 1 版\t使用中\t随系统提供\t系统" in listed.output
    )

    bad, good = tmp_path / "错.docx", tmp_path / "新版.docx"
    bad.write_bytes(offered(misspell))
    good.write_bytes(offered(reworded))
    refused = runner.invoke(main, ["templates", "upload", "销售合同·设备买卖", str(bad)])
    assert refused.exit_code == 2 and "buyer.nmae" in refused.output and "正文第" in refused.output

    clerk = runner.invoke(main, ["--as", "clerk-user", "templates", "upload", "销售合同·设备买卖",
                                 str(good)])  # fmt: skip
    assert clerk.exit_code == 4 and "管理员" in clerk.output

    kept = runner.invoke(main, ["templates", "upload", "销售合同·设备买卖", str(good),
                                "--note", "法务部意见：份数改为四份"])  # fmt: skip
    assert kept.exit_code == 0, kept.output
    assert "第 2 版已保存为草稿" in kept.output

    pdf = tmp_path / "预览.pdf"
    shown = runner.invoke(main, ["templates", "preview", "销售合同·设备买卖", "2", "-o", str(pdf)])
    assert shown.exit_code == 0, shown.output
    assert WORDING in pdf_text(pdf.read_bytes()).replace("\n", "")
    assert len(PdfReader(pdf).pages) >= 1

    assert runner.invoke(main, ["templates", "activate", "销售合同·设备买卖", "2"]).exit_code == 0
    listed = runner.invoke(main, ["templates", "list"]).output
    assert "第 1 版\t已停用" in listed and "第 2 版\t使用中\t上传" in listed

    body = json.loads((DATA / "contract.json").read_text("utf-8")) | {"business_type": "设备买卖"}
    (tmp_path / "c.json").write_text(json.dumps(body, ensure_ascii=False), "utf-8")
    number = runner.invoke(main, ["contracts", "create", str(tmp_path / "c.json")]).output.strip()
    shown = json.loads(runner.invoke(main, ["contracts", "show", number]).output)
    assert shown["business_type"] == "设备买卖"
    assert {d["template"]["version"] for d in shown["documents"]} == {2}

    checked = runner.invoke(main, ["templates", "check"])
    assert checked.exit_code == 0, checked.output
    assert "模板库：" in checked.output
    assert "✓ 销售合同·设备买卖 第 2 版（使用中）" in checked.output


def test_an_unknown_template_names_the_ones_there_are(runner, archive):
    result = runner.invoke(main, ["templates", "activate", "销售合同·太空旅行", "1"])
    assert result.exit_code == 3 and "销售合同·设备买卖" in result.output
