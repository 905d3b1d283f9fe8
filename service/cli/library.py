"""``hetong search``, ``hetong reindex``, ``hetong index``, ``hetong volumes``: the archivist's
shell commands."""

from __future__ import annotations

import html
import sys
from pathlib import Path

import click

from archive import binding, searching, volumes
from archive.search import Filters, QueryError
from service.cli.base import EXIT_INVALID, Context, domain_errors, fail, pass_ctx


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--region")
@click.option("--year", type=int)
@click.option("--status")
@click.option("--kind")
@click.option("--per-page", type=int, default=20)
@pass_ctx
def search(obj: Context, query: str, region, year, status, kind, per_page: int) -> None:
    """全文检索：打印命中的文件。"""
    filters = Filters(region=region, year=year, status=status, kind=kind)
    try:
        result = searching.search(obj.archive, obj.actor(), query, filters=filters,
                                  per_page=per_page)  # fmt: skip
    except QueryError as exc:
        fail(exc.message, EXIT_INVALID)
    for hit in result.hits:
        # Highlights are HTML (escaped text, <mark> around matches): a terminal shows text.
        marked = (hit["highlights"] or [""])[0].replace("<mark>", "【").replace("</mark>", "】")
        snippet = html.unescape(marked)
        click.echo(f"{hit['number']}\t{hit['title']}\t{hit['region']}\t{snippet}")
    click.echo(f"共 {result.total} 条")


@click.command("reindex")
@pass_ctx
def reindex(obj: Context) -> None:
    """从目录库与文件重建全文索引。"""

    def progress(done: int, total: int) -> None:
        click.echo(f"\r重建索引：{done}/{total} 份合同", err=True, nl=done >= total)

    obj.fill_index = False
    count = obj.archive.indexer.rebuild(progress=progress)
    click.echo(f"已重建索引：{count} 个文件。")


@click.group("index")
def index_group() -> None:
    """全文索引。"""


@index_group.command("check")
@pass_ctx
def index_check(obj: Context) -> None:
    """报告索引中缺失、过期或多余的条目；有问题时退出码为 1。"""
    report = obj.archive.indexer.check()
    labels = {"missing": "缺失", "stale": "过期", "orphaned": "多余", "pending": "待处理"}
    for key, label in labels.items():
        items = report[key]
        click.echo(f"{label}：{len(items)}" + (f"（{', '.join(items[:20])}）" if items else ""))
    if report["missing"] or report["stale"] or report["orphaned"]:
        click.echo("运行 hetong reindex 可重建索引。")
        sys.exit(1)


@index_group.command("apply")
@pass_ctx
def index_apply(obj: Context) -> None:
    """把排队中的变更写入索引（供 cron 使用；服务运行时由其后台线程完成）。"""
    count = obj.archive.indexer.apply_pending()
    click.echo(f"已更新索引：{count} 份合同。")


@click.group("volumes")
def volumes_group() -> None:
    """案卷（按年、按区域装订成册）。"""


@volumes_group.command("list")
@pass_ctx
def volumes_list(obj: Context) -> None:
    """列出案卷及其现存的合同数、文件数，与已销毁的合同数。"""
    for v in volumes.list_volumes(obj.archive, obj.actor()):
        where = v["region"] + ("·未收款另册" if v["kind"] == "unpaid" else "")
        click.echo(f"{v['year']}\t{where}\t合同 {v['contracts']}\t文件 {v['documents']}"
                   f"\t已销毁 {v['destroyed']}")  # fmt: skip


@volumes_group.command("export")
@click.argument("year", type=int)
@click.argument("region")
@click.option("--unpaid", is_flag=True, help="导出该年度、区域的未收款另册。")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--purpose", required=True, help="用途（记入查阅登记）。")
@pass_ctx
@domain_errors
def volumes_export(obj: Context, year: int, region: str, unpaid: bool, output: Path | None,
                   purpose: str) -> None:  # fmt: skip
    """导出装订成册的 PDF（封面、卷内目录、文件、备考表与书签），记入查阅登记。"""
    suffix = "-未收款另册" if unpaid else ""
    target = output or Path(f"销售合同档案-{year}-{region}{suffix}.pdf")
    kind = "unpaid" if unpaid else "regular"
    target.write_bytes(binding.bind(obj.archive, year, region, obj.actor(), kind,
                                    purpose=purpose))  # fmt: skip
    click.echo(str(target))
