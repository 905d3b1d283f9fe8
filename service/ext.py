"""The archive of an application: built from the settings, kept on the app, found by views.

Blueprints reach the archive through ``get_archive()`` (``current_app.extensions``), never
by importing the factory's module.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from archive.core import Archive
from templates.convert import Converter
from templates.render import Renderer

KEY = "hetong.archive"


def build_archive(values: dict[str, Any]) -> Archive:
    """An (unopened) archive from resolved settings."""
    data_dir = Path(values["DATA_DIR"])
    if values["CONVERTER_URL"]:
        converter = Converter(url=values["CONVERTER_URL"], timeout=values["CONVERTER_TIMEOUT"])
    else:
        converter = Converter(
            profile_dir=data_dir / "run" / "libreoffice-profile",
            log_file=data_dir / "run" / "unoserver.log",
            python=values["CONVERTER_PYTHON"],
            timeout=values["CONVERTER_TIMEOUT"],
            start_timeout=values["CONVERTER_START_TIMEOUT"],
        )
    return Archive(
        data_dir=data_dir,
        database_url=values["DATABASE_URL"],
        renderer=Renderer(values["TEMPLATE_DIR"] or None),
        converter=converter,
        number_pattern=values["CONTRACT_NUMBER_PATTERN"],
        delivery_number_pattern=values["DELIVERY_NUMBER_PATTERN"],
        major_share=Decimal(str(values["MAJOR_CHANGE_SHARE"])),
        regions=values["REGIONS"],
        archival_pattern=values["ARCHIVAL_CODE_PATTERN"],
        retention_years=values["RETENTION_YEARS"],
    )


def init_app(app: Flask, archive: Archive) -> None:
    app.extensions[KEY] = archive


def get_archive() -> Archive:
    """The archive of the current application."""
    return current_app.extensions[KEY]
