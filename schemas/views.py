"""What the API answers: one schema per response body, so the OpenAPI document says exactly
what a client gets (the views build plain dicts; these shape and document them)."""

from __future__ import annotations

from marshmallow import Schema, fields

from schemas.queries import KINDS, PAYMENT_STATES, STATUSES


def _str(description: str = "", **kwargs) -> fields.String:
    return fields.String(metadata={"description": description, **kwargs})


def _enum(choices: tuple[str, ...], description: str = "") -> fields.String:
    return fields.String(metadata={"description": description, "enum": list(choices)})


def _maybe(description: str = "") -> fields.String:
    return fields.String(allow_none=True, metadata={"description": description})


MONEY = {"description": "金额（元），两位小数的字符串", "example": "382505.00"}


class FileLinkSchema(Schema):
    url = _str("下载地址（记入查阅登记）")
    sha256 = _str("文件的 SHA-256")
    size = fields.Integer(metadata={"description": "字节数"})
    filename = _str("文件名")
    verified_at = _maybe("最近一次核验确认文件完好的时间（UTC，ISO 8601）；未核验为 null")


class TemplateUsedSchema(Schema):
    title = _str("模板（销售合同·设备买卖 等）")
    version = fields.Integer(metadata={"description": "版本号"})
    sha256 = _str("模板文件的 SHA-256")
    url = _str("模板版本的地址")


class DocumentViewSchema(Schema):
    kind = _enum(KINDS, "文件类型")
    number = _str("文件编号")
    title = _str("文件名称")
    archival_code = _maybe("档号")
    created_at = _str("归档时间（ISO 8601）")
    pdf = fields.Nested(FileLinkSchema, metadata={"description": "PDF（上传件为清理后的归档件）"})
    docx = fields.Nested(FileLinkSchema)
    original = fields.Nested(
        FileLinkSchema,
        metadata={"description": "上传件的原件（存证；仅档案管理员、销售经理可下载）"},
    )
    removed = fields.List(
        fields.String(),
        metadata={"description": "归档件中已清除的内容（脚本、动作、嵌入文件、表单）"},
    )
    template = fields.Nested(TemplateUsedSchema, allow_none=True, metadata={
        "description": "生成它的模板版本（上传件、模板库之前归档的文件为 null）"})  # fmt: skip
    revision = fields.Integer(allow_none=True, metadata={
        "description": "合同文本的第几稿（仅销售合同本身）"})  # fmt: skip
    superseded = fields.Boolean(metadata={
        "description": "已被后一稿取代：留在卷宗中备查，不再有效，不装订、不检索"})  # fmt: skip


class PartyViewSchema(Schema):
    name = _str("全称")
    address = _str("地址")
    representative = _str("法定代表人/委托代理人")
    phone = _str("电话")
    bank = _str("开户银行")
    account = _str("账号")
    tax_id = _str("税号")


class ItemViewSchema(Schema):
    name = _str("产品名称")
    spec = _str("规格型号")
    unit = _str("单位")
    quantity = _str("数量")
    unit_price = _str(**MONEY)
    amount = _str(**MONEY)
    delivered = _str("已发货数量（仅现行条款）")
    remaining = _str("未发货数量（仅现行条款）")


class TransportViewSchema(Schema):
    method = _str("运输方式")
    freight_paid_by = _enum(("seller", "buyer"), "运费承担方")


class DeliveryTermsViewSchema(Schema):
    deadline = _str("交货期限")
    place = _str("交货地点")
    acceptance = _str("验收方式")


class PaymentTermsViewSchema(Schema):
    method = _str("付款方式")
    terms = _str("付款约定")
    due_on = _str("最迟付款日期")


