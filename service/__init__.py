"""The web service (Flask) and the command line (click)."""

from service.app import create_app

__all__ = ["create_app"]
