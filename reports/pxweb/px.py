"""The PX file of an answer (PC-Axis, the format PxWeb stores tables in); pure.

Keywords in the order the PX specification (Statistics Sweden, 2013) lists
them, UTF-8 (`CODEPAGE="utf-8"`). The stub is every dimension but the month
and the heading the month, so DATA is the cube's values in its own order
(the month varies fastest). A withheld value is `".."`, a cell without a
value `"."`, as in PxWeb.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.labels import Lang
from reports.pxweb.cube import NO_VALUE, WITHHELD, Cube, unit_of
from reports.pxweb.tables import CONTENTS, TIME


def _q(text: str) -> str:
    """A PX string: quoted, quotes and line breaks out (the format has no escape)."""
    return '"' + " ".join(str(text).replace('"', "'").split()) + '"'


def _list(items: list[str]) -> str:
    return ",".join(_q(i) for i in items)


def _number(value: Any, decimals: int) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return f"{float(value):.{decimals}f}"


def render(cube: Cube, lang: Lang, title: str, notes: list[str], now: dt.datetime) -> bytes:
    table = cube.table
    dims = cube.dimensions
    stub = [d for d in dims if d.id != TIME]
    time = next(d for d in dims if d.id == TIME)
    contents = next(d for d in dims if d.id == CONTENTS)
    by_name = {c.name: c for c in table.contents}
    decimals = max((unit_of(by_name[c])[1] for c in contents.codes), default=0)
    lines = [
        'CHARSET="ANSI";',
        'AXIS-VERSION="2013";',
        'CODEPAGE="utf-8";',
        f"LANGUAGE={_q(lang)};",
        f"CREATION-DATE={_q(now.strftime('%Y%m%d %H:%M'))};",
        f"DECIMALS={decimals};",
        f"SHOWDECIMALS={decimals};",
        f"MATRIX={_q(table.id.replace('.', '_').replace('-', '_'))};",
        f"SUBJECT-CODE={_q(table.report.service)};",
        f"SUBJECT-AREA={_q(table.report.service)};",
        f"TITLE={_q(title)};",
        f"CONTENTS={_q(table.report.title(lang))};",
        f"UNITS={_q(unit_of(by_name[contents.codes[0]])[0].text(lang))};",
        f"STUB={_list([d.label for d in stub])};",
        f"HEADING={_q(time.label)};",
        f"CONTVARIABLE={_q(contents.label)};",
    ]
    for d in dims:
        lines.append(f"VALUES({_q(d.label)})={_list([d.labels[c] for c in d.codes])};")
    for d in dims:
        lines.append(f"CODES({_q(d.label)})={_list(d.codes)};")
    for c in contents.codes:
        unit, places = unit_of(by_name[c])
        key = f"{_q(contents.label)},{_q(contents.labels[c])}"
        lines.append(f"UNITS({key})={_q(unit.text(lang))};")
        if places:
            lines.append(f"PRECISION({key})={places};")
    periods = ",".join(_q(c.replace("M", "")) for c in time.codes)
    lines.append(f"TIMEVAL({_q(time.label)})=TLIST(M1),{periods};")
    lines.append(f"SOURCE={_q('statflow')};")
    if notes:
        lines.append(f"NOTEX={_q(' '.join(notes))};")
    lines.append("DATA=")
    width = len(time.codes)
    cells = []
    for pos, value in enumerate(cube.values):
        status = cube.status.get(pos)
        if value is None:
            cells.append(_q(status if status in (WITHHELD, NO_VALUE) else NO_VALUE))
        else:
            places = unit_of(by_name[contents.codes[(pos // width) % len(contents.codes)]])[1]
            cells.append(_number(value, places))
    for start in range(0, len(cells), width):
        lines.append(" ".join(cells[start : start + width]))
    lines[-1] += ";"
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")
