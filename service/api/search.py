"""``/api/v1/search``: full-text search with filters, facets and highlights."""

from __future__ import annotations

from typing import Any

from archive import searching
from archive.search import Filters, QueryError, QueryTooLarge
from schemas.queries import SearchArgs, search_filters
from schemas.views import SearchResultSchema
from service.api.common import SECURITY, Blueprint
from service.auth import actor, authenticate
from service.errors import error_response
from service.ext import get_archive

blp = Blueprint("search", __name__, description="检索")
blp.before_request(authenticate)


@blp.get("")
@blp.doc(summary="全文检索（只在本人可查阅的合同中检索）", security=SECURITY)
@blp.arguments(SearchArgs, location="query")
@blp.response(200, SearchResultSchema)
@blp.errors(400, 422)
def search(args: dict[str, Any]):
    try:
        result = searching.search(
            get_archive(), actor(), args["q"], filters=Filters(**search_filters(args)),
            page=args["page"], per_page=args["per_page"], sort=args["sort"],
        )  # fmt: skip
    except QueryTooLarge as exc:
        return error_response(422, exc.message, {"q": [exc.message]})
    except QueryError as exc:
        return error_response(400, exc.message, {"q": [exc.message]})
    return {"total": result.total, "page": result.page, "per_page": result.per_page,
            "hits": result.hits, "facets": result.facets}  # fmt: skip
