"""Every error leaves as JSON: ``{"code", "status", "message", "errors"?}``.

Domain exceptions map to 4xx/503 here; anything unexpected is logged and becomes a
JSON 500 that reveals nothing internal.
"""

from __future__ import annotations

import logging

from flask import Flask, has_request_context, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from archive.errors import ArchiveError, Conflict, Forbidden, Gone, InvalidData, NotFound
from archive.storage import StorageError
from templates.errors import ConverterUnavailable, FontMissing, RenderError, TemplateProblem

log = logging.getLogger(__name__)

STATUS_TEXT = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Entity", 500: "Internal Server Error",
    503: "Service Unavailable",
}  # fmt: skip


def error_response(code: int, message: str, errors: dict | None = None, **headers: str):
    if _wants_page():
        page = render_template("error.html", code=code, title=STATUS_TEXT.get(code, ""),
                               message=message)  # fmt: skip
        return page, code, headers
    body = {"code": code, "status": STATUS_TEXT.get(code, ""), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = code
    response.headers.update(headers)
    return response


def _wants_page() -> bool:
    """People's pages get an HTML error page; the API and health check get JSON."""
    return has_request_context() and not request.path.startswith(("/api/", "/healthz"))


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidData)
    def _invalid(exc: InvalidData):
        return error_response(422, exc.message, exc.errors)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return error_response(404, exc.message)

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        return error_response(409, exc.message)

    @app.errorhandler(Gone)
    def _gone(exc: Gone):
        body = {"code": 410, "status": STATUS_TEXT[410], "message": exc.message,
                "tombstone": exc.details.get("tombstone")}  # fmt: skip
        return jsonify(body), 410

    @app.errorhandler(Forbidden)
    def _forbidden(exc: Forbidden):
        return error_response(403, exc.message)

    @app.errorhandler(ConverterUnavailable)
    @app.errorhandler(FontMissing)
    def _unavailable(exc: RenderError):
        log.error("rendering unavailable: %s", exc)
        return error_response(503, f"文档生成暂不可用：{exc}。未保存任何内容，请稍后重试。",
                              **{"Retry-After": "10"})  # fmt: skip

    @app.errorhandler(TemplateProblem)
    @app.errorhandler(StorageError)
    def _server_fault(exc: Exception):
        log.exception("server fault")
        return error_response(500, f"服务器内部错误：{exc}")

    @app.errorhandler(ArchiveError)
    def _archive_error(exc: ArchiveError):
        return error_response(400, exc.message)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        messages = getattr(exc, "data", {}).get("messages") if hasattr(exc, "data") else None
        return error_response(exc.code or 500, exc.description or exc.name, messages)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, "服务器内部错误，已记录日志。")
