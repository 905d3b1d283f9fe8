"""The review chain (archive.reviews): a decision as submitted, and the chain, the buyer's
credit and the to-do list as the API answers them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.contract import StrictSchema
from schemas.fields import StrictBoolean, Text, positive_int
from schemas.labels import named

DECISIONS = ("submitted", "approved", "returned")
TASK_KINDS = ("review", "returned", "signed_copy")


class ReviewDecisionSchema(StrictSchema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(DECISIONS, error=f"取值须为 {named(DECISIONS)} 之一。"),
        metadata={"description": "submitted：提交审批（草稿的负责人）；approved：同意；"
                                 "returned：退回修改（须 note）"},
    )  # fmt: skip
    note = Text(max_length=500, multiline=True, metadata={"description": "意见（退回时必填）"})
    override = StrictBoolean(load_default=False, metadata={
        "description": "销售经理特批：超出信用额度或客户有逾期超过 30 天的欠款时，"
                       "最后一步同意须为 true 并附 feasibility_note"})  # fmt: skip
    feasibility_note = Text(max_length=2000, multiline=True,
                            metadata={"description": "可行性分析报告（区域经理意见）"})  # fmt: skip
    step = Text(max_length=40, metadata={
        "description": "您审阅时待审批的环节：已变时 409（不把决定记到别的环节上）"})  # fmt: skip
    revision = positive_int(strict=True, maximum=1_000_000, metadata={
        "description": "您审阅的是第几稿：此后改稿时 409"})  # fmt: skip


class ReviewStepSchema(Schema):
    step = fields.String(metadata={"description": "环节"})
    decision = fields.String(allow_none=True, metadata={"description": "本轮的决定；未到为 null"})
    by = fields.String(allow_none=True)
    at = fields.String(allow_none=True)


class ReviewEntrySchema(Schema):
    round = fields.Integer(metadata={"description": "第几轮（改稿后重新审批加一）"})
    revision = fields.Integer(metadata={"description": "审的是第几稿"})
    step = fields.String()
    decision = fields.String()
    decision_name = fields.String()
    note = fields.String(allow_none=True)
    override = fields.Boolean(metadata={"description": "销售经理特批"})
    feasibility_note = fields.String(allow_none=True)
    by = fields.String()
    at = fields.String()


class OverdueEntrySchema(Schema):
    contract_no = fields.String()
    due_on = fields.String()
    outstanding = fields.String()
    days_overdue = fields.Integer()


class CreditCheckSchema(Schema):
    outstanding = fields.String(metadata={"description": "需方其他合同的欠款合计（元）"})
    overdue_amount = fields.String()
    overdue_contracts = fields.Integer()
    days_overdue = fields.Integer()
    overdue = fields.List(fields.Nested(OverdueEntrySchema),
                          metadata={"description": "逾期未收的合同"})  # fmt: skip
    grade = fields.String(allow_none=True)
    credit_limit = fields.String(allow_none=True)
    this_contract = fields.String(metadata={"description": "本合同金额（元）"})
    outstanding_after = fields.String(metadata={"description": "签订后欠款合计（元）"})
    over_limit = fields.Boolean(metadata={"description": "签订后将超过信用额度"})
    overdue_past_limit = fields.Boolean(metadata={"description": "有逾期超过 30 天的欠款"})
    needs_override = fields.Boolean(metadata={"description": "须可行性分析报告与销售经理特批"})


class ReviewViewSchema(Schema):
    contract_no = fields.String()
    state = fields.String(
        allow_none=True,
        metadata={"description": "null 未提交；in_review 审批中；returned 已退回；approved 已审批"},
    )
    state_name = fields.String()
    step = fields.String(allow_none=True, metadata={"description": "正待审批的环节"})
    round = fields.Integer()
    steps = fields.List(fields.Nested(ReviewStepSchema))
    history = fields.List(fields.Nested(ReviewEntrySchema), metadata={"description": "全部决定"})
    may_decide = fields.Boolean(metadata={"description": "您负责正待审批的环节"})
    credit = fields.Nested(CreditCheckSchema, allow_none=True, metadata={
        "description": "需方的信用（审批人可见；取自全部合同）"})  # fmt: skip


class TaskSchema(Schema):
    kind = fields.String(
        metadata={"description": "review 待我审批；returned 退回给我修改；signed_copy 生效后未回签",
                  "enum": list(TASK_KINDS)},
    )  # fmt: skip
    contract_no = fields.String()
    buyer = fields.String()
    total = fields.String()
    owner = fields.String()
    since = fields.String(allow_none=True)
    days = fields.Integer(allow_none=True, metadata={"description": "生效后已过天数（待回签）"})
    step = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    url = fields.String()
