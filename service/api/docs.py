"""Swagger UI assets served locally (the docs page must work without Internet access)."""

from __future__ import annotations

from flask import Blueprint
from swagger_ui_bundle import swagger_ui_path

assets = Blueprint(
    "swagger_assets", __name__, static_folder=swagger_ui_path,
    static_url_path="/api/v1/docs/assets",
)  # fmt: skip