class TermsViewSchema(Schema):
    region = _str("区域")
    business_type = _maybe("销售业务类型")
    signed_on = _str("签订日期")
    signed_at = _str("签订地点")
    seller = fields.Nested(PartyViewSchema)
    buyer = fields.Nested(PartyViewSchema)
    items = fields.List(fields.Nested(ItemViewSchema))
    quality_standard = _str("质量标准")
    transport = fields.Nested(TransportViewSchema)
    delivery = fields.Nested(DeliveryTermsViewSchema)
    payment = fields.Nested(PaymentTermsViewSchema)
    liability_exemptions = _str("免责条款")
    breach_liability = _str("违约责任")
    dispute_resolution = _str("争议解决")
    extra_clauses = fields.List(fields.String())
    salesperson = _str("业务员")


class HoldViewSchema(Schema):
    reason = _str("保全原因")
    by = _str("保全人")
    at = _str("保全时间")


class RetentionStateSchema(Schema):
    state = fields.String(
        allow_none=True,
        metadata={"description": "保存状态：null 保存中、unpaid_volume 欠款另册、"
                  "pending_destruction 待销毁、destroying、destroyed"},
    )  # fmt: skip
    hold = fields.Nested(HoldViewSchema, allow_none=True)


class ContractSummarySchema(Schema):
    """A contract as lists show it."""

    contract_no = _str("合同编号", example="HT-202611-0001")
    archival_code = _maybe("档号")
    status = _enum(STATUSES, "状态")
    region = _str("区域")
    business_type = _maybe("销售业务类型（模板库之前的合同为 null）")
    revision = fields.Integer(metadata={"description": "现行的第几稿（草稿每改一次加一）"})
    review_state = _maybe(
        "审批：null 未提交；in_review 审批中；returned 已退回修改；approved 已审批"
    )
    review_step = _maybe("正待审批的环节")
    signed_on = _str("签订日期")
    seller = fields.Nested(PartyViewSchema)
    buyer = fields.Nested(PartyViewSchema)
    total = _str(**MONEY)
    total_upper = _str("人民币大写", example="叁拾捌万贰仟伍佰零伍元整")
    original_total = _str(**MONEY)
    due_on = _str("最迟付款日期")
    paid = _str(**MONEY)
    outstanding = _str(**MONEY)
    payment_state = _enum(PAYMENT_STATES, "付款状态")
    overdue = fields.Boolean(metadata={"description": "已逾期（未收款）"})
    days_overdue = fields.Integer()
    to_chase = fields.Boolean(metadata={"description": "逾期满一个月，应催收"})
    created_by = _str("创建人")
    owner = _str("负责人（其业务；看得见本合同的依据之一）")
    confidential = fields.Boolean(required=True, metadata={"description": "密级为机密"})
    created_at = _str("创建时间")
    approved_by = _maybe("审批人")
    approved_at = _maybe("审批时间")
    retention = fields.Nested(RetentionStateSchema)
    url = _str("合同详情地址")


class ChangeViewSchema(Schema):
    field = _str("变更项目")
    line = fields.Integer(allow_none=True, metadata={"description": "产品行（从 1 起，即第1项）"})
    label = _str("变更项目名称")
    before = _str("原内容")
    after = _str("变更后")
    reason = _str("原因")


class RevisionChangeSchema(Schema):
    field = _str("改动的字段（如 buyer.name、items.0.quantity）")
    label = _str("字段名称（如 需方·名称）")
    before = _maybe("改动前（此前没有为 null）")
    after = _maybe("改动后（删去为 null）")


class RevisionSchema(Schema):
    revision = fields.Integer(metadata={"description": "第几稿（1 为首次生成）"})
    current = fields.Boolean(metadata={"description": "现行稿：只有最后一稿有效"})
    created_by = _str("改稿人（登录名）")
    created_at = _str("改稿时间（ISO 8601）")
    total = _str(**MONEY)
    note = _maybe("改稿说明")
    changes = fields.List(fields.Nested(RevisionChangeSchema),
                          metadata={"description": "与前一稿相比改动的字段"})  # fmt: skip


class AmendmentSummarySchema(Schema):
    number = _str("补充协议编号")
    reason = _str("变更原因")
    effective_on = _str("生效日期")
    changes = fields.List(fields.Nested(ChangeViewSchema))
    total_before = _str(**MONEY)
    total_after = _str(**MONEY)
    major = fields.Boolean(metadata={"description": "重大变更（须销售经理签订）"})
    created_by = _str()
    created_at = _str()


