"""``hetong audit verify``: proof that the audit log's history was not rewritten."""

from __future__ import annotations

import click

from archive import chain
from archive.chain import ChainHead
from service.cli.base import Context, domain_errors, fail, pass_ctx


@click.group("audit")
def group() -> None:
    """审计记录。"""


@group.command("verify")
@click.option(
    "--against",
    metavar="链头",
    help="对照保存在别处的链头：“序号:哈希”（如销毁记录上所印）。",
)
@pass_ctx
@domain_errors
def verify(obj: Context, against: str | None) -> None:
    """逐条核对审计记录的哈希链，指出第一处断开（被改动、删除或插入的记录）。"""
    head = None
    if against:
        try:
            head = ChainHead.parse(against)
        except ValueError as exc:
            fail(str(exc), 2)
    found = chain.verify(obj.archive.catalogue, against=head)
    if not found.intact:
        where = f"审计链在第 {found.broken} 条处断开：" if found.broken else "审计链不完整："
        fail(f"{where}{found.problem}（此前 {found.count - 1} 条完好）", 1)
    click.echo(
        f"✓ 审计链完整：{found.count} 条，链头 {found.head}"
        + (f"；对照的链头（第 {head.seq} 条）一致" if head else "")
    )
