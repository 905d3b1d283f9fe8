"""Every error leaves as JSON ``{"code", "status", "message", "errors"?}`` (an HTML page for
people's pages), in Chinese.

Domain exceptions map to 4xx/503 here; request-parsing errors (webargs, through
flask-smorest) are flattened to dotted field paths; anything unexpected is logged and
becomes a 500 that reveals nothing internal.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, has_request_context, jsonify, render_template, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from archive.errors import (
    ArchiveError,
    Conflict,
    FileMissing,
    Forbidden,
    Gone,
    InvalidData,
    NotFound,
)
from archive.storage import StorageError
from schemas import flatten_errors
from schemas.labels import field_label
from schemas.views import ApiErrorSchema
from templates.errors import ConverterUnavailable, FontMissing, RenderError, TemplateProblem

log = logging.getLogger(__name__)

STATUS_TEXT = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 410: "Gone", 413: "Payload Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Entity", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}  # fmt: skip
# What a person reads when the cause is the request itself, not our domain.
MESSAGES = {
    400: "请求无效。", 401: "需要登录。", 403: "无权执行此操作。", 404: "找不到该地址或资源。",
    405: "该地址不支持此请求方法。", 413: "请求体过大。", 415: "不支持的内容类型。",
    422: "数据校验失败。", 429: "请求过于频繁，请稍后再试。", 500: "服务器内部错误，已记录日志。",
    503: "服务暂不可用，请稍后重试。",
}  # fmt: skip
# Headers an HTTP exception carries that the client needs (e.g. Allow on a 405).
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def error_response(code: int, message: str, errors: dict | None = None, *,
                   extra: dict | None = None, **headers: str):  # fmt: skip
    if _wants_page():
        page = render_template("error.html", code=code, message=message)
        return page, code, headers
    body: dict[str, Any] = {"code": code, "status": STATUS_TEXT.get(code, ""), "message": message}
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    response = jsonify(body)
    response.status_code = code
    response.headers.update(headers)
    return response


def _wants_page() -> bool:
    """People's pages get an HTML error page; the API and health check get JSON."""
    return has_request_context() and not request.path.startswith(("/api/", "/healthz"))


def http_error(exc: HTTPException):
    """Any HTTPException (Flask's own, webargs' 422, ``abort``) in our error shape."""
    code = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = None
    if "messages" in data:  # webargs: {location: {field: messages}} → {"items.1.quantity": …}
        errors = {}
        for messages in data["messages"].values():
            for path, found in flatten_errors(messages).items():
                errors.setdefault(path, []).extend(found)
    message = data.get("message") or _message(exc, code)
    if errors and not data.get("message"):
        message = f"{message.rstrip('。')}：{_first(errors)}"
    headers = {k: v for k, v in exc.get_headers() if k in _KEPT_HEADERS}
    headers.update(data.get("headers") or {})
    if code == 405 and "Allow" not in headers and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return error_response(code, message, errors, **headers)


def _first(errors: dict[str, list[str]]) -> str:
    """The first error in words, so the message alone already says what to correct."""
    path, found = next(iter(errors.items()))
    label = field_label(path)
    text = found[0] if found else ""
    more = f"（另有 {len(errors) - 1} 处）" if len(errors) > 1 else ""
    return f"{label}：{text}{more}" if label else f"{text}{more}"


def _message(exc: HTTPException, code: int) -> str:
    # Our own abort() calls carry a Chinese description; Werkzeug's defaults are English.
    default = type(exc).description
    if exc.description and exc.description != default:
        return exc.description
    if code == 405 and getattr(exc, "valid_methods", None):
        return f"该地址不支持 {request.method} 请求（允许：{', '.join(exc.valid_methods)}）。"
    if code == 404 and has_request_context() and not _wants_page():
        return _not_here(request.path)
    return MESSAGES.get(code, STATUS_TEXT.get(code, "错误"))


def _not_here(path: str) -> str:
    """A 404 of the API: the address named, and where to look instead."""
    shown = path if len(path) <= 120 else f"{path[:120]}…"
    if path.rstrip("/").endswith("/healthz"):  # e.g. /api/v1/healthz
        return f"找不到该地址：{shown}。健康检查是 GET /healthz（不在 /api/v1 之下，无需令牌）。"
    return f"找不到该地址或资源：{shown}。接口一览见 /api/v1/openapi.json（/api/v1/docs 可试用）。"


class HetongApi(Api):
    """flask-smorest's Api with our error body documented and produced."""

    ERROR_SCHEMA = ApiErrorSchema

    def handle_http_exception(self, error: HTTPException):
        return http_error(error)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(InvalidData)
    def _invalid(exc: InvalidData):
        return error_response(422, exc.message, exc.errors)

    @app.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return error_response(404, exc.message)

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        # A review decision refused over the credit rules names what is missing and shows
        # the credit it was judged on.
        credit = exc.details.get("credit")
        return error_response(409, exc.message, exc.details.get("errors"),
                              extra={"credit": credit} if credit else None)  # fmt: skip

    @app.errorhandler(FileMissing)
    def _file_missing(exc: FileMissing):
        # The store lost a file the catalogue names (logged where it was found): the answer
        # names the document, so that it can be restored from the backup.
        return error_response(409, exc.message)

    @app.errorhandler(Gone)
    def _gone(exc: Gone):
        if _wants_page():
            return render_template("gone.html", error=exc), 410
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
        # ConverterBusy (every worker busy, queue full) asks for a sooner retry than a crash.
        retry_after = str(getattr(exc, "retry_after", 10))
        return error_response(503, f"文档生成暂不可用：{exc}。未保存任何内容，请稍后重试。",
                              **{"Retry-After": retry_after})  # fmt: skip

    @app.errorhandler(TemplateProblem)
    def _template_problem(exc: TemplateProblem):
        # The active template cannot make this document from these data (a bound it hit, or a
        # condition the upload's trial did not reach): nothing was kept, an administrator acts.
        log.error("template problem: %s", exc)
        message = f"{exc}。未保存任何内容：请管理员检查该模板（模板库），或启用另一版本。"
        return error_response(422, message, errors={"template": [str(exc)]})

    @app.errorhandler(StorageError)
    def _server_fault(exc: Exception):
        log.exception("server fault")
        return error_response(500, "服务器内部错误，已记录日志。")

    @app.errorhandler(ArchiveError)
    def _archive_error(exc: ArchiveError):
        return error_response(400, exc.message)

    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_response(500, MESSAGES[500])
