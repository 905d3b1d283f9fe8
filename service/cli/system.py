"""``hetong serve``, ``hetong settings``, ``hetong templates``: running and configuring."""

from __future__ import annotations

import sys

import click

from service import config as settings
from service.cli.base import Context, pass_ctx
from templates.check import check_all
from templates.render import Renderer


@click.command("serve")
@click.option("--host", help="监听地址（默认 HETONG_HOST 或 127.0.0.1）。")
@click.option("--port", type=int, help="端口（默认 HETONG_PORT 或 8000）。")
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None) -> None:
    """启动 Web 服务（waitress，生产级 WSGI 服务器）。"""
    from service.app import create_app  # the web stack loads only for this command
    from service.serve import run

    app = create_app(obj.overrides)
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
@pass_ctx
def templates_check(obj: Context) -> None:
    """检查每个模板使用的变量与其上下文结构一致，并试渲染一次。"""
    # The templates in force (HETONG_TEMPLATE_DIR or the bundled ones): no archive needed.
    problems = check_all(Renderer(obj.settings["TEMPLATE_DIR"] or None))
    for name, issues in problems.items():
        if issues:
            click.echo(f"✗ {name}")
            for issue in issues:
                click.echo(f"    {issue}")
        else:
            click.echo(f"✓ {name}")
    if any(problems.values()):
        sys.exit(1)
