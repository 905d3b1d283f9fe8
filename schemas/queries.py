"""Query strings: what the API (and the pages) accept after the ``?``, and nothing else.

Unknown parameters are ignored (paging parameters are read by their own schema from the
same query string); every known one is typed, ranged and documented.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from schemas.fields import Money, Text, positive_int
from schemas.labels import named

STATUSES = ("draft", "effective", "completed", "terminated")
KINDS = ("sales_contract", "amendment", "delivery_notice", "signed_scan")
PAYMENT_STATES = ("unpaid", "partially_paid", "paid")
# A search query is short: longer input costs work and never helps an archivist.
MAX_QUERY = 200


def one_of(choices: tuple[str, ...], **kwargs) -> fields.String:
    return fields.String(
        validate=validate.OneOf(choices, error=f"取值须为 {named(choices)} 之一。"), **kwargs
    )


class QueryArgs(Schema):
    class Meta:
        unknown = EXCLUDE


class WaitArgs(QueryArgs):
    wait = fields.Boolean(
        load_default=False,
        metadata={"description": "true：待检索索引收录本次变更后再应答（至多 10 秒；"
                                 "应答头 X-Search-Indexed 说明是否已收录）"},
    )  # fmt: skip


class AsOfArgs(QueryArgs):
    as_of = fields.Date(metadata={"description": "判断逾期的日期（YYYY-MM-DD），默认今天"})


SIGNING_YEAR = {"validate": validate.Range(min=1900, max=2999, error="必须是四位年份。"),
                "metadata": {"description": "签订年份"}}  # fmt: skip
CONTRACT_SORTS = ("signed_on", "contract_no", "total")


class ContractListArgs(QueryArgs):
    """The contract list's filters and order (the API and the contract list page)."""

    status = one_of(STATUSES, metadata={"description": "合同状态"})
    region = Text(max_length=20, metadata={"description": "区域"})
    buyer = Text(max_length=100, metadata={"description": "需方名称中的片段"})
    created_by = Text(max_length=50, metadata={"description": "经办人（创建合同的用户名）"})
    owner = Text(max_length=50, metadata={"description": "负责人（合同归属的用户名）"})
    year = fields.Integer(**SIGNING_YEAR)
    payment_state = one_of(PAYMENT_STATES, metadata={"description": "付款状态"})
    sort = one_of(
        CONTRACT_SORTS,
        metadata={"description": "排序：signed_on（签订日期）、contract_no（合同编号）、"
                                 "total（金额）；不填则新建的在前"},
    )  # fmt: skip
    order = one_of(("asc", "desc"), load_default="desc",
                   metadata={"description": "asc（升序）或 desc（降序）"})  # fmt: skip


class PageArgs(QueryArgs):
    """Which page of a list page (contracts, receivables, the access log): at most 100 rows."""

    page = positive_int(maximum=1_000_000, load_default=1, metadata={"description": "页码"})
    per_page = positive_int(maximum=100, load_default=50, metadata={"description": "每页条数"})


class ReceivablesArgs(AsOfArgs):
    region = Text(max_length=20, metadata={"description": "区域"})
    overdue = fields.Boolean(metadata={"description": "true 只看已逾期，false 只看未逾期"})


class SearchArgs(QueryArgs):
    """Full-text search: the query and its filters (the API and the search page)."""

    q = Text(
        max_length=MAX_QUERY, load_default="",
        metadata={"description": '查询：片段、型号、AND/OR/NOT、"短语"、'
                                 "字段:值（buyer、product…）"},
    )  # fmt: skip
    region = Text(max_length=20, metadata={"description": "区域"})
    year = fields.Integer(**SIGNING_YEAR)
    status = one_of(STATUSES, metadata={"description": "合同状态"})
    kind = one_of(KINDS, metadata={"description": "文件类型"})
    payment_state = one_of(PAYMENT_STATES, metadata={"description": "付款状态"})
    signed_from = fields.Date(metadata={"description": "签订日期起（含）"})
    signed_to = fields.Date(metadata={"description": "签订日期止（含）"})
    amount_min = Money(metadata={"description": "合同金额下限（元）"})
    amount_max = Money(metadata={"description": "合同金额上限（元）"})
    page = positive_int(maximum=10_000, load_default=1, metadata={"description": "页码"})
    per_page = positive_int(maximum=100, load_default=20, metadata={"description": "每页条数"})
    sort = one_of(
        ("relevance", "date"), load_default="relevance",
        metadata={"description": "relevance（相关度）或 date（签订日期，新的在前）"},
    )  # fmt: skip

    @validates_schema
    def _ranges(self, data, **kwargs) -> None:
        start, end = data.get("signed_from"), data.get("signed_to")
        if start and end and start > end:
            raise ValidationError({"signed_to": ["不能早于起始日期。"]})
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            raise ValidationError({"amount_max": ["不能小于下限。"]})


SEARCH_FILTERS = ("region", "year", "status", "kind", "payment_state", "signed_from",
                  "signed_to", "amount_min", "amount_max")  # fmt: skip


def search_filters(args: dict[str, Any]) -> dict[str, Any]:
    """The filters among loaded ``SearchArgs``."""
    return {name: args[name] for name in SEARCH_FILTERS if args.get(name) not in (None, "")}


class AccessLogArgs(QueryArgs):
    user = Text(max_length=50, metadata={"description": "用户名"})
    contract_no = Text(max_length=50, metadata={"description": "合同编号"})
    from_ = fields.Date(data_key="from", metadata={"description": "起始日期（含）"})
    to = fields.Date(metadata={"description": "截止日期（含）"})


VOLUME_KINDS = ("regular", "unpaid")


class VolumeArgs(QueryArgs):
    kind = one_of(VOLUME_KINDS, load_default="regular",
                  metadata={"description": "regular：按年、按区域的案卷；"
                                           "unpaid：其未收款另册"})  # fmt: skip
    purpose = Text(required=True, max_length=200,
                   metadata={"description": "查阅/借阅用途，记入查阅登记"})  # fmt: skip


def purpose_field(**kwargs) -> fields.Field:
    return Text(max_length=200, metadata={"description": "查阅/借阅用途，记入查阅登记"},
                **kwargs)  # fmt: skip


class DownloadArgs(QueryArgs):
    purpose = purpose_field(required=True)


class PurposeArgs(QueryArgs):
    purpose = purpose_field(required=True)


class DossierArgs(AsOfArgs):
    purpose = purpose_field()
