"""``hetong retention``: rules, the daily sweep (cron), destruction."""

from __future__ import annotations

import datetime as dt
import json

import click

from archive import retention
from service.cli.base import Context, domain_errors, pass_ctx


@click.group("retention")
def group() -> None:
    """保存期限：规则、清理、销毁。"""


@group.command("rules")
@pass_ctx
def rules(obj: Context) -> None:
    """显示保存规则。"""
    for rule in retention.rules(obj.archive.retention_years):
        if rule["follows"]:
            click.echo(f"{rule['kind']}\t随 {rule['follows']}")
        elif rule["years"] == "permanent":
            click.echo(f"{rule['kind']}\t永久保存")
        else:
            click.echo(f"{rule['kind']}\t{rule['years']} 年，自签订年度结束起算")


@group.command("run")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="以该日为准（默认今天）。")
@click.option("--dry-run", is_flag=True, help="只报告，不做任何更改。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 报告。")
@pass_ctx
@domain_errors
def run(obj: Context, as_of, dry_run: bool, as_json: bool) -> None:
    """执行清理（每天由 cron 运行）：到期合同移入欠款另册或列入待销毁。"""
    day = as_of.date() if as_of else dt.date.today()
    report = retention.run(obj.archive, as_of=day, dry_run=dry_run, actor=obj.actor())
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    names = {"in_performance": "履行中", "held": "保全", "moved_to_unpaid": "移入欠款另册",
             "unpaid": "仍在欠款另册", "pending_destruction": "新列入待销毁",
             "awaiting_approval": "待销毁（等待审批）"}  # fmt: skip
    click.echo(f"清理 {report['as_of']}" + ("（演练，未做更改）" if dry_run else ""))
    for key, label in names.items():
        numbers = report["contracts"][key]
        click.echo(f"  {label}：{len(numbers)}" + (f"  {' '.join(numbers)}" if numbers else ""))
    if report["destruction_list"]:
        click.echo(f"  销毁清单：{report['destruction_list']}")


@group.command("destroy")
@click.argument("contract_nos", nargs=-1, required=True)
@click.option("--note", help="备注（写入销毁记录）。")
@pass_ctx
@domain_errors
def destroy(obj: Context, contract_nos: tuple[str, ...], note: str | None) -> None:
    """批准销毁待销毁的合同（须以销售经理身份：--as 经理用户名）。"""
    result = retention.destroy(obj.archive, contract_nos, note, obj.actor())
    click.echo(f"已销毁 {len(result['contracts'])} 份合同；销毁记录 {result['certificate']}")
