"""The words a person reads for the codes the data uses (roles, states, kinds, actions).

One table each, shared by the domain's messages, the pages, the CLI and the API's errors.
"""

from __future__ import annotations

ROLE_NAMES = {"clerk": "销售业务员", "archivist": "档案管理员", "manager": "销售经理",
              "admin": "管理员"}  # fmt: skip
STATUS_NAMES = {"draft": "草稿", "effective": "已生效", "completed": "已履行完毕",
                "terminated": "已解除"}  # fmt: skip
PAYMENT_NAMES = {"unpaid": "未付款", "partially_paid": "部分付款", "paid": "已付清"}
KIND_NAMES = {"sales_contract": "销售合同", "amendment": "补充协议",
              "delivery_notice": "发货通知单", "signed_scan": "签署扫描件"}  # fmt: skip
ACTION_NAMES = {
    "contract.create": "创建合同", "contract.status": "变更状态", "document.download": "下载文件",
    "amendment.create": "签订补充协议", "delivery.create": "开具发货通知单",
    "payment.create": "登记收款", "scan.upload": "上传扫描件", "volume.export": "导出案卷",
    "retention.hold": "保全", "retention.hold_release": "解除保全",
    "retention.move_to_unpaid": "移入欠款另册", "retention.pending_destruction": "列入待销毁",
    "retention.destroy_approved": "批准销毁", "retention.destroyed": "已销毁",
    "retention.run": "执行清理",
}  # fmt: skip
RETENTION_NAMES = {None: "保存中", "unpaid_volume": "欠款另册保管",
                   "pending_destruction": "待销毁（待审批）", "destroying": "销毁中",
                   "destroyed": "已销毁"}  # fmt: skip


def role_names(roles: tuple[str, ...]) -> str:
    """``("archivist", "manager")`` → ``档案管理员、销售经理``."""
    return "、".join(ROLE_NAMES.get(r, r) for r in roles)
