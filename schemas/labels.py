"""The words a person reads for the codes the data uses (roles, states, kinds, actions,
fields, retention outcomes), and how a person reads a time (local, with its zone) and a
user (by display name, the login at hand).

One table each, shared by the domain's messages, the pages, the CLI and the API's errors.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# Sales-contract business types (销售业务类型) when none are configured: each has its own
# standard template in the register (HETONG_BUSINESS_TYPES).
BUSINESS_TYPES = ("设备买卖", "零部件供货", "框架协议")
# The review chain a draft goes through before it takes effect (archive.reviews); the step
# 销售经理 is a sales manager's, the others are people's duties (职责).
REVIEW_STEPS = ("合同审核", "销售主管", "法务", "销售经理")
ROLE_NAMES = {"clerk": "销售业务员", "staff": "职员", "manager": "销售经理",
              "archivist": "档案管理员", "director": "总经理", "admin": "管理员"}  # fmt: skip
STATUS_NAMES = {"draft": "草稿", "effective": "已生效", "completed": "已履行完毕",
                "terminated": "已解除"}  # fmt: skip
SECRECY_NAMES = {False: "普通", True: "机密"}
PAYMENT_NAMES = {"unpaid": "未付款", "partially_paid": "部分付款", "paid": "已付清"}
KIND_NAMES = {"sales_contract": "销售合同", "amendment": "补充协议",
              "delivery_notice": "发货通知单", "signed_scan": "签署扫描件"}  # fmt: skip
# The retention records (kept permanently; never searched).
RECORD_NAMES = {"destruction_list": "销毁清单", "destruction_certificate": "销毁记录"}
ACTION_NAMES = {
    "contract.create": "创建合同", "contract.revise": "改稿", "contract.review": "审批",
    "customer.create": "建立客户档案", "customer.update": "修改客户档案",
    "clause.update": "修改标准条款",
    "contract.status": "变更状态", "document.download": "下载文件",
    "dossier.view": "查阅卷宗", "contract.owner": "移交合同", "contract.secrecy": "变更密级",
    "amendment.create": "签订补充协议", "delivery.create": "开具发货通知单",
    "payment.create": "登记收款", "scan.upload": "上传扫描件", "volume.export": "导出案卷",
    "retention.hold": "保全", "retention.hold_release": "解除保全",
    "retention.move_to_unpaid": "移入欠款另册", "retention.pending_destruction": "列入待销毁",
    "retention.destroy_approved": "批准销毁", "retention.destroyed": "已销毁",
    "retention.run": "执行清理", "search.export": "导出检索结果",
    "access_log.export": "导出查阅登记",
    "user.create": "添加用户", "user.update": "修改用户", "user.password": "更改密码",
    "user.deactivate": "停用用户", "user.activate": "启用用户", "token.issue": "签发令牌",
    "token.revoke": "撤销令牌",
    "access_request.create": "提交查阅申请", "access_request.approve": "批准查阅申请",
    "access_request.reject": "驳回查阅申请", "access_request.withdraw": "撤回查阅申请",
    "loan.lend": "借出", "loan.return": "归还",
    "template.create": "新增合同模板", "template.upload": "上传模板版本",
    "template.activate": "启用模板版本", "template.retire": "停用模板版本",
    "template.preview": "以合同数据预览模板",
    "fixity.check": "文件核验", "fixity.failed": "文件缺失或损坏",
    "fixity.repair": "从备份修复文件", "backup.create": "备份", "backup.restore": "从备份恢复",
    "retention.destroy_replayed": "按销毁日志重做销毁",
}  # fmt: skip
# A 查阅申请: its state (``expired`` is shown, never stored) and the steps of its approval.
REQUEST_STATE_NAMES = {"pending": "审批中", "approved": "已批准", "rejected": "已驳回",
                       "withdrawn": "已撤回", "expired": "已过期"}  # fmt: skip
REQUEST_STEP_NAMES = {"department": "部门负责人", "sales": "销售部负责人", "director": "总经理"}
DECISION_NAMES = {"approved": "同意", "rejected": "驳回"}
RETENTION_NAMES = {None: "保存中", "unpaid_volume": "欠款另册保管",
                   "pending_destruction": "待销毁（待审批）", "destroying": "销毁中",
                   "destroyed": "已销毁"}  # fmt: skip


def role_names(roles: tuple[str, ...]) -> str:
    """``("archivist", "manager")`` → ``档案管理员、销售经理``."""
    return "、".join(ROLE_NAMES.get(r, r) for r in roles)


OUTCOME_NAMES = {"in_performance": "履行中", "held": "保全", "moved_to_unpaid": "移入欠款另册",
                 "unpaid": "仍在欠款另册", "pending_destruction": "新列入待销毁",
                 "awaiting_approval": "待销毁（等待审批）"}  # fmt: skip


def named(codes) -> str:
    """Codes a client may send, each with the name a person knows it by:
    ``effective（已生效）、completed（已履行完毕）``."""
    tables = (STATUS_NAMES, ROLE_NAMES, KIND_NAMES, PAYMENT_NAMES)
    shown = []
    for code in codes:
        name = next((t[code] for t in tables if code in t), None)
        shown.append(f"{code}（{name}）" if name else code)
    return "、".join(shown)


def outcome_counts(counts: dict[str, int]) -> str:
    """A retention run's counts in words: ``履行中 3，保全 1，…``."""
    return "，".join(f"{name} {counts.get(key, 0)}" for key, name in OUTCOME_NAMES.items())