class DeliveryLineViewSchema(Schema):
    line = fields.Integer(metadata={"description": "产品行（从 1 起，即第1项）"})
    name = _str()
    spec = _str()
    unit = _str()
    quantity = _str()
    unit_price = _str(**MONEY)
    amount = _str(**MONEY)


class DeliverySummarySchema(Schema):
    number = _str("发货通知单号")
    delivery_date = _str("发货日期")
    ship_to = _str("收货地址")
    carrier = _str("承运人")
    tracking_no = _str("物流单号")
    prepared_by = _str("制单人")
    lines = fields.List(fields.Nested(DeliveryLineViewSchema))
    created_by = _str()
    created_at = _str()


class PaymentSummarySchema(Schema):
    id = fields.Integer()
    amount = _str(**MONEY)
    paid_on = _str("收款日期")
    method = _str("收款方式")
    reference = _maybe("凭证号")
    note = _maybe("备注")
    created_by = _str()
    created_at = _str()


class OnLoanSchema(Schema):
    """An open loan of the dossier (借出)."""

    id = fields.Integer(metadata={"description": "借阅记录编号（/api/v1/loans/<id>）"})
    borrower = _str("借阅人（登录名）")
    borrower_name = _str("借阅人（显示名称）")
    form = _enum(("paper", "electronic"), "paper 纸质卷宗或 electronic 电子卷宗")
    due_on = _str("应还日期")
    overdue = fields.Boolean(metadata={"description": "已逾期未还"})


class BuyerDifferenceSchema(Schema):
    field = _str("需方的字段（name、bank …）")
    label = _str("字段名称")
    register = _maybe("客户档案中的")
    contract = _str("本合同中的")


class ContractCustomerSchema(Schema):
    id = fields.Integer(metadata={"description": "客户档案编号"})
    name = _str("档案中的客户全称")
    grade = _maybe("客户等级")
    url = _str("客户档案地址")
    differs = fields.List(fields.Nested(BuyerDifferenceSchema), metadata={
        "description": "本合同的需方与客户档案不同之处：是否据此更新档案（PATCH 客户档案），"
                       "由业务员决定"})  # fmt: skip


class DiffPartSchema(Schema):
    op = _enum(("equal", "delete", "insert"), "不变、删去或加入")
    text = _str()


class ClauseDeviationSchema(Schema):
    field = _str("条款的字段（如 payment.terms）")
    label = _str("条款名称")
    standard = _str("该业务类型的标准条款")
    contract = _str("本合同的条款")
    diff = fields.List(fields.Nested(DiffPartSchema), metadata={"description": "逐字标出的改动"})


class ContractViewSchema(ContractSummarySchema):
    """The whole dossier."""

    clause_deviations = fields.List(fields.Nested(ClauseDeviationSchema), metadata={
        "description": "偏离标准条款之处（与该业务类型现行的标准条款相比）"})  # fmt: skip

    customer = fields.Nested(ContractCustomerSchema, allow_none=True,
                             metadata={"description": "需方的客户档案"})  # fmt: skip

    terms = fields.Nested(TermsViewSchema, metadata={"description": "现行条款（含补充协议）"})
    original_terms = fields.Nested(TermsViewSchema, metadata={"description": "签订时的条款"})
    countersigned = fields.Boolean(metadata={"description": "已回签：签署扫描件已上传归档"})
    revisions = fields.List(fields.Nested(RevisionSchema),
                            metadata={"description": "草稿的各稿，最早的在前"})  # fmt: skip
    amendments = fields.List(fields.Nested(AmendmentSummarySchema))
    deliveries = fields.List(fields.Nested(DeliverySummarySchema))
    payments = fields.List(fields.Nested(PaymentSummarySchema))
    documents = fields.List(fields.Nested(DocumentViewSchema))
    on_loan = fields.List(fields.Nested(OnLoanSchema),
                          metadata={"description": "借出中的借阅，最早到期的在前"})  # fmt: skip


