"""Word templates, the code that fills them (docxtpl) and turns them into PDF (LibreOffice)."""

from pathlib import Path

BUNDLED = Path(__file__).resolve().parent
