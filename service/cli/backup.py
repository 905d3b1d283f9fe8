"""``hetong backup``: create, list, check and restore backups — the archive outliving its
machine."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from archive import backup, startup
from archive.backup.dump import DumpFailed
from archive.backup.manifest import Manifest
from archive.backup.target import Damaged
from archive.errors import CatalogueTooNew
from service.cli.base import EXIT_DAMAGED, Context, Progress, domain_errors, fail, pass_ctx
from service.ext import build_archive


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


@click.group("backup")
def group() -> None:
    """备份与恢复：目录数据库、全部文件及清单，可异地存放。"""


@group.command("init")
@click.argument("targets", nargs=-1, required=True,
                type=click.Path(file_okay=False, path_type=Path))  # fmt: skip
def init(targets: tuple[Path, ...]) -> None:
    """把目录设为备份位置（异地位置须先挂载好）。只有设好的目录才会被写入：
    未挂载的共享是一个空目录，备份与销毁日志绝不会误写到本机磁盘上。"""
    for target in targets:
        backup.Target.init(target)
        click.echo(f"✓ 备份位置：{target}")


@group.command("create")
@click.option(
    "--to",
    "to",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="备份位置（可多次给出；默认 HETONG_BACKUP_TARGETS，第一个为本地，其余为异地副本）。",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出清单摘要。")
@pass_ctx
@domain_errors
def create(obj: Context, to: tuple[Path, ...], as_json: bool) -> None:
    """在服务运行时备份：目录数据库的一致快照、它引用的全部文件、清单（每个文件的 SHA-256
    与大小、数据库版本、程序版本、计数、审计链头）。增量：备份位置已有的文件不再复制。

    \b
    定时任务（每日 02:30）：
      30 2 * * * hetong --data-dir /srv/hetong/var backup create
    """
    archive = obj.archive
    values = obj.settings
    targets = list(to) or archive.backup_targets
    try:
        manifest = backup.create(
            archive,
            obj.actor(),
            targets,
            keep_last=values["BACKUP_KEEP_LAST"],
            keep_daily=values["BACKUP_KEEP_DAILY"],
            keep_monthly=values["BACKUP_KEEP_MONTHLY"],
            progress=Progress({"files": "备份文件：{done}/{total}"}).of("files"),
        )
    except DumpFailed as exc:
        fail(exc.message, 1)
    if as_json:
        click.echo(json.dumps(manifest.summary(), ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"备份 {manifest.name}：{manifest.counts['contracts']} 份合同，"
            f"{len(manifest.files)} 个文件（{_size(manifest.bytes)}），本次新复制 "
            f"{manifest.copied['files']} 个（{_size(manifest.copied['bytes'])}）。"
        )
        click.echo(f"审计链头：{manifest.audit_head}")
        for target in targets:
            if str(Path(target).resolve()) not in manifest.unreached:
                click.echo(f"  → {Path(target) / 'snapshots' / manifest.name}")
        if manifest.gone:
            click.echo(f"备份期间销毁了 {len(manifest.gone)} 个文件：已记入清单。")
    for target, why in manifest.unreached.items():
        click.echo(f"✗ 未能复制到 {target}：{why}", err=True)
    if manifest.unreached and not manifest.problems:
        fail(f"备份已完成，但未能复制到 {len(manifest.unreached)} 个备份位置（见上）。", 1)
    if manifest.problems:
        for problem in manifest.problems:
            what = "缺失" if problem["problem"] == "missing" else "已损坏"
            click.echo(
                f"✗ 文件{what}，未能备份：{'、'.join(problem['documents'])}"
                f"（SHA-256 {problem['sha256']}）",
                err=True,
            )
        fail(f"{len(manifest.problems)} 个文件未能备份：请从更早的备份恢复这些文件。", EXIT_DAMAGED)


@group.command("list")
@click.argument("target", type=click.Path(file_okay=False, path_type=Path), required=False)
@pass_ctx
def list_(obj: Context, target: Path | None) -> None:
    """列出备份位置中的备份（默认 HETONG_BACKUP_TARGETS 的每一个）。"""
    targets = [target] if target else [Path(t) for t in obj.settings["BACKUP_TARGETS"]]
    if not targets:
        fail("未指定备份位置：请给出目录，或设置 HETONG_BACKUP_TARGETS。", 2)
    for root in targets:
        click.echo(f"{root}:")
        for snapshot in backup.Target(root).snapshots()[::-1]:
            try:
                m = Manifest.read(snapshot)
                contracts = m.counts["contracts"]
            except (ValueError, KeyError, TypeError) as exc:
                click.echo(f"  {snapshot.name}  清单无法读取：{exc}")
                continue
            click.echo(
                f"  {m.name}  {contracts} 份合同  {len(m.files)} 个文件  "
                f"{_size(m.bytes)}  数据库版本 {m.schema_revision}  hetong {m.hetong_version}"
            )


@group.command("check")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--repair", is_flag=True,
              help="把缺失或损坏的文件从本机文件库重新复制到备份位置。")  # fmt: skip
@pass_ctx
@domain_errors
def check(obj: Context, source: Path, repair: bool) -> None:
    """逐一读取一份备份（或备份位置中最新的一份）的全部文件，与清单的 SHA-256 比对。"""
    if repair:
        snapshot = backup.find(source)  # a target, or one of its snapshots: mend the target
        outcomes = backup.mend(snapshot.parent.parent, obj.archive.storage)
        for digest, outcome in outcomes.items():
            said = "已从文件库重新复制" if outcome == "mended" else "文件库中也没有完好的副本"
            click.echo(f"{said}：{digest}")
    snapshot = backup.find(source)
    with backup.Target(snapshot.parent.parent).reading():
        manifest, failures = backup.check(snapshot)
    for failure in failures:
        click.echo(f"✗ {failure}", err=True)
    if failures:
        fail(f"备份 {manifest.name} 有 {len(failures)} 处不符"
             + ("" if repair else "（hetong backup check --repair 可从文件库补回）") + "。",
             EXIT_DAMAGED)  # fmt: skip
    click.echo(
        f"✓ 备份 {manifest.name}：目录数据库与 {len(manifest.files)} 个文件"
        f"（{_size(manifest.bytes)}）均与清单一致。"
    )


@group.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--data-dir",
    "data_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="恢复到的新数据目录（须为空）。",
)
@click.option("--database-url", default="", help="备份来自 PostgreSQL 时：恢复到的空数据库。")
@click.option(
    "--without-journal",
    is_flag=True,
    help="备份位置没有销毁日志时仍然恢复（此备份之后的销毁将无法重放）。",
)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出核验结果。")
@pass_ctx
@domain_errors
def restore(
    obj: Context,
    source: Path,
    data_dir: Path,
    database_url: str,
    without_journal: bool,
    as_json: bool,
) -> None:
    """在新机器上恢复：先核验每个文件的 SHA-256，再恢复目录数据库与文件，升级数据库版本，
    重建检索索引，重放此备份之后批准的销毁。SOURCE 为一份备份或备份位置（取最新一份）。"""
    os.umask(0o027)  # what the archive will hold is nobody else's business (service.ext)
    snapshot = backup.find(source)

    def open_archive(root: Path):
        values = {**obj.settings, "DATA_DIR": str(root), "DATABASE_URL": database_url}
        return startup.start(build_archive(values), fill_index=False)

    try:
        done = backup.restore(
            snapshot,
            data_dir=data_dir.resolve(),
            database_url=database_url,
            open_archive=open_archive,
            actor=obj.actor(),
            without_journal=without_journal,
        )
    except Damaged as exc:
        fail(exc.message, EXIT_DAMAGED)
    except (CatalogueTooNew, DumpFailed) as exc:
        fail(exc.message, 1)
    if as_json:
        click.echo(json.dumps(done.summary(), ensure_ascii=False, indent=2))
    else:
        m = done.manifest
        click.echo(f"✓ 目录数据库副本与清单一致（SHA-256 {m.catalogue['sha256'][:16]}…）")
        click.echo(f"✓ {done.files} 个文件（{_size(done.bytes)}）逐一核验 SHA-256 后恢复")
        click.echo(f"✓ 数据库版本 {done.schema[0]} → {done.schema[1]}")
        click.echo(f"✓ 检索索引重建：{done.indexed} 个条目")
        for problem in m.problems:
            click.echo(f"! 备份时已缺失或损坏、未能备份：{'、'.join(problem['documents'])}")
        click.echo(f"✓ {done.journal}" + (f"：{'、'.join(done.replayed)}" if done.replayed else ""))
        for warning in done.warnings:
            click.echo(f"! {warning}")
    if done.chain and not done.chain.intact:
        fail(f"审计链断开：{done.chain.problem}", 1)
    if not as_json:
        click.echo(
            f"✓ 审计链完整：{done.chain.count} 条，链头 {done.chain.head}；"
            f"备份时的链头 {done.manifest.audit_head.split(':')[0]} 号仍在其中"
        )
        click.echo(f"已恢复到 {data_dir}：hetong --data-dir {data_dir} serve")