class LinksSchema(Schema):
    self = _str("本资源")
    contract = _str("所属合同")
    pdf = _str("PDF 下载")
    docx = _str("Word 下载")


class AmendmentViewSchema(AmendmentSummarySchema):
    contract_no = _str("合同编号")
    total = _str(**MONEY)
    document = fields.Nested(DocumentViewSchema)
    links = fields.Nested(LinksSchema)


class DeliveryViewSchema(DeliverySummarySchema):
    contract_no = _str("合同编号")
    document = fields.Nested(DocumentViewSchema)
    links = fields.Nested(LinksSchema)


class PaymentViewSchema(PaymentSummarySchema):
    contract_no = _str("合同编号")
    paid = _str(**MONEY)
    outstanding = _str(**MONEY)
    payment_state = _enum(PAYMENT_STATES, "付款状态")
    links = fields.Nested(LinksSchema)


class ScanViewSchema(DocumentViewSchema):
    contract_no = _str("合同编号")
    links = fields.Nested(LinksSchema)


class HitSchema(Schema):
    contract_no = _str()
    number = _str("文件编号")
    kind = _enum(KINDS)
    title = _str()
    archival_code = _maybe("档号")
    region = _str()
    year = fields.Integer()
    status = _enum(STATUSES)
    payment_state = _enum(PAYMENT_STATES)
    signed_on = _str()
    score = fields.Float(allow_none=True, metadata={"description": "相关度；按日期排序时为 null"})
    highlights = fields.List(fields.String(), metadata={"description": "命中片段（HTML，<mark>）"})


class SearchResultSchema(Schema):
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    hits = fields.List(fields.Nested(HitSchema))
    facets = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(keys=fields.String(), values=fields.Integer()),
        metadata={"description": "分面计数：region、year、status、kind、payment_state"},
    )


class ReceivableSchema(Schema):
    contract_no = _str()
    region = _str()
    buyer = _str()
    status = _enum(STATUSES)
    signed_on = _str()
    due_on = _str()
    total = _str(**MONEY)
    paid = _str(**MONEY)
    outstanding = _str(**MONEY)
    payment_state = _enum(PAYMENT_STATES)
    overdue = fields.Boolean()
    days_overdue = fields.Integer()
    to_chase = fields.Boolean()


class AccessEntrySchema(Schema):
    at = _str("时间")
    user = _str("查阅人")
    action = _enum(("document.download", "dossier.view", "volume.export", "search.export",
                    "access_log.export", "loan.lend", "template.preview"))  # fmt: skip
    contract_no = _maybe("合同编号或案卷")
    purpose = _maybe("用途")
    client = _maybe("来源")
    detail = fields.Dict()


class VolumeSchema(Schema):
    year = fields.Integer()
    region = _str()
    kind = _enum(
        ("regular", "unpaid"), "regular 按年、按区域的案卷；unpaid 其未收款另册（欠款合同另册保管）"
    )
    title = _str("案卷名称，如 2020·华东 或 2020·华东·未收款另册")
    contracts = fields.Integer(metadata={"description": "卷中现存的合同数（已销毁的不计）"})
    documents = fields.Integer(metadata={"description": "现存合同的文件数"})
    destroyed = fields.Integer(metadata={"description": "按保存期限已销毁的合同数"})


class VolumeListSchema(Schema):
    items = fields.List(fields.Nested(VolumeSchema))


class RetentionRuleSchema(Schema):
    kind = _str("文件类型")
    years = fields.Raw(metadata={"description": "保存年数、permanent，或 null（随合同）"})
    clock = _maybe("起算")
    follows = _maybe("随何文件保存")


class RetentionRuleListSchema(Schema):
    items = fields.List(fields.Nested(RetentionRuleSchema))


class RetentionReportSchema(Schema):
    as_of = _str("清理基准日")
    dry_run = fields.Boolean()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    contracts = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    destruction_list = _maybe("本次生成的销毁清单编号")


class RetentionRunViewSchema(RetentionReportSchema):
    id = fields.Integer()
    actor = _str()
    started_at = _str()


