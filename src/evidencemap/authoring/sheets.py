"""Extraction sheets as rows of cells: CSV (comma, semicolon or tab separated) and XLSX (the first worksheet).

Row numbers are the spreadsheet's own: the heading row is row 1, the first study row 2, so "row 5" is where a person
finds the study in the sheet.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from pathlib import Path

from evidencemap.errors import DataError


@dataclass(frozen=True)
class SheetRow:
    number: int  # as the spreadsheet numbers it (headings are row 1)
    cells: dict[str, str]  # heading as printed -> the cell's text, stripped

    def get(self, heading: str | None) -> str:
        return self.cells.get(heading, "") if heading else ""


@dataclass(frozen=True)
class Sheet:
    name: str  # the file name, recorded as each extracted fact's dcterms:source
    headings: tuple[str, ...]
    rows: tuple[SheetRow, ...]


def read_sheet(path: Path) -> Sheet:
    """The sheet at ``path`` (``.csv``, ``.tsv`` or ``.xlsx``); rows whose cells are all empty are skipped.

    :raises DataError: for a missing file, another format, or a sheet without headings.
    """
    if not path.is_file():
        raise DataError(f"Extraction sheet {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv", ".txt"}:
        table = _csv_rows(path)
    elif suffix == ".xlsx":
        table = _xlsx_rows(path)
    else:
        raise DataError(f"Cannot read {str(path)!r} as an extraction sheet.", hint="Save it as .csv or .xlsx.")
    if not table or not any(table[0]):
        raise DataError(f"{path}: the first row must hold the column headings (Study ID, Title, Authors, ...).")
    headings = tuple(h.strip() for h in table[0])
    rows = []
    for offset, values in enumerate(table[1:], start=2):
        cells = {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(headings) if h}
        if any(cells.values()):
            rows.append(SheetRow(offset, cells))
    return Sheet(path.name, tuple(h for h in headings if h), tuple(rows))


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text.", hint="Save the sheet as CSV UTF-8.") from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return list(csv.reader(io.StringIO(text), dialect))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
        raise DataError(f"{path}: not a readable XLSX workbook ({exc}).") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
