"""``hetong serve``, ``hetong settings``: running and configuring."""

from __future__ import annotations

import click

from archive.errors import CatalogueTooNew
from service import config as settings
from service.cli.base import Context, fail, pass_ctx


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
