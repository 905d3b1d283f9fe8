"""``hetong templates``: the template register from the shell (list, upload, preview,
activate), and the checks, reference and proofs for template authors."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from archive import previews, template_register, users
from archive.core import holds_archive
from archive.models import Template
from schemas.labels import local_time, person, zone_name
from service.cli.base import (
    EXIT_INVALID,
    EXIT_NOT_FOUND,
    EXIT_UNAVAILABLE,
    Context,
    domain_errors,
    fail,
    pass_ctx,
)
from service.ext import build_converter
from templates import inspection, proof, reference
from templates.check import SPECS, check_all
from templates.convert import Converter
from templates.render import Renderer
from templates.template_uploads import TemplateRejected, check_template
from templates.uploads import UploadLimits


@click.group("templates")
def group() -> None:
    """Word 模板与模板库（按种类与销售业务类型，各有版本）。"""


def _find(obj: Context, which: str) -> Template:
    """A template by its number, its title (销售合同·设备买卖) or its kind (amendment)."""
    found = template_register.listing(obj.archive.catalogue)
    for template in found:
        if which in (str(template.id), template_register.title(template)):
            return template
    by_kind = [t for t in found if t.kind == which]
    if len(by_kind) == 1:
        return by_kind[0]
    names = "、".join(f"{t.id} {template_register.title(t)}" for t in by_kind or found)
    if by_kind:  # a kind with a template per business type: which one?
        fail(f"“{which}”有多个模板，请用编号或名称指明：{names}。", EXIT_INVALID)
    fail(f"没有模板“{which}”（可用：{names}）。", EXIT_NOT_FOUND)
    raise AssertionError("unreachable")


@group.command("list")
@pass_ctx
@domain_errors
def list_templates(obj: Context) -> None:
    """模板库：每个模板及其版本（状态、来源、上传人、时间、说明）。"""
    archive = obj.archive
    names = users.display_names(archive.catalogue)
    where = zone_name(archive.zone)
    for template in template_register.listing(archive.catalogue):
        click.echo(f"{template.id}\t{template_register.title(template)}\t{template.name}")
        for v in template.versions:
            state = template_register.STATE_NAMES[v.state]
            origin = template_register.ORIGIN_NAMES.get(v.origin, v.origin)
            at = local_time(v.uploaded_at, archive.zone)
            who = person(v.uploaded_by, names.get(v.uploaded_by))
            click.echo(f"    第 {v.number} 版\t{state}\t{origin}\t{who}\t{at}（{where}）\t"
                       f"{v.sha256[:12]}\t{v.note or ''}")  # fmt: skip


@group.command("new")
@click.argument("business_type")
@click.option("--name", default="", help="模板名称（默认按业务类型命名）。")
@pass_ctx
@domain_errors
def new(obj: Context, business_type: str, name: str) -> None:
    """为新的销售业务类型建立合同模板：第 1 版为标准模板，随即可选用；
    再用 upload 上传该类型自己的措辞。"""
    template = template_register.create(obj.archive, business_type, obj.actor(), name=name)
    click.echo(f"{template.id}\t{template_register.title(template)}：第 1 版（标准模板）使用中")


@group.command("upload")
@click.argument("template")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", default="", help="说明：改了什么、依据（如法务部意见）。")
@pass_ctx
@domain_errors
def upload(obj: Context, template: str, file: Path, note: str) -> None:
    """上传 FILE 作为模板 TEMPLATE（编号、名称如“销售合同·设备买卖”或种类如 amendment）
    的新版本。先检查（同 check），未通过时逐条说明问题与位置，不保存（退出码 2）；
    通过后保存为草稿，用 activate 启用。"""
    found = _find(obj, template)
    kept = template_register.upload(obj.archive, found.id, file.read_bytes(), obj.actor(),
                                    filename=file.name, note=note)  # fmt: skip
    click.echo(f"✓ {template_register.title(found)} 第 {kept.number} 版已保存为草稿"
               f"（SHA-256 {kept.sha256[:12]}…）")  # fmt: skip
    for fix in kept.fixes or []:
        click.echo(f"    已修正：{fix}")
    click.echo(f"    预览：hetong templates preview {found.id} {kept.number} -o 预览.pdf")
    click.echo(f"    启用：hetong templates activate {found.id} {kept.number}")


@group.command("activate")
@click.argument("template")
@click.argument("version", type=int)
@pass_ctx
@domain_errors
def activate(obj: Context, template: str, version: int) -> None:
    """启用模板 TEMPLATE 的第 VERSION 版：此后的新文件用它，原使用中的版本停用
    （回到旧版本也是启用旧版本）。"""
    found = _find(obj, template)
    template_register.activate(obj.archive.catalogue, found.id, version, obj.actor())
    click.echo(f"✓ {template_register.title(found)} 第 {version} 版已启用")


@group.command("retire")
@click.argument("template")
@click.argument("version", type=int)
@pass_ctx
@domain_errors
def retire(obj: Context, template: str, version: int) -> None:
    """停用一份草稿（仍留在模板库中，以后仍可启用）。"""
    found = _find(obj, template)
    template_register.retire(obj.archive.catalogue, found.id, version, obj.actor())
    click.echo(f"✓ {template_register.title(found)} 第 {version} 版已停用")


@group.command("preview")
@click.argument("template")
@click.argument("version", type=int)
@click.option("-o", "--output", "out", required=True, help="写入的 PDF 文件。",
              type=click.Path(dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--contract", help="以该合同的数据预览（仅销售合同模板；须 --purpose）。")
@click.option("--purpose", help="用途（以合同数据预览时记入查阅登记）。")
@pass_ctx
@domain_errors
def preview(obj: Context, template: str, version: int, out: Path, contract: str | None,
            purpose: str | None) -> None:  # fmt: skip
    """以示例数据（或 --contract 给出的合同的数据）生成第 VERSION 版的 PDF 预览。"""
    found = _find(obj, template)
    pdf = previews.preview(obj.archive, found.id, version, obj.actor(), contract_no=contract,
                           purpose=purpose)  # fmt: skip
    _write(out, pdf)


@group.command("download")
@click.argument("template")
@click.argument("version", type=int)
@click.option("-o", "--output", "out", required=True, help="写入的 Word 文件。",
              type=click.Path(dir_okay=False, path_type=Path))  # fmt: skip
@pass_ctx
@domain_errors
def download(obj: Context, template: str, version: int, out: Path) -> None:
    """取出第 VERSION 版的 Word 文件（在 Word 中修改后再 upload）。"""
    found = _find(obj, template)
    chosen = template_register.version(found, version)
    _write(out, template_register.file_of(obj.archive.catalogue, chosen.id).data)


def _write(out: Path, data: bytes) -> None:
    try:
        out.write_bytes(data)
    except OSError as exc:
        fail(f"无法写入 {out}：{exc.strerror or exc}", 1)
    click.echo(str(out))


@group.command("check")
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--kind", type=click.Choice(sorted(SPECS)),
              help="FILE 是哪一种模板（给出 FILE 时必填）。")  # fmt: skip
@pass_ctx
@domain_errors
def check(obj: Context, file: Path | None, kind: str | None) -> None:
    """检查模板：能否打开、有无宏或外部内容、标签是否完整、用到的变量是否都存在
    （指出所在段落）、合同必备部分是否齐全、字体是否已安装，并以示例数据试渲染、
    试转换为 PDF/A（启动 LibreOffice，需要几秒）。有问题时退出码为 1。

    \b
    不给 FILE：检查随系统提供的模板（或 HETONG_TEMPLATE_DIR），
    以及数据目录中有档案时模板库里每个使用中和草稿状态的版本。
    给出 FILE 与 --kind：检查一份新的 Word 文件能否作为该种模板（与上传时的检查相同）。
    """
    values = obj.settings
    if file is not None and kind is None:
        fail("给出模板文件时须用 --kind 说明它是哪一种模板。", EXIT_INVALID)
    with tempfile.TemporaryDirectory(prefix="hetong-check-") as run:
        converter = build_converter(values, Path(run))
        try:
            if file is not None:
                _check_file(file, kind or "", converter)
                return
            failed = _check_folder(Renderer(values["TEMPLATE_DIR"] or None))
            if holds_archive(Path(values["DATA_DIR"]), values["DATABASE_URL"]):
                failed |= _check_register(obj, converter)
        finally:
            converter.close()
    if failed:
        sys.exit(1)


def _check_file(file: Path, kind: str, converter: Converter) -> None:
    try:
        checked = check_template(file.read_bytes(), kind, UploadLimits(), converter)
    except TemplateRejected as exc:
        click.echo(f"✗ {exc.message}")
        sys.exit(1)
    for problem in checked.problems:
        click.echo(f"✗ {problem}")
    if checked.problems:
        sys.exit(1)
    for fix in checked.fixes:
        click.echo(f"    上传时将修正：{fix}")
    click.echo(f"✓ {file} 可以作为“{reference.TITLES.get(kind, kind)}”模板使用。")


def _check_folder(renderer: Renderer) -> bool:
    """The templates of the folder (bundled, or HETONG_TEMPLATE_DIR): no archive needed."""
    problems = check_all(renderer)
    for name in problems:
        if name in SPECS and renderer.path(name).exists():
            found = inspection.inspect(renderer.path(name).read_bytes(), name, trial=False)
            problems[name] += [str(p) for p in found]
    click.echo(f"模板文件夹 {renderer.template_dir}：")
    for name, issues in problems.items():
        click.echo(f"{'✗' if issues else '✓'} {name}")
        for issue in issues:
            click.echo(f"    {issue}")
    return any(problems.values())


def _check_register(obj: Context, converter: Converter) -> bool:
    """Every active and draft version in the register, by the upload's own check."""
    archive = obj.archive
    click.echo("模板库：")
    failed = False
    for template in template_register.listing(archive.catalogue):
        for v in template.versions:
            if v.state == template_register.RETIRED:
                continue
            data = template_register.file_of(archive.catalogue, v.id).data
            try:
                checked = check_template(data, template.kind, archive.upload_limits, converter)
                issues = [str(p) for p in checked.problems]
            except TemplateRejected as exc:
                issues = [exc.message]
            state = template_register.STATE_NAMES[v.state]
            click.echo(f"{'✗' if issues else '✓'} {template_register.title(template)} "
                       f"第 {v.number} 版（{state}）")  # fmt: skip
            for issue in issues:
                click.echo(f"    {issue}")
            failed |= bool(issues)
    return failed


