"""Regenerate the corpus files that cannot be written in a text editor (run from the repository root).

    .venv/bin/python tests/corpus/make_binary.py

Writes data/*.xlsx (a good workbook, a header-only one, one with bad cells, one with percent-formatted
numbers and formula errors, one cut in half, a CSV named .xlsx, a zip that is no workbook), data/gbk.csv (valid GB18030), data/bom-gbk-mix.csv (a UTF-8 BOM, then
a GBK line), data/utf8-invalid-byte.csv (UTF-8 with a damaged byte on line 3), data/utf16.csv,
data/old-format.xls (an OLE2 header), data/crlf.csv and data/cr-only.csv (Windows and old Mac line
ends) and criteria/gbk-encoded.yaml (base.yaml saved as GBK). The text cases are plain files: edit them directly.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
HEADER = "支部编码,支部名称,乡镇,类型,期间,集体收入(万元),户数,完成率(%),网格化,评议等次,案件数"
ROWS = [
    "001,甲村,城关镇,农村,2024-Q1,55,300,90,是,好,0",
    "002,乙村,城关镇,农村,2024-Q1,25,80,70%,否,较好,",
    "003,丙村,南关镇,农村,2024-Q1,5,120,96,是,差,1",
]


def workbook(name: str, lines: list[str]) -> None:
    book = xlsxwriter.Workbook(str(DATA / name))
    book.set_properties({"created": datetime.datetime(2000, 1, 1)})  # reproducible bytes
    sheet = book.add_worksheet("Sheet1")
    for r, line in enumerate(lines):
        for c, value in enumerate(line.split(",")):
            if value:
                sheet.write_string(r, c, value)
    book.close()


def excel_cells(name: str) -> None:
    """Percent-formatted rates (stored 0.9, shown 90%: fine) and two formula errors (#DIV/0!, #N/A: bad cells)."""
    book = xlsxwriter.Workbook(str(DATA / name))
    book.set_properties({"created": datetime.datetime(2000, 1, 1)})
    sheet = book.add_worksheet("Sheet1")
    percent = book.add_format({"num_format": "0%"})
    for c, value in enumerate(HEADER.split(",")):
        sheet.write_string(0, c, value)
    for r, line in enumerate(ROWS, start=1):
        for c, value in enumerate(line.split(",")):
            if c == 7:  # 完成率(%): the number Excel stores for "90%"
                sheet.write_number(r, c, float(value.rstrip("%")) / 100, percent)
            elif value:
                sheet.write_string(r, c, value)
    sheet.write_formula(2, 10, "=1/0", None, "#DIV/0!")
    sheet.write_formula(3, 5, "=NA()", None, "#N/A")
    book.close()


def main() -> None:
    workbook("ok.xlsx", [HEADER, *ROWS])
    workbook("header-only.xlsx", [HEADER])
    workbook("bad-cells.xlsx", [HEADER, ROWS[0].replace(",55,", ",abc,"), ROWS[1], ROWS[2].replace(",差,", ",优秀,")])
    excel_cells("excel-cells.xlsx")
    good = (DATA / "ok.xlsx").read_bytes()
    (DATA / "truncated.xlsx").write_bytes(good[: len(good) // 2])
    (DATA / "not-really.xlsx").write_bytes((HEADER + "\n" + ROWS[0] + "\n").encode())
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("hello.txt", date_time=(2000, 1, 1, 0, 0, 0)), "not a workbook")
    (DATA / "zip-not-workbook.xlsx").write_bytes(buffer.getvalue())

    (DATA / "gbk.csv").write_bytes(("\n".join([HEADER, ROWS[0], ROWS[1]]) + "\n").encode("gb18030"))
    (DATA / "bom-gbk-mix.csv").write_bytes(
        b"\xef\xbb\xbf" + (HEADER + "\n" + ROWS[0] + "\n").encode() + (ROWS[1] + "\n").encode("gbk"))
    (DATA / "bom-gbk-line-start.csv").write_bytes(  # the GBK bytes open line 3: the line must still be 3
        b"\xef\xbb\xbf" + (HEADER + "\n" + ROWS[0] + "\n").encode() + "乙村,002,城关镇\n".encode("gbk"))
    damaged = b"002,\xe4\xb9\x99\xff\x9d\x91," + ROWS[1].split(",", 2)[2].encode() + b"\n"
    (DATA / "utf8-invalid-byte.csv").write_bytes((HEADER + "\n" + ROWS[0] + "\n").encode() + damaged)

    ok = "\n".join([HEADER, *ROWS]) + "\n"
    (DATA / "utf16.csv").write_bytes(ok.encode("utf-16"))
    (DATA / "old-format.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    bad = [HEADER, ROWS[0].replace(",55,", ",abc,"), ROWS[1], ROWS[2].replace(",96,", ",196,")]
    (DATA / "crlf.csv").write_bytes(("\r\n".join(bad) + "\r\n").encode())
    (DATA / "cr-only.csv").write_bytes(("\r".join(bad) + "\r").encode())

    base = (HERE / "base.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    head = "# case gbk-encoded: the criteria file saved as GBK, not UTF-8\n#\n"
    (HERE / "criteria" / "gbk-encoded.yaml").write_bytes((head + "".join(base[2:])).encode("gb18030"))
    head = "# case bom-then-gbk: a UTF-8 BOM, then a GBK key opening line 4\n#\n"
    text = head + "".join(base[2:])
    (HERE / "criteria" / "bom-then-gbk.yaml").write_bytes(
        b"\xef\xbb\xbf" + text.replace("schema_version: 1\n", "schema_version: 1\n名称: x\n", 1).encode()
        .replace("名称".encode(), "名称".encode("gbk")))


if __name__ == "__main__":
    main()
