"""Domain errors. Views and CLI commands translate these to 4xx / 503 / exit codes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from schemas import flatten_errors


class ArchiveError(Exception):
    """Base of every error the archive reports to its callers."""

    code = "archive_error"

    def __init__(self, message: str, *, field: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class NotFound(ArchiveError):
    code = "not_found"


class Conflict(ArchiveError):
    """The request is valid but the record's state forbids it (e.g. lifecycle)."""

    code = "conflict"


class Forbidden(ArchiveError):
    """The acting user's role may not do this."""

    code = "forbidden"


class Gone(ArchiveError):
    """The record was destroyed under retention; only its register entry remains."""

    code = "gone"


class FileMissing(ArchiveError):
    """A stored file the catalogue names is missing or damaged (disk damage, a bad restore):
    the message names the document, for whoever restores it from the backup."""

    code = "file_missing"


class CatalogueTooNew(ArchiveError):
    """The catalogue was migrated by a newer hetong: an older program must not touch it (its
    migrations know nothing of the newer schema, and its writes could break it)."""

    code = "catalogue_too_new"


class InvalidData(ArchiveError):
    """Data failed validation; ``errors`` maps dotted field paths to messages."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str]], message: str = "数据校验失败") -> None:
        super().__init__(message)
        self.errors = errors


def validated(schema: Schema, payload: Any) -> dict[str, Any]:
    """``schema.load(payload)``, or ``InvalidData`` naming each bad field by its dotted path."""
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise InvalidData(flatten_errors(exc.messages)) from exc