class DestructionResultSchema(Schema):
    certificate = _str("销毁记录编号")
    contracts = fields.List(fields.String())
    certificate_pdf_sha256 = _str()


class HealthSchema(Schema):
    status = _enum(("ok", "degraded"))
    database = _str()
    converter = _str()


class ApiErrorSchema(Schema):
    code = fields.Integer(metadata={"description": "HTTP 状态码"})
    status = _str("状态名")
    message = _str("说明（中文）")
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "字段路径 → 错误信息，如 items.1.quantity"},
    )  # fmt: skip
    credit = fields.Dict(metadata={"description": "审批须特批时（409）：据以判断的需方信用"})


class TombstoneDocumentSchema(Schema):
    kind = _str()
    number = _str()
    format = _str()
    sha256 = _str()


class TombstoneSchema(Schema):
    contract_no = _str()
    archival_code = _maybe()
    seller = _str()
    buyer = _str()
    region = _str()
    signed_on = _str()
    status = _str()
    total = _str(**MONEY)
    paid = _str(**MONEY)
    documents = fields.List(fields.Nested(TombstoneDocumentSchema))
    destroyed_at = _maybe("销毁时间（UTC，ISO 8601）")
    destroyed_by = _maybe("批准销毁的销售经理")
    certificate = _maybe("列明该合同的销毁记录编号（XH-…）")


class GoneSchema(ApiErrorSchema):
    tombstone = fields.Nested(TombstoneSchema)


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of a list: ``{"total", "page", "per_page", "items"}``."""
    return Schema.from_dict(
        {"total": fields.Integer(metadata={"description": "符合条件的总数"}),
         "page": fields.Integer(), "per_page": fields.Integer(),
         "items": fields.List(fields.Nested(item))},
        name=name,
    )  # fmt: skip


class ReceivablesPageSchema(Schema):
    as_of = _str("判断逾期的日期")
    count = fields.Integer(metadata={"description": "有欠款的合同数"})
    outstanding = _str(description="未收合计（元）")
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(ReceivableSchema))


REQUEST_STATES = ("pending", "approved", "rejected", "withdrawn")
REQUEST_STEPS = ("department", "sales", "director")


class AccessRequestStepSchema(Schema):
    step = _enum(REQUEST_STEPS, "department 部门负责人、sales 销售部负责人、director 总经理")
    name = _str("步骤名称，如 财务部负责人")
    department = _maybe("部门（仅 department 步骤）")
    by = _maybe("审批人（用户名）")
    by_name = _str("审批人（显示名称）")
    at = _maybe("审批时间（UTC，ISO 8601）")
    decision = fields.String(allow_none=True, metadata={
        "description": "approved 同意、rejected 驳回；null 待审批",
        "enum": ["approved", "rejected"]})  # fmt: skip
    decision_name = _str("审批结果")
    note = _maybe("审批意见")


class AccessRequestViewSchema(Schema):
    """A 查阅申请 with its approval chain."""

    id = fields.Integer()
    requester = _str("申请人（用户名）")
    requester_name = _str("申请人（显示名称）")
    contract_nos = fields.List(fields.String(), metadata={"description": "申请查阅的合同编号"})
    purpose = _str("查阅用途")
    until = _str("查阅截止日（含，当地日期）")
    state = _enum(REQUEST_STATES, "pending 审批中、approved 已批准、rejected 驳回、withdrawn 撤回")
    expired = fields.Boolean(metadata={"description": "已批准但截止日已过：不再可查阅"})
    state_name = _str("状态（显示用；含 已过期）")
    steps = fields.List(fields.Nested(AccessRequestStepSchema),
                        metadata={"description": "审批链，按顺序"})  # fmt: skip
    current_step = _maybe("当前待审批的步骤")
    current_step_name = _maybe("当前待审批的步骤名称")
    waiting_for = fields.List(fields.String(), metadata={"description": "可审批当前步骤的人"})
    created_at = _str("提交时间（UTC，ISO 8601）")
    decided_at = _maybe("批准、驳回或撤回的时间")
    url = _str("申请详情地址")
