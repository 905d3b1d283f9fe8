"""``hetong audit verify``: proof that the audit log's history was not rewritten."""

from __future__ import annotations

from pathlib import Path

import click

from archive import backup, chain
from archive.backup.manifest import Manifest
from archive.chain import ChainHead
from service.cli.base import Context, domain_errors, fail, pass_ctx


@click.group("audit")
def group() -> None:
    """审计记录。"""


@group.command("verify")
@click.option(
    "--against",
    metavar="链头|清单",
    help="对照保存在别处的链头：“序号:哈希”，或一份备份（其清单中的链头）。",
)
@pass_ctx
@domain_errors
def verify(obj: Context, against: str | None) -> None:
    """逐条核对审计记录的哈希链，指出第一处断开（被改动、删除或插入的记录）。"""
    head = None
    if against:
        try:
            head = (
                ChainHead.parse(Manifest.read(backup.find(Path(against))).audit_head)
                if Path(against).exists()
                else ChainHead.parse(against)
            )
        except ValueError as exc:
            fail(str(exc), 2)
    found = chain.verify(obj.archive.catalogue, against=head)
    if not found.intact:
        if found.broken and found.broken <= found.head.seq + 1:
            fail(f"审计链在第 {found.broken} 条处断开：{found.problem}"
                 f"（此前 {found.head.seq} 条完好）", 1)  # fmt: skip
        fail(f"审计链不完整：{found.problem}（链中 {found.head.seq} 条本身完好）", 1)
    click.echo(
        f"✓ 审计链完整：{found.count} 条，链头 {found.head}"
        + (f"；对照的链头（第 {head.seq} 条）一致" if head else "")
    )
