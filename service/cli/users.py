"""``hetong users``: people, roles and tokens."""

from __future__ import annotations

import click

from archive import users
from schemas.labels import ROLE_NAMES, local_time, named, person
from service.cli.base import Context, domain_errors, pass_ctx
from service.cli.words import NamedChoice


@click.group("users")
def group() -> None:
    """用户与令牌。"""


@group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=NamedChoice(users.ROLES),
              help=f"角色：{named(users.ROLES)}。")  # fmt: skip
@click.option("--display-name",
              help="显示名称（页面、文件上显示的姓名，例如 王经理；默认为用户名）。")  # fmt: skip
@click.option("--password", envvar="HETONG_NEW_PASSWORD",
              help="网页登录密码（或 HETONG_NEW_PASSWORD）；不给则只能用令牌。")  # fmt: skip
@pass_ctx
@domain_errors
def add(obj: Context, name: str, role: str, display_name: str | None,
        password: str | None) -> None:  # fmt: skip
    """创建用户并打印其 API 令牌（最后一行，仅显示一次）。"""
    # The first command of a new archive: the data root is created if it holds none.
    user, token = users.add_user(obj.new_or_existing_archive().catalogue, name, role,
                                 password=password, display_name=display_name)  # fmt: skip
    who, role = person(user.name, user.display_name), ROLE_NAMES[user.role]
    click.echo(f"已创建用户 {who}（角色：{role}）。API 令牌（请妥善保存，仅显示一次）：")
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


@group.command("update")
@click.argument("name")
@click.option("--display-name", required=True, help="新的显示名称（例如 王经理）。")
@pass_ctx
@domain_errors
def update(obj: Context, name: str, display_name: str) -> None:
    """更改用户的显示名称（页面、文件上显示的姓名；记录里仍是用户名）。"""
    user = users.set_display_name(obj.archive.catalogue, name, display_name)
    click.echo(f"已更新：{person(user.name, user.display_name)}。")


@group.command("list")
@pass_ctx
def list_(obj: Context) -> None:
    """列出用户：用户名、显示名称、角色、创建时间（本地时间）。"""
    zone = obj.archive.zone
    for user in users.list_users(obj.archive.catalogue):
        click.echo(f"{user.name}\t{user.display_name}\t{ROLE_NAMES.get(user.role, user.role)}"
                   f"\t{local_time(user.created_at, zone, with_zone=True)}")  # fmt: skip
