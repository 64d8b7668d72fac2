"""The Swedish CSV opens in LibreOffice under a Swedish locale with the right
numbers (issue 20): `;` separates, a decimal comma is a decimal, å/ä/ö survive,
labels stand where codes were. LibreOffice reads the file as Excel would
(import options: `;`, `"`, UTF-8, language sv-SE) and writes an XLSX that
openpyxl reads back as typed cells."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from reports import catalogue, formats
from reports.declarations import ReportParams
from reports.engine import Result

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")


def test_libreoffice_reads_the_swedish_csv_as_numbers(tmp_path: Path) -> None:
    report = catalogue.find("webbtidbokning", "bookings-per-county")
    assert report is not None
    rows = [
        ["01", "Stockholms län", 4716, 2493309, 1.8923396041792895, 120, 130],
        ["00", "Okänt län", 3, None, None, 1, 0],
    ]
    params = ReportParams(dt.date(2025, 1, 1), dt.date(2025, 6, 30), {}, None, "csv", "sv", "",
                          style="table")  # fmt: skip
    result = Result(report, params, report.columns, rows, [], None)
    path = tmp_path / "svar.csv"
    path.write_bytes(formats.render(result)[0])
    out = tmp_path / "out"
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--infilter=CSV:59,34,76,1,,1053", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    sheet = openpyxl.load_workbook(out / "svar.xlsx").worksheets[0]
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == [
        "Länskod",
        "Län",
        "Antal bokningar",
        "Invånare",
        "Bokningar per 1000 invånare",
        "Enheter som använt Boka tid",
        "Enheter anslutna till Boka tid",
    ]
    # numbers, not text: the decimal comma read as a decimal, as on the page (1,89)
    assert got[1][1:] == ["Stockholms län", 4716, 2493309, 1.89, 120, 130]
    assert got[2][1:] == ["Okänt län", 3, None, None, 1, 0]
