"""``hetong fixity check``: re-read the stored files against their SHA-256 (a nightly timer)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from archive import backup, fixity
from service.cli.base import EXIT_DAMAGED, Context, Progress, domain_errors, pass_ctx

DEFAULT_SAMPLE = 1000  # files a check without --sample / --all reads
PROBLEM_NAMES = {"missing": "缺失", "damaged": "已损坏"}


@click.group("fixity")
def group() -> None:
    """文件核验：重读文件库中的文件，核对 SHA-256 是否与目录库一致。"""


@group.command("check")
@click.option("--sample", type=click.IntRange(min=1), metavar="N",
              help=f"抽查最久未核验的 N 个文件（默认 {DEFAULT_SAMPLE}）。")  # fmt: skip
@click.option("--all", "everything", is_flag=True, help="核验全部现存文件。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出本次核验记录。")
@pass_ctx
@domain_errors
def check(obj: Context, sample: int | None, everything: bool, as_json: bool) -> None:
    """核验文件库（供每晚的定时任务运行）：重读文件，核对其 SHA-256。

    \b
    不加选项时抽查最久未核验的 1000 个文件（从未核验过的优先）。
    每个核验过的文件都记下核验时间，因此每晚抽查会轮流覆盖整个档案。
    --all 核验全部现存文件。

    \b
    只报告，不删除、不修复任何文件：发现缺失或损坏的文件时逐一列出涉及的文件，
    请从备份恢复；此时退出码为 7。每次核验都记入核验记录与审计日志。
    """
    if sample is not None and everything:
        raise click.UsageError("--sample 与 --all 只能选一个。")
    size = None if everything else (sample or DEFAULT_SAMPLE)
    run = fixity.check(
        obj.archive,
        obj.actor(),
        sample=size,
        progress=Progress({"files": "核验：{done}/{total} 个文件"}).of("files"),
    )
    if as_json:
        click.echo(json.dumps(fixity.as_dict(run), ensure_ascii=False, indent=2))
    elif not run.failures:
        click.echo(f"已核验 {run.checked} 个文件，全部完好。")
    else:
        click.echo(f"已核验 {run.checked} 个文件，发现 {len(run.failures)} 个问题：")
        for failure in run.failures:
            problem = PROBLEM_NAMES.get(failure["problem"], failure["problem"])
            click.echo(f"  {problem}：SHA-256 {failure['sha256']}")
            for name in failure["documents"]:
                click.echo(f"    {name}")
        click.echo("请从备份修复上述文件：hetong fixity repair。")
    if run.failures:
        sys.exit(EXIT_DAMAGED)


OUTCOME_NAMES = {
    "repaired": "已从备份修复",
    "intact": "现已完好",
    "unavailable": "备份中没有完好的副本",
}


@group.command("repair")
@click.option("--from", "sources", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="取副本的备份位置（可多次给出；默认 HETONG_BACKUP_TARGETS）。")  # fmt: skip
@pass_ctx
@domain_errors
def repair(obj: Context, sources: tuple[Path, ...]) -> None:
    """从备份修复最近一次核验发现缺失或损坏的文件：备份中的副本按 SHA-256 命名，
    复制回来之前再核对一次。之后再运行 hetong fixity check 确认。"""
    archive = obj.archive
    outcomes = backup.repair(archive, obj.actor(), list(sources) or archive.backup_targets)
    if not outcomes:
        click.echo("最近一次核验没有发现问题，无需修复。")
    for outcome in outcomes:
        names = "、".join(outcome["documents"])
        click.echo(f"{OUTCOME_NAMES[outcome['outcome']]}：{names}（SHA-256 {outcome['sha256']}）")
    if any(o["outcome"] == "unavailable" for o in outcomes):
        sys.exit(EXIT_DAMAGED)
