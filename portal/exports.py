"""CSV exports: streamed, one line at a time, with cells a spreadsheet will not run."""

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse

# What makes a spreadsheet read a cell as a formula, leading spaces ignored (full-width forms
# included: some spreadsheets fold them).
_FORMULA_STARTS = set("=+-@\t\r;|") | set("\uff1d\uff0b\uff0d\uff20")


def csv_cell(value) -> str | int | Decimal:
    """A cell a spreadsheet will not run as a formula; numbers stay numbers."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.lstrip(" ")[:1] in _FORMULA_STARTS else text


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """CSV lines, the header first, each row's cells made safe (for a streaming response)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells):
        writer.writerow([csv_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(header)
    for row in rows:
        yield line(row)


def csv_response(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
