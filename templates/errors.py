"""Rendering errors, independent of HTTP."""

from __future__ import annotations


class RenderError(Exception):
    """A template could not be filled or converted."""


class TemplateProblem(RenderError):
    """The template itself is broken or asks for data it does not get."""


class ConverterUnavailable(RenderError):
    """LibreOffice could not be started, crashed, or hung: retry later (503)."""

    retry_after = 10  # seconds, for the Retry-After header


class ConverterBusy(ConverterUnavailable):
    """Every converter worker is busy and the queue of waiting callers is full: retry soon."""

    retry_after = 2


class FontMissing(RenderError):
    """The CJK font the template asks for is not installed: refusing to substitute."""