# -- fields ----------------------------------------------------------------------------------

# The label of each key a request may carry, as the forms name it; a dotted path reads
# segment by segment ("seller.name" → 供方·名称) unless it has a label of its own.
FIELD_NAMES = {
    # a contract
    "region": "区域", "business_type": "业务类型", "signed_on": "签订日期",
    "signed_at": "签订地点", "seller": "供方",
    "buyer": "需方", "name": "名称", "address": "地址", "representative": "代表人",
    "phone": "电话", "bank": "开户银行", "account": "账号", "tax_id": "税号", "items": "产品",
    "spec": "规格型号", "unit": "单位", "quantity": "数量", "unit_price": "单价",
    "quality_standard": "质量标准", "transport": "运输", "method": "方式",
    "freight_paid_by": "运费承担方", "delivery": "交货", "payment": "付款",
    "delivery.deadline": "交货期限", "delivery.place": "交货地点",
    "delivery.acceptance": "验收标准", "payment.method": "付款方式", "payment.terms": "付款约定",
    "payment.due_on": "最迟付款日期", "transport.method": "运输方式",
    "liability_exemptions": "免责条款", "breach_liability": "违约责任",
    "dispute_resolution": "争议解决", "extra_clauses": "附加条款", "salesperson": "业务员",
    # an amendment, a delivery notice, a payment, a scan, a status change, a hold
    "reason": "原因", "effective_on": "生效日期", "changes": "变更", "field": "变更项目",
    "item": "产品行", "after": "变更后", "before": "变更前", "delivery_date": "发货日期",
    "line": "产品行（第几项）",
    "carrier": "承运单位", "tracking_no": "物流单号", "prepared_by": "制单人",
    "ship_to": "收货地址", "amount": "金额", "paid_on": "收款日期", "reference": "凭证号",
    "note": "备注", "file": "文件", "_file": "文件", "status": "状态",
    # retention, queries, users
    "as_of": "基准日", "dry_run": "演练", "contract_nos": "合同编号", "contract_no": "合同编号",
    "q": "查询", "year": "年度", "kind": "文件类型", "payment_state": "付款状态",
    "signed_from": "签订日期（起）", "signed_to": "签订日期（止）", "amount_min": "最低金额",
    "amount_max": "最高金额", "page": "页码", "per_page": "每页条数", "sort": "排序",
    "user": "用户", "from": "起始日期", "from_": "起始日期", "to": "截止日期",
    "purpose": "用途", "wait": "等待索引", "overdue": "逾期", "password": "密码",
    "role": "角色", "display_name": "显示名称",
    "department": "部门", "head": "部门负责人", "days": "有效期（天）", "label": "令牌说明",
    "token_id": "令牌编号",
    "until": "查阅截止日", "mine": "我的申请", "waiting": "待我审批",
    "borrower": "借阅人", "due_on": "应还日期", "form": "借阅形式", "open": "未归还",
    # drafts, customers, the review chain
    "based_on": "据以修改的稿", "customer_id": "客户档案", "grade": "客户等级",
    "credit_limit": "信用额度", "credit_notes": "信用记录", "contacts": "联系人",
    "decision": "审批决定", "override": "销售经理特批", "feasibility_note": "可行性分析报告",
    "duties": "审批职责",
}  # fmt: skip


