"""``hetong retention``: rules, the daily sweep (cron), destruction."""

from __future__ import annotations

import datetime as dt
import json

import click

from archive import retention, sweep
from schemas.labels import KIND_NAMES, OUTCOME_NAMES, RECORD_NAMES
from service.cli.base import Context, Progress, domain_errors, pass_ctx

# Progress lines once a run has taken this long, then at most this often (seconds): a
# short run prints none, a long one a line every few seconds (a cron log stays short).
PROGRESS_EVERY = 5.0
SHOWN = 20  # contract numbers printed per outcome; the JSON report has them all
STAGES = {"contracts": "清理：{done}/{total} 份合同", "lists": "销毁清单：{done}/{total} 份"}


@click.group("retention")
def group() -> None:
    """保存期限：规则、清理、销毁。"""


@group.command("rules")
@pass_ctx
def rules(obj: Context) -> None:
    """显示保存规则。"""
    names = {**KIND_NAMES, **RECORD_NAMES}
    for rule in retention.rules(obj.archive.retention_years):
        kind = names.get(rule["kind"], rule["kind"])
        if rule["follows"]:
            click.echo(f"{kind}\t随{names.get(rule['follows'], rule['follows'])}")
        elif rule["years"] == "permanent":
            click.echo(f"{kind}\t永久保存")
        else:
            click.echo(f"{kind}\t{rule['years']} 年，自签订年度结束起算")


@group.command("run")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="以该日为准（默认今天）。")
@click.option("--dry-run", is_flag=True, help="只报告，不做任何更改。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 报告。")
@pass_ctx
@domain_errors
def run(obj: Context, as_of, dry_run: bool, as_json: bool) -> None:
    """执行清理（每天由 cron 运行）：到期合同移入欠款另册或列入待销毁。

    实际清理的基准日不能晚于今天（演练可以）。中断的清理由下一次清理接着完成。"""
    day = as_of.date() if as_of else dt.date.today()
    report = sweep.run(obj.archive, as_of=day, dry_run=dry_run, actor=obj.actor(),
                       progress=Progress(STAGES, PROGRESS_EVERY))  # fmt: skip
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(f"清理 {report['as_of']}" + ("（演练，未做更改）" if dry_run else ""))
    for key, label in OUTCOME_NAMES.items():
        numbers = report["contracts"][key]
        shown = " ".join(numbers[:SHOWN]) + (
            f" 等 {len(numbers)} 份" if len(numbers) > SHOWN else ""
        )
        click.echo(f"  {label}：{len(numbers)}" + (f"  {shown}" if numbers else ""))
    lists = report["destruction_lists"]
    if lists:
        click.echo(f"  销毁清单（{len(lists)} 份）：{' '.join(lists)}")


@group.command("destroy")
@click.argument("contract_nos", nargs=-1, required=True)
@click.option("--note", help="备注（写入销毁记录）。")
@pass_ctx
@domain_errors
def destroy(obj: Context, contract_nos: tuple[str, ...], note: str | None) -> None:
    """批准销毁待销毁的合同（须以销售经理身份：--as 经理用户名）。"""
    result = retention.destroy(obj.archive, contract_nos, note, obj.actor())
    click.echo(
        f"已销毁 {len(result['contracts'])} 份合同；销毁记录 {' '.join(result['certificates'])}"
        + ("" if result["files_deleted"] else f"（{retention.FILES_WAIT}）")
    )
