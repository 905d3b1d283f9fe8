"""The archive of an application: built from the settings, kept on the app, found by views.

Blueprints reach the archive through ``get_archive()`` (``current_app.extensions``), never
by importing the factory's module.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from archive.core import Archive
from templates.convert import Converter
from templates.render import Renderer
from templates.uploads import UploadLimits

KEY = "hetong.archive"


def build_archive(values: dict[str, Any]) -> Archive:
    """An (unopened) archive from resolved settings.

    What the archive holds is nobody else's business on the machine: files it creates are
    readable by its own user (and group) only, the data root by its own user only."""
    os.umask(0o027)
    data_dir = Path(values["DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    converter = build_converter(values, data_dir / "run")
    return Archive(
        data_dir=data_dir,
        database_url=values["DATABASE_URL"],
        renderer=Renderer(values["TEMPLATE_DIR"] or None),
        converter=converter,
        number_pattern=values["CONTRACT_NUMBER_PATTERN"],
        delivery_number_pattern=values["DELIVERY_NUMBER_PATTERN"],
        major_share=Decimal(str(values["MAJOR_CHANGE_SHARE"])),
        regions=values["REGIONS"],
        business_types=_listed(values["BUSINESS_TYPES"]),
        default_business_type=values["DEFAULT_BUSINESS_TYPE"],
        seller=values["SELLER"],
        review_steps=_listed(values["REVIEW_STEPS"]),
        signed_copy_days=int(values["SIGNED_COPY_DAYS"]),
        departments=values["DEPARTMENTS"],
        token_days=values["TOKEN_DAYS"],
        archival_pattern=values["ARCHIVAL_CODE_PATTERN"],
        retention_years=values["RETENTION_YEARS"],
        search_engine=values["SEARCH_ENGINE"],
        zone=values["TIMEZONE"],
        backup_targets=[Path(t) for t in _listed(values["BACKUP_TARGETS"])],
        upload_limits=UploadLimits(
            max_bytes=values["MAX_CONTENT_LENGTH"],
            max_pages=values["UPLOAD_MAX_PAGES"],
            max_decompressed=values["UPLOAD_MAX_DECOMPRESSED"],
            max_page_content=values["UPLOAD_MAX_PAGE_CONTENT"],
            max_text=values["UPLOAD_MAX_TEXT"],
            cpu_seconds=values["UPLOAD_CPU_SECONDS"],
            wall_seconds=values["UPLOAD_WALL_SECONDS"],
            memory_bytes=values["UPLOAD_MEMORY"],
        ),
    )


def build_converter(values: dict[str, Any], run_dir: Path) -> Converter:
    """Conversion hosts when any URL is given; otherwise LibreOffice workers of our own, their
    profiles under ``run_dir`` (the data root's ``run/``, or a temporary folder)."""
    return Converter(
        url=values["CONVERTER_URL"],
        urls=_listed(values["CONVERTER_URLS"]),
        profile_dir=run_dir / "libreoffice-profile",
        log_file=run_dir / "unoserver.log",
        workers=values["CONVERTER_WORKERS"],
        recycle=values["CONVERTER_RECYCLE"],
        queue=values["CONVERTER_QUEUE"],
        queue_wait=values["CONVERTER_QUEUE_WAIT"],
        python=values["CONVERTER_PYTHON"],
        timeout=values["CONVERTER_TIMEOUT"],
        start_timeout=values["CONVERTER_START_TIMEOUT"],
    )


def init_app(app: Flask, archive: Archive) -> None:
    app.extensions[KEY] = archive


def _listed(value: str | list[str]) -> list[str]:
    """A list setting; a TOML file may give it as one comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)


def get_archive() -> Archive:
    """The archive of the current application."""
    return current_app.extensions[KEY]
