"""``hetong loans``: the lending register (借阅登记) from the shell, and the daily chase of
loans past due (cron)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from archive import loans
from schemas.labels import person
from schemas.loans import FORM_NAMES
from service.cli.base import Context, domain_errors, pass_ctx

# ``hetong loans overdue``: 1 when any loan is overdue, so that cron (or a monitor) tells
# someone; the same code as an unexpected failure, whose message goes to stderr instead.
EXIT_OVERDUE = 1
DAY = click.DateTime(["%Y-%m-%d"])


@click.group("loans")
def group() -> None:
    """借阅登记：借出的卷宗与逾期未还的。"""


def _line(r: dict[str, Any]) -> str:
    who = person(r["borrower"], r["borrower_name"])
    form = FORM_NAMES.get(r["form"], r["form"])
    if not r["open"]:
        state = f"已归还 {r['returned_at'][:10]}"
    elif r["overdue"]:
        state = f"逾期 {r['days_overdue']} 天"
    else:
        state = "借出中"
    return f"{r['contract_no']}\t{who}\t{form}\t应还 {r['due_on']}\t{state}"


@group.command("overdue")
@click.option("--as-of", type=DAY, help="以该日判断逾期（默认今天，本地日期）。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@pass_ctx
@domain_errors
def overdue(obj: Context, as_of, as_json: bool) -> None:
    """逾期未还的借阅（每天由 cron 运行），逾期最久的在前。

    每行：合同编号、借阅人（显示名称与登录名）、纸质或电子、应还日期、逾期天数。

    \b
    退出码：
      0  没有逾期未还的借阅
      1  有逾期未还的借阅（cron 据此通知档案室催还）
      3  数据目录中没有档案（其他错误的退出码同其他命令）
    """
    day = as_of.date() if as_of else None
    rows = loans.overdue(obj.archive, day, actor=obj.actor())
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif rows:
        for r in rows:
            click.echo(_line(r))
        click.echo(f"共 {len(rows)} 件逾期未还，请催还。")
    else:
        click.echo("没有逾期未还的借阅。")
    if rows:
        sys.exit(EXIT_OVERDUE)


@group.command("list")
@click.option("--all", "everything", is_flag=True, help="包括已归还的（默认只列未归还的）。")
@click.option("--overdue", is_flag=True, help="只列逾期未还的。")
@click.option("--borrower", metavar="USER", help="只列借给该用户（登录名）的。")
@click.option("--contract", "contract_no", metavar="CONTRACT_NO", help="只列该合同的。")
@click.option("--as-of", type=DAY, help="以该日判断逾期（默认今天，本地日期）。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@pass_ctx
@domain_errors
def list_loans(obj: Context, everything: bool, overdue: bool, borrower: str | None,
               contract_no: str | None, as_of, as_json: bool) -> None:  # fmt: skip
    """借阅记录：未归还的在前，最早到期的在前。"""
    _, rows = loans.listing(
        obj.archive, obj.actor(), open=None if everything else True,
        overdue=True if overdue else None, borrower=borrower, contract_no=contract_no,
        today=as_of.date() if as_of else None, limit=None,
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(_line(r))
    click.echo(f"共 {len(rows)} 件。")
