"""``hetong serve``, ``hetong settings``, ``hetong templates``: running and configuring."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import click

from archive.errors import CatalogueTooNew
from service import config as settings
from service.cli.base import EXIT_INVALID, EXIT_UNAVAILABLE, Context, domain_errors, fail, pass_ctx
from service.ext import build_converter
from templates import inspection, proof, reference
from templates.check import SPECS, check_all
from templates.render import Renderer


@click.command("serve")
@click.option("--host", help="监听地址（默认 HETONG_HOST 或 127.0.0.1）。")
@click.option("--port", type=int, help="端口（默认 HETONG_PORT 或 8000）。")
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None) -> None:
    """启动 Web 服务（waitress，生产级 WSGI 服务器）。"""
    from service.app import create_app  # the web stack loads only for this command
    from service.serve import run

    try:
        app = create_app(obj.overrides)
    except CatalogueTooNew as exc:  # the reason, not a traceback
        fail(exc.message, 1)
    run(app, host=host or app.config["HOST"], port=port or app.config["PORT"])


@click.command("settings")
def show_settings() -> None:
    """显示全部设置及其当前取值。"""
    values = settings.load()
    for s in settings.SETTINGS:
        click.echo(f"HETONG_{s.name}={values[s.name]}")


@click.group("templates")
def templates_group() -> None:
    """Word 模板。"""


@templates_group.command("check")
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))  # fmt: skip
@click.option("--kind", type=click.Choice(sorted(SPECS)),
              help="FILE 是哪一种模板（给出 FILE 时必填）。")  # fmt: skip
@pass_ctx
def templates_check(obj: Context, file: Path | None, kind: str | None) -> None:
    """检查模板：标签是否完整、用到的变量是否都存在（指出所在段落）、
    合同必备部分是否齐全、字体是否已安装，并以示例数据试渲染一次。

    \b
    不给 FILE：检查正在使用的全部模板（HETONG_TEMPLATE_DIR 或内置模板）。
    给出 FILE 与 --kind：检查一份新的 Word 文件能否作为该种模板，
    并试转换为 PDF（启动 LibreOffice，需要几秒）。有问题时退出码为 1。
    """
    values = obj.settings
    if file is not None:
        if kind is None:
            fail("给出模板文件时须用 --kind 说明它是哪一种模板。", EXIT_INVALID)
        with tempfile.TemporaryDirectory(prefix="hetong-check-") as run:
            converter = build_converter(values, Path(run))
            try:
                problems = inspection.inspect(file.read_bytes(), kind, converter=converter)
            finally:
                converter.close()
        for problem in problems:
            click.echo(f"✗ {problem}")
        if problems:
            sys.exit(1)
        click.echo(f"✓ {file} 可以作为“{reference.TITLES.get(kind, kind)}”模板使用。")
        return
    # The templates in force (HETONG_TEMPLATE_DIR or the bundled ones): no archive needed.
    renderer = Renderer(values["TEMPLATE_DIR"] or None)
    problems = check_all(renderer)
    for name in problems:
        if name in SPECS and renderer.path(name).exists():
            found = inspection.inspect(renderer.path(name).read_bytes(), name, trial=False)
            problems[name] += [str(p) for p in found]
    for name, issues in problems.items():
        if issues:
            click.echo(f"✗ {name}")
            for issue in issues:
                click.echo(f"    {issue}")
        else:
            click.echo(f"✓ {name}")
    if any(problems.values()):
        sys.exit(1)


@templates_group.command("reference")
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


@templates_group.command("proof")
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
