"""The ``hetong`` command line: one module per command group, each thin — it parses, calls
the domain, prints, and turns domain errors into exit codes (``service.cli.base``)."""

from __future__ import annotations

import logging

import click

from service.cli import (
    audit,
    backup,
    clauses,
    contracts,
    customers,
    fixity,
    library,
    loans,
    retention,
    system,
    templates,
    users,
    words,
)
from service.cli.base import Context

words.install()  # click's own help, errors and prompts in Chinese


@click.group()
@click.option("--data-dir", envvar="HETONG_DATA_DIR", help="数据目录（默认 ./var）。")
@click.option("--as", "acting_as", metavar="USER", help="以该用户的身份和角色操作（记入审计）。")
@click.option("-v", "--verbose", is_flag=True, help="输出运行日志。")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None, acting_as: str | None, verbose: bool) -> None:
    """hetong 合同：销售合同的生成、归档与检索。"""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    ctx.obj = Context(data_dir, acting_as)
    ctx.call_on_close(ctx.obj.close)


for command in (
    system.serve, system.show_settings, templates.group, users.group, contracts.group,
    customers.group, clauses.group,
    contracts.receivables_cmd, library.search, library.reindex, library.index_group,
    library.volumes_group, retention.group, loans.group, backup.group, audit.group,
    fixity.group,
):  # fmt: skip
    main.add_command(command)
words.localize(main)

__all__ = ["main"]