@group.command("reference")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              help="写入文件（Markdown）；默认输出到屏幕。")  # fmt: skip
def templates_reference(out: Path | None) -> None:
    """模板变量参考：每种模板可用的变量、循环、条件与过滤器，附含义和示例
    （页面“模板变量”与 docs/template-variables.md 是同一份内容）。"""
    text = reference.markdown()
    if out:
        out.write_text(text, "utf-8")
        click.echo(str(out))
    else:
        click.echo(text, nl=False)


@group.command("proof")
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("proof"), show_default=True, help="校样输出目录。")  # fmt: skip
@pass_ctx
@domain_errors
def templates_proof(obj: Context, out: Path) -> None:
    """生成校样：每个模板以疑难数据填充，输出 PDF 及逐页 PNG 图像，供发布前人工查看。

    \b
    疑难数据：25 行与 200 行合同、1 亿元与 0.01 元单价、长型号与长运单号、
    以标点结尾的条款、补充协议、六联发货通知单、销毁清单与销毁记录、
    案卷封面、卷内目录、备考表。
    输出：<目录>/<模板>-<示例>.pdf 与 <目录>/<模板>-<示例>-<页>.png（pdftoppm）。
    """
    if proof.pdftoppm_missing():
        fail("未找到 pdftoppm，无法把 PDF 转为页面图像：请安装 poppler-utils"
             "（sudo apt-get install poppler-utils）。", EXIT_UNAVAILABLE)  # fmt: skip
    values = obj.settings
    renderer = Renderer(values["TEMPLATE_DIR"] or None)
    # The templates in force, converted by LibreOffice workers of this command's own (or the
    # conversion hosts of the settings): no archive needed, and none disturbed.
    with tempfile.TemporaryDirectory(prefix="hetong-proof-") as run:
        converter = build_converter(values, Path(run))
        try:
            for path in proof.write(renderer, converter, out):
                click.echo(str(path))
        except subprocess.CalledProcessError as exc:
            fail(f"pdftoppm 未能生成页面图像：{exc.stderr.decode(errors='replace').strip()}", 1)
        finally:
            converter.close()
    missing = proof.unproofed(renderer)
    if missing:
        fail(f"以下模板没有校样数据：{'、'.join(missing)}", 1)
