"""``/api/v1/clauses``: the standard clauses of each business type (标准条款库)."""

from __future__ import annotations

from typing import Any

from archive import clauses, template_register
from archive.errors import NotFound
from schemas.clauses import ClauseArgs, ClauseLibrarySchema, ClauseTextSchema
from service.api.common import SECURITY, Blueprint
from service.auth import actor, authenticate
from service.ext import get_archive

blp = Blueprint("clauses", __name__, description="标准条款（按销售业务类型）")
blp.before_request(authenticate)


def _types(wanted: str | None = None) -> list[str]:
    known = template_register.business_types(get_archive().catalogue)
    if wanted is None:
        return known
    if wanted not in known:
        raise NotFound(f"没有“{wanted}”业务类型（可选：{'、'.join(known)}）。")
    return [wanted]


@blp.get("")
@blp.doc(summary="标准条款库：各业务类型的标准条款", security=SECURITY)
@blp.arguments(ClauseArgs, location="query")
@blp.response(200, ClauseLibrarySchema(many=True))
@blp.errors(404, 422)
def index(args: dict[str, Any]):
    return clauses.library(get_archive(), _types(args.get("business_type")))


@blp.put("/<business_type>/<field>")
@blp.doc(summary="修改某业务类型的一条标准条款（销售经理；记入审计）", security=SECURITY)
@blp.arguments(ClauseTextSchema)
@blp.response(200, ClauseLibrarySchema, description="该业务类型现行的标准条款")
@blp.errors(403, 404, 422)
def update(data: dict[str, Any], business_type: str, field: str):
    kinds = _types(business_type)
    clauses.set_clause(get_archive(), business_type, field, data["text"], actor())
    return clauses.library(get_archive(), kinds)[0]
