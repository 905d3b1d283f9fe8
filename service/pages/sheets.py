"""Lists as files people open in a spreadsheet: CSV (UTF-8 with a BOM, so that Excel reads
the Chinese) and Excel (.xlsx). Money is written from Decimal: in CSV as ``1234.50``, in
Excel as a number formatted ``#,##0.00``. A text that a spreadsheet would take for a formula
(``=…``, ``+…``, ``-…``, ``@…``) stays text."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from service.downloads import send_download

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}  # fmt: skip
FORMAT_NAMES = {"csv": "CSV", "xlsx": "Excel"}
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Any], Any]
    kind: str = "text"  # text | money (Decimal or its text) | date (ISO text) | number
    width: int = 14


def cut_note(shown: int, total: int) -> str | None:
    """What an export that was cut says about it (None when it holds everything)."""
    if total <= shown:
        return None
    return f"仅导出前 {shown} 条（共 {total} 条）；请缩小筛选范围后分批导出。"


def send(fmt: str, name: str, columns: list[Column], rows: Iterable[Any], *, plain: str,
         note: str | None = None) -> Response:  # fmt: skip
    """The rows as a download ``name.fmt`` (``plain.fmt`` for browsers that only read ASCII
    names); ``note`` (e.g. ``cut_note``) as its last line."""
    data = _xlsx(name, columns, rows, note) if fmt == "xlsx" else _csv(columns, rows, note)
    return send_download(data, f"{name}.{fmt}", FORMATS[fmt], plain=f"{plain}.{fmt}")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _csv(columns: list[Column], rows: Iterable[Any], note: str | None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.title for c in columns])
    for row in rows:
        cells = []
        for column in columns:
            value = column.value(row)
            if value is None or value == "":
                cells.append("")
            elif column.kind == "money":
                cells.append(f"{_money(value):.2f}")
            elif column.kind == "text" and str(value).startswith(_FORMULA):
                cells.append("'" + str(value))
            else:
                cells.append(_text(value))
        writer.writerow(cells)
    if note:
        writer.writerow([])
        writer.writerow([note])
    return out.getvalue().encode("utf-8-sig")


def _xlsx(name: str, columns: list[Column], rows: Iterable[Any], note: str | None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = name[:31].translate(str.maketrans("[]:*?/\\", "（）：＊？／＼"))
    sheet.append([c.title for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for n, row in enumerate(rows, start=2):
        for m, column in enumerate(columns, start=1):
            value = column.value(row)
            if value is None or value == "":
                continue
            cell = sheet.cell(row=n, column=m)
            if column.kind == "money":
                cell.value = _money(value)
                cell.number_format = MONEY_FORMAT
            elif column.kind == "date":
                cell.value = dt.date.fromisoformat(str(value))
                cell.number_format = DATE_FORMAT
            elif column.kind == "number":
                cell.value = value
            else:
                cell.value = _text(value)
                cell.data_type = "s"  # never a formula, whatever it starts with
    if note:
        sheet.cell(row=sheet.max_row + 2, column=1, value=note)
    for m, column in enumerate(columns, start=1):
        sheet.column_dimensions[sheet.cell(row=1, column=m).column_letter].width = column.width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
