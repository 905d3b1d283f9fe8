"""``hetong users``: people, roles and tokens."""

from __future__ import annotations

import click

from archive import users
from service.cli.base import Context, domain_errors, pass_ctx


@click.group("users")
def group() -> None:
    """用户与令牌。"""


@group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(users.ROLES), help="角色。")
@click.option("--password", envvar="HETONG_NEW_PASSWORD",
              help="网页登录密码（或 HETONG_NEW_PASSWORD）；不给则只能用令牌。")  # fmt: skip
@pass_ctx
@domain_errors
def add(obj: Context, name: str, role: str, password: str | None) -> None:
    """创建用户并打印其 API 令牌（最后一行，仅显示一次）。"""
    user, token = users.add_user(obj.archive.catalogue, name, role, password=password)
    click.echo(f"已创建用户 {user.name}（角色：{user.role}）。API 令牌（请妥善保存，仅显示一次）：")
    click.echo(token)


@group.command("passwd")
@click.argument("name")
@click.password_option("--password", prompt="新密码", help="新密码（不给则提示输入）。")
@pass_ctx
@domain_errors
def passwd(obj: Context, name: str, password: str) -> None:
    """设置或更改用户的网页登录密码。"""
    users.set_password(obj.archive.catalogue, name, password)
    click.echo(f"已更新 {name} 的密码。")


@group.command("list")
@pass_ctx
def list_(obj: Context) -> None:
    """列出用户。"""
    for user in users.list_users(obj.archive.catalogue):
        click.echo(f"{user.name}\t{user.role}\t{user.created_at:%Y-%m-%d}")
