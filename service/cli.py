"""The ``hetong`` command line. Thin: it translates domain errors to exit codes.

Exit codes: 0 ok, 1 unexpected failure, 2 invalid input, 3 not found,
4 refused (state or role), 5 rendering unavailable (LibreOffice / fonts).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import sys
from functools import wraps
from pathlib import Path

import click
from flask import Flask

from archive import amendments, contracts, deliveries, payments, users
from archive.audit import Actor
from archive.errors import Conflict, Forbidden, InvalidData, NotFound
from service import config as settings
from templates.errors import ConverterUnavailable, FontMissing, RenderError

EXIT_INVALID, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNAVAILABLE = 2, 3, 4, 5


class Context:
    def __init__(self, data_dir: str | None, acting_as: str | None) -> None:
        self.overrides = {"DATA_DIR": data_dir} if data_dir else {}
        self.acting_as = acting_as
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            from service.app import create_app

            self._app = create_app(self.overrides)
        return self._app

    @property
    def archive(self):
        return self.app.extensions["hetong.archive"]

    def actor(self) -> Actor:
        """Act as a catalogue user (``--as``), or as the local operator with full rights."""
        if self.acting_as:
            user = users.by_name(self.archive.catalogue, self.acting_as)
            if user is None:
                fail(f"用户 {self.acting_as} 不存在（先运行 hetong users add）。", EXIT_NOT_FOUND)
            return Actor(user.name, user.role, client="cli")
        return Actor(f"cli:{getpass.getuser()}", "admin", client="cli")


def fail(message: str, code: int) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def domain_errors(func):
    """Turn domain exceptions into a message on stderr and a distinct exit code."""

    @wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InvalidData as exc:
            click.echo(f"错误：{exc.message}", err=True)
            for path, messages in exc.errors.items():
                click.echo(f"  {path}: {' '.join(messages)}", err=True)
            sys.exit(EXIT_INVALID)
        except NotFound as exc:
            fail(exc.message, EXIT_NOT_FOUND)
        except (Conflict, Forbidden) as exc:
            fail(exc.message, EXIT_REFUSED)
        except (ConverterUnavailable, FontMissing) as exc:
            fail(f"文档生成暂不可用：{exc}", EXIT_UNAVAILABLE)
        except RenderError as exc:
            fail(f"文档生成失败：{exc}", 1)

    return wrapper


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


@main.command()
@click.option("--host", help="监听地址（默认 HETONG_HOST 或 127.0.0.1）。")
@click.option("--port", type=int, help="端口（默认 HETONG_PORT 或 8000）。")
@click.pass_obj
def serve(obj: Context, host: str | None, port: int | None) -> None:
    """启动 Web 服务（waitress，生产级 WSGI 服务器）。"""
    from service.serve import run

    run(obj.app, host=host or obj.app.config["HOST"], port=port or obj.app.config["PORT"])


@main.group("users")
def users_group() -> None:
    """用户与令牌。"""


@users_group.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(users.ROLES), help="角色。")
@click.option("--password", envvar="HETONG_NEW_PASSWORD",
              help="网页登录密码（或 HETONG_NEW_PASSWORD）；不给则只能用令牌。")  # fmt: skip
@click.pass_obj
@domain_errors
def users_add(obj: Context, name: str, role: str, password: str | None) -> None:
    """创建用户并打印其 API 令牌（最后一行，仅显示一次）。"""
    user, token = users.add_user(obj.archive.catalogue, name, role, password=password)
    click.echo(f"已创建用户 {user.name}（角色：{user.role}）。API 令牌（请妥善保存，仅显示一次）：")
    click.echo(token)


@users_group.command("passwd")
@click.argument("name")
@click.password_option("--password", prompt="新密码", help="新密码（不给则提示输入）。")
@click.pass_obj
@domain_errors
def users_passwd(obj: Context, name: str, password: str) -> None:
    """设置或更改用户的网页登录密码。"""
    users.set_password(obj.archive.catalogue, name, password)
    click.echo(f"已更新 {name} 的密码。")


@users_group.command("list")
@click.pass_obj
def users_list(obj: Context) -> None:
    """列出用户。"""
    for user in users.list_users(obj.archive.catalogue):
        click.echo(f"{user.name}\t{user.role}\t{user.created_at:%Y-%m-%d}")


@main.group("contracts")
def contracts_group() -> None:
    """销售合同。"""


def read_json(file) -> object:
    try:
        return json.loads(file.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidData({"_file": [f"不是有效的 UTF-8 JSON：{exc}"]}) from exc


@contracts_group.command("create")
@click.argument("file", type=click.File("rb"))
@click.pass_obj
@domain_errors
def contracts_create(obj: Context, file) -> None:
    """从 JSON 文件创建合同：校验、编号、生成 Word 与 PDF、归档；打印合同编号。"""
    contract = contracts.create(obj.archive, read_json(file), obj.actor())
    click.echo(contract.contract_no)


@contracts_group.command("amend")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@click.pass_obj
@domain_errors
def contracts_amend(obj: Context, contract_no: str, file) -> None:
    """签订补充协议（JSON 文件）；打印协议编号与变更后总额。"""
    amendment = amendments.amend(obj.archive, contract_no, read_json(file), obj.actor())
    click.echo(f"{amendment.number}\t{amendment.total_after:.2f}")


@contracts_group.command("deliver")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@click.pass_obj
@domain_errors
def contracts_deliver(obj: Context, contract_no: str, file) -> None:
    """开具发货通知单（JSON 文件）；打印通知单号。"""
    delivery = deliveries.deliver(obj.archive, contract_no, read_json(file), obj.actor())
    click.echo(delivery.number)


@contracts_group.command("pay")
@click.argument("contract_no")
@click.argument("file", type=click.File("rb"))
@click.pass_obj
@domain_errors
def contracts_pay(obj: Context, contract_no: str, file) -> None:
    """登记收款（JSON 文件）；打印已收与未收金额。"""
    payments.pay(obj.archive, contract_no, read_json(file), obj.actor())
    contract = contracts.get(obj.archive, contract_no)
    click.echo(f"{contract_no}\t已收 {contract.paid:.2f}\t未收 {contract.outstanding:.2f}")


@main.command("receivables")
@click.option("--region", help="只看该区域。")
@click.option("--overdue/--not-overdue", default=None, help="只看已逾期 / 未逾期的。")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="以该日判断逾期（默认今天）。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON。")
@click.pass_obj
def receivables_cmd(obj: Context, region, overdue, as_of, as_json: bool) -> None:
    """有欠款的合同（未收款或有欠款），最早到期的在前。"""
    day = as_of.date() if as_of else dt.date.today()
    rows = payments.receivables(obj.archive, as_of=day, region=region, overdue=overdue)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        flag = "催收" if r["to_chase"] else ("逾期" if r["overdue"] else "")
        click.echo(f"{r['contract_no']}\t{r['region']}\t{r['buyer']}\t到期 {r['due_on']}"
                   f"\t未收 {r['outstanding']}\t{flag}")  # fmt: skip
    click.echo(f"共 {len(rows)} 份，未收合计 {payments.total_outstanding(rows)} 元")


@contracts_group.command("show")
@click.argument("contract_no")
@click.pass_obj
@domain_errors
def contracts_show(obj: Context, contract_no: str) -> None:
    """以 JSON 显示合同。"""
    contract = contracts.get(obj.archive, contract_no)
    body = contracts.dossier(contract)
    body["documents"] = [
        {"kind": d.kind, "number": d.number, "format": d.format, "sha256": d.sha256,
         "filename": d.filename} for d in contract.documents
    ]  # fmt: skip
    click.echo(json.dumps(body, ensure_ascii=False, indent=2))


@contracts_group.command("status")
@click.argument("contract_no")
@click.argument("status", type=click.Choice(contracts.STATUSES[1:]))
@click.option("--note", help="备注（记入审计）。")
@click.pass_obj
@domain_errors
def contracts_status(obj: Context, contract_no: str, status: str, note: str | None) -> None:
    """变更合同状态（生效须以销售经理身份：--as 经理用户名）。"""
    contract = contracts.change_status(obj.archive, contract_no, status, obj.actor(), note=note)
    click.echo(f"{contract.contract_no}\t{contract.status}")


@contracts_group.command("export")
@click.argument("contract_no")
@click.option("--format", "fmt", type=click.Choice(["pdf", "docx"]), default="pdf")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
@domain_errors
def contracts_export(obj: Context, contract_no: str, fmt: str, output: Path | None) -> None:
    """把合同文件写到本地（记入审计）。"""
    contract = contracts.get(obj.archive, contract_no)
    found = next((d for d in contract.documents if d.format == fmt), None)
    if found is None:
        raise NotFound(f"合同 {contract_no} 没有 {fmt} 文件。")
    doc, data = contracts.retrieve(obj.archive, contract_no, found.id, obj.actor())
    target = output or Path(doc.filename)
    target.write_bytes(data)
    click.echo(str(target))


@main.command("reindex")
@click.pass_obj
def reindex(obj: Context) -> None:
    """从目录库与文件重建全文索引。"""
    count = obj.archive.index.rebuild()
    click.echo(f"已重建索引：{count} 个文件。")


@main.group("index")
def index_group() -> None:
    """全文索引。"""


@index_group.command("check")
@click.pass_obj
def index_check(obj: Context) -> None:
    """报告索引中缺失、过期或多余的条目；有问题时退出码为 1。"""
    report = obj.archive.index.check()
    labels = {"missing": "缺失", "stale": "过期", "orphaned": "多余", "pending": "待处理"}
    for key, label in labels.items():
        items = report[key]
        click.echo(f"{label}：{len(items)}" + (f"（{', '.join(items[:20])}）" if items else ""))
    if report["missing"] or report["stale"] or report["orphaned"]:
        click.echo("运行 hetong reindex 可重建索引。")
        sys.exit(1)


@main.command("search")
@click.argument("query", required=False, default="")
@click.option("--region")
@click.option("--year", type=int)
@click.option("--status")
@click.option("--kind")
@click.option("--per-page", type=int, default=20)
@click.pass_obj
def search_cmd(obj: Context, query: str, region, year, status, kind, per_page: int) -> None:
    """全文检索：打印命中的文件。"""
    from archive.index import QueryError

    filters = {"region": region, "year": year, "status": status, "kind": kind}
    try:
        result = obj.archive.index.search(query, filters=filters, per_page=per_page)
    except QueryError as exc:
        fail(exc.message, EXIT_INVALID)
    for hit in result.hits:
        snippet = (hit["highlights"] or [""])[0].replace("<mark>", "【").replace("</mark>", "】")
        click.echo(f"{hit['number']}\t{hit['title']}\t{hit['region']}\t{snippet}")
    click.echo(f"共 {result.total} 条")


@main.group("volumes")
def volumes_group() -> None:
    """案卷（按年、按区域装订成册）。"""


@volumes_group.command("list")
@click.pass_obj
def volumes_list(obj: Context) -> None:
    """列出案卷及其合同数、文件数。"""
    from archive import volumes

    for v in volumes.list_volumes(obj.archive):
        click.echo(f"{v['year']}\t{v['region']}\t合同 {v['contracts']}\t文件 {v['documents']}")


@volumes_group.command("export")
@click.argument("year", type=int)
@click.argument("region")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
@domain_errors
def volumes_export(obj: Context, year: int, region: str, output: Path | None) -> None:
    """导出装订成册的 PDF（目录页 + 书签），记入审计。"""
    from archive import volumes

    target = output or Path(f"销售合同档案-{year}-{region}.pdf")
    target.write_bytes(volumes.bind(obj.archive, year, region, obj.actor()))
    click.echo(str(target))


@main.group("retention")
def retention_group() -> None:
    """保存期限：规则、清理、销毁。"""


@retention_group.command("rules")
@click.pass_obj
def retention_rules(obj: Context) -> None:
    """显示保存规则。"""
    from archive import retention

    for rule in retention.rules(obj.archive.retention_years):
        if rule["follows"]:
            click.echo(f"{rule['kind']}\t随 {rule['follows']}")
        elif rule["years"] == "permanent":
            click.echo(f"{rule['kind']}\t永久保存")
        else:
            click.echo(f"{rule['kind']}\t{rule['years']} 年，自签订年度结束起算")


@retention_group.command("run")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), help="以该日为准（默认今天）。")
@click.option("--dry-run", is_flag=True, help="只报告，不做任何更改。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 报告。")
@click.pass_obj
@domain_errors
def retention_run(obj: Context, as_of, dry_run: bool, as_json: bool) -> None:
    """执行清理（每天由 cron 运行）：到期合同移入欠款另册或列入待销毁。"""
    from archive import retention

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


@retention_group.command("destroy")
@click.argument("contract_nos", nargs=-1, required=True)
@click.option("--note", help="备注（写入销毁记录）。")
@click.pass_obj
@domain_errors
def retention_destroy(obj: Context, contract_nos: tuple[str, ...], note: str | None) -> None:
    """批准销毁待销毁的合同（须以销售经理身份：--as 经理用户名）。"""
    from archive import retention

    result = retention.destroy(obj.archive, contract_nos, note, obj.actor())
    click.echo(f"已销毁 {len(result['contracts'])} 份合同；销毁记录 {result['certificate']}")


@contracts_group.command("hold")
@click.argument("contract_no")
@click.option("--reason", help="保全原因。")
@click.option("--release", is_flag=True, help="解除保全。")
@click.pass_obj
@domain_errors
def contracts_hold(obj: Context, contract_no: str, reason: str | None, release: bool) -> None:
    """保全合同（不移卷、不销毁），或以 --release 解除。"""
    from archive import retention

    retention.hold(obj.archive, contract_no, reason, obj.actor(), release=release)
    click.echo(f"{contract_no}\t{'已解除保全' if release else '已保全'}")


@main.group("templates")
def templates_group() -> None:
    """Word 模板。"""


@templates_group.command("check")
@click.pass_obj
def templates_check(obj: Context) -> None:
    """检查每个模板使用的变量与其上下文结构一致，并试渲染一次。"""
    from templates.check import check_all

    problems = check_all(obj.archive.renderer)
    for name, issues in problems.items():
        if issues:
            click.echo(f"✗ {name}")
            for issue in issues:
                click.echo(f"    {issue}")
        else:
            click.echo(f"✓ {name}")
    if any(problems.values()):
        sys.exit(1)


@main.command("settings")
def show_settings() -> None:
    """显示全部设置及其当前取值。"""
    values = settings.load()
    for s in settings.SETTINGS:
        click.echo(f"HETONG_{s.name}={values[s.name]}")


if __name__ == "__main__":
    main()