def field_label(path: str) -> str:
    """``items.1.quantity`` → ``产品第 2 项·数量``; an error of the whole (``_schema``) has no
    label; a key without one keeps its own name."""
    if path in FIELD_NAMES:
        return FIELD_NAMES[path]
    parts: list[str] = []
    keys: list[str] = []
    for segment in path.split("."):
        if segment.isdigit() and parts:
            parts[-1] += f"第 {int(segment) + 1} 项"
        elif segment != "_schema":
            keys.append(segment)
            joined = ".".join(keys[-2:])
            if joined in FIELD_NAMES and len(keys) > 1 and parts:
                parts[-1] = FIELD_NAMES[joined]
            else:
                parts.append(FIELD_NAMES.get(segment, segment))
    return "·".join(parts)


def error_lines(errors: dict[str, list[str]]) -> list[str]:
    """Field errors as a person reads them: ``金额：不是有效的数字。``."""
    lines = []
    for path, messages in errors.items():
        label = field_label(path)
        text = " ".join(messages)
        lines.append(f"{label}：{text}" if label else text)
    return lines


# -- times and people -------------------------------------------------------------------------

DEFAULT_ZONE = "Asia/Shanghai"
ZONE_NAMES = {"Asia/Shanghai": "北京时间", "Asia/Chongqing": "北京时间", "Asia/Harbin": "北京时间",
              "PRC": "北京时间", "Asia/Hong_Kong": "香港时间", "Asia/Macau": "澳门时间",
              "Asia/Taipei": "台北时间"}  # fmt: skip
TIME_FORMAT = "%Y-%m-%d %H:%M"


def zone(name: str | ZoneInfo) -> ZoneInfo:
    """The zone of an IANA name; ``ValueError`` naming it when there is none such."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise ValueError(f"未知时区：{name}（须为 IANA 时区名，例如 Asia/Shanghai）") from exc


def zone_name(where: ZoneInfo, at: dt.datetime | None = None) -> str:
    """北京时间 for China's zone; otherwise the offset at ``at`` (now): ``UTC-05:00``."""
    if where.key in ZONE_NAMES:
        return ZONE_NAMES[where.key]
    offset = (at or dt.datetime.now(dt.UTC)).astimezone(where).utcoffset() or dt.timedelta()
    if not offset:
        return "UTC"
    minutes = abs(offset) // dt.timedelta(minutes=1)
    sign = "+" if offset >= dt.timedelta() else "-"
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_time(at: dt.datetime | None, where: ZoneInfo, *, with_zone: bool = False) -> str:
    """A stored (UTC) time as a person reads it: ``2026-11-25 09:06`` in ``where``,
    ``2026-11-25 09:06（北京时间）`` with the zone."""
    if at is None:
        return ""
    if at.tzinfo is None:  # a naive time from the catalogue is UTC
        at = at.replace(tzinfo=dt.UTC)
    shown = at.astimezone(where).strftime(TIME_FORMAT)
    return f"{shown}（{zone_name(where, at)}）" if with_zone else shown


def local_date(at: dt.datetime, where: ZoneInfo) -> dt.date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(where).date()


def local_day_bounds(since: dt.date | None, until: dt.date | None,
                     where: ZoneInfo) -> tuple[dt.datetime | None, dt.datetime | None]:  # fmt: skip
    """The first and last instant (UTC) of local days ``since`` … ``until``."""
    start = dt.datetime.combine(since, dt.time.min, where).astimezone(dt.UTC) if since else None
    end = (dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, where)
           .astimezone(dt.UTC) - dt.timedelta(microseconds=1)) if until else None  # fmt: skip
    return start, end


# Who acted when it was no person of the catalogue: the command line's operator, the system.
_NOT_USERS = {"system": "系统"}


def person(login: str | None, display_name: str | None = None) -> str:
    """A user as a person reads them: ``王经理（wang）``, or the login when that is the name.
    ``cli:root`` (the command line's operator) reads ``命令行用户 root``."""
    if not login:
        return ""
    if login in _NOT_USERS:
        return _NOT_USERS[login]
    if login.startswith("cli:"):
        return f"命令行用户 {login[4:]}"
    if display_name and display_name != login:
        return f"{display_name}（{login}）"
    return login
