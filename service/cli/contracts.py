"""``hetong contracts`` and ``hetong receivables``: a clerk's work from the shell."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from archive import (
    amendments,
    contracts,
    deliveries,
    payments,
    receivables,
    retention,
    reviews,
    revisions,
    tasks,
    template_register,
)
from archive.errors import NotFound, validated
from schemas.dossier import AmendmentSchema, DeliveryNoticeSchema, PaymentSchema
from schemas.labels import STATUS_NAMES
from service.cli.base import Context, domain_errors, pass_ctx, read_json
from service.cli.words import NamedChoice


@click.group("contracts")
def group() -> None:
    """销售合同。"""


@group.command("create")
@click.argument("file", type=click.File("rb"))
@pass_ctx
@domain_errors
def create(obj: Context, file) -> None:
    """从 JSON 文件创建合同：校验、编号、生成 Word 与 PDF、归档；打印合同编号。"""
    data = contracts.validate(obj.archive, read_json(file))
    click.echo(contracts.create(obj.archive, data, obj.actor()).contract_no)


@group.command("revise")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@click.option("--note", help="改稿说明（记入改稿记录与审计）。")
@pass_ctx
@domain_errors
def revise(obj: Context, contract_no: str, file, note: str | None) -> None:
    """修改草稿（改稿）：以 JSON 文件的完整数据重新生成，编号与档号不变；打印第几稿。"""
    data = contracts.validate(obj.archive, read_json(file))
    contract, changed = revisions.revise(obj.archive, contract_no, data, obj.actor(), note=note)
    click.echo(
        f"{contract.contract_no}\t第 {contract.revision} 稿"
        + ("" if changed else "\t（与现行稿相同，未生成新稿）")
    )


@group.command("review")
@click.argument("contract_no")
@click.argument("decision", type=NamedChoice(("submitted", "approved", "returned")))
@click.option("--note", help="意见（退回修改时必填）。")
@click.option("--override", is_flag=True, help="销售经理特批（超出信用额度或有长期逾期时）。")
@click.option("--feasibility-note", help="可行性分析报告（特批时必填）。")
@click.option("--step", help="您审阅时待审批的环节（已变则拒绝）。")
@pass_ctx
@domain_errors
def review(obj: Context, contract_no: str, decision: str, note: str | None, override: bool,
           feasibility_note: str | None, step: str | None) -> None:  # fmt: skip
    """审批：提交（submitted）、同意（approved）或退回修改（returned）；打印审批状态。"""
    shown = reviews.decide(obj.archive, contract_no, decision, obj.actor(), note=note,
                           override=override, feasibility_note=feasibility_note,
                           step=step)  # fmt: skip
    waiting = f"（待{shown['step']}）" if shown["step"] else ""
    click.echo(f"{contract_no}\t{shown['state_name']}{waiting}")


@group.command("unsigned")
@click.option("--days", type=click.IntRange(0, 3650),
              help="生效后超过多少天未回签（默认 HETONG_SIGNED_COPY_DAYS）。")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@pass_ctx
@domain_errors
def unsigned(obj: Context, days: int | None, as_json: bool) -> None:
    """生效后逾期未回签（签署扫描件未上传）的合同，生效最早的在前（可每天由 cron 运行）。

    \b
    退出码：0 没有；1 有（cron 据此提醒业务员催收回签）。
    """
    rows = tasks.missing_signed_copies(obj.archive, obj.actor(), days=days)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            click.echo(f"{r['contract_no']}\t{r['buyer']}\t{r['owner']}\t生效 {r['days']} 天未回签")
    if rows:
        raise SystemExit(1)


@group.command("amend")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@pass_ctx
@domain_errors
def amend(obj: Context, contract_no: str, file) -> None:
    """签订补充协议（JSON 文件）；打印协议编号与变更后总额。"""
    data = validated(AmendmentSchema(), read_json(file))
    amendment = amendments.amend(obj.archive, contract_no, data, obj.actor())
    click.echo(f"{amendment.number}\t{amendment.total_after:.2f}")


@group.command("deliver")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@pass_ctx
@domain_errors
def deliver(obj: Context, contract_no: str, file) -> None:
    """开具发货通知单（JSON 文件）；打印通知单号。"""
    data = validated(DeliveryNoticeSchema(), read_json(file))
    click.echo(deliveries.deliver(obj.archive, contract_no, data, obj.actor()).number)


@group.command("pay")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@pass_ctx
@domain_errors
def pay(obj: Context, contract_no: str, file) -> None:
    """登记收款（JSON 文件）；打印已收与未收金额。"""
    payments.pay(obj.archive, contract_no, validated(PaymentSchema(), read_json(file)),
                 obj.actor())  # fmt: skip
    contract = contracts.get(obj.archive, contract_no, obj.actor())
    click.echo(f"{contract_no}\t已收 {contract.paid:.2f}\t未收 {contract.outstanding:.2f}")


@group.command("show")
@click.argument("contract_no")
@click.option("--purpose", help="用途（查看卷宗记入查阅登记）。")
@pass_ctx
@domain_errors
def show(obj: Context, contract_no: str, purpose: str | None) -> None:
    """以 JSON 显示合同（记入查阅登记）。"""
    contract = contracts.view(obj.archive, contract_no, obj.actor(), purpose=purpose)
    body = contracts.dossier(contract)
    used = {d.template_version_id for d in contract.documents}
    made_with = template_register.labels(obj.archive.catalogue, used)
    body["documents"] = [
        {"kind": d.kind, "number": d.number, "format": d.format, "sha256": d.sha256,
         "filename": d.filename, "template": _named(made_with.get(d.template_version_id)),
         "revision": d.revision, "superseded": d.superseded_at is not None}
        for d in contract.documents
    ]  # fmt: skip
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))


def _named(label: template_register.Label | None) -> dict | None:
    """The template version a document was made with, as the dossier names it."""
    return label.named() if label else None


@group.command("status")
@click.argument("contract_no")
@click.argument("status", type=NamedChoice(contracts.STATUSES[1:]))
@click.option("--note", help="备注（记入审计）。")
@click.option("--force", is_flag=True,
              help="尚有未发货或未收款时确认履行完毕（须以 --note 说明原因）。")  # fmt: skip
@pass_ctx
@domain_errors
def status(obj: Context, contract_no: str, status: str, note: str | None, force: bool) -> None:
    """变更合同状态（生效须以销售经理身份：--as 经理用户名）。"""
    contract = contracts.change_status(obj.archive, contract_no, status, obj.actor(), note=note,
                                       force=force)  # fmt: skip
    click.echo(f"{contract.contract_no}\t{STATUS_NAMES[contract.status]}")


@group.command("export")
@click.argument("contract_no")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx"]), default="pdf")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--purpose", required=True, help="用途（记入查阅登记）。")
@pass_ctx
@domain_errors
def export(obj: Context, contract_no: str, fmt: str, output: Path | None, purpose: str) -> None:
    """把合同文件写到本地（记入查阅登记）。"""
    contract = contracts.get(obj.archive, contract_no, obj.actor())
    found = next(
        (d for d in contract.current_documents if d.kind == "sales_contract" and d.format == fmt),
        None,
    )
    if found is None:
        raise NotFound(f"合同 {contract_no} 没有 {fmt} 文件。")
    doc, data = contracts.retrieve(obj.archive, contract_no, found.id, obj.actor(),
                                   purpose=purpose)  # fmt: skip
    target = output or Path(doc.filename)
    target.write_bytes(data)
    click.echo(str(target))


@group.command("hold")
@click.argument("contract_no")
@click.option("--reason", help="保全原因。")
@click.option("--release", is_flag=True, help="解除保全。")
@pass_ctx
@domain_errors
def hold(obj: Context, contract_no: str, reason: str | None, release: bool) -> None:
    """保全合同（不移卷、不销毁），或以 --release 解除。"""
    retention.hold(obj.archive, contract_no, reason, obj.actor(), release=release)
    click.echo(f"{contract_no}\t{'已解除保全' if release else '已保全'}")


@click.command("receivables")
@click.option("--region", help="只看该区域。")
@click.option("--overdue/--not-overdue", default=None, help="只看已逾期 / 未逾期的。")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="以该日判断逾期（默认今天）。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@pass_ctx
def receivables_cmd(obj: Context, region, overdue, as_of, as_json: bool) -> None:
    """有欠款的合同（未收款或有欠款），最早到期的在前。"""
    day = as_of.date() if as_of else dt.date.today()
    rows = receivables.receivables(obj.archive, obj.actor(), as_of=day, region=region,
                                   overdue=overdue)  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        flag = "催收" if r["to_chase"] else ("逾期" if r["overdue"] else "")
        click.echo(f"{r['contract_no']}\t{r['region']}\t{r['buyer']}\t到期 {r['due_on']}"
                   f"\t未收 {r['outstanding']}\t{flag}")  # fmt: skip
    click.echo(f"共 {len(rows)} 份，未收合计 {receivables.total_outstanding(rows)} 元")
