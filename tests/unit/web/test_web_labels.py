"""The pages' labels come from the report declarations (issue 16): every
filter, level and code the catalogue has is labelled there in both languages,
and `web/static/` names no service, report, filter, level or labelled code, so
a new service needs no edit there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reports import catalogue, labels
from reports.labels import Label, LabelConflict, Labels
from web.app import meta

STATIC = Path(__file__).resolve().parents[3] / "web" / "static"
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")


def _scan(text: str, i: int, out: set[str], close: str = "") -> int:
    """Collect the string literals, template text and `key:` names of JS
    source from `i`; stop after `close` (the `}` ending a template's `${`)."""
    depth = 0
    while i < len(text):
        ch = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif ch in "\"'":
            j = i + 1
            while text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            out.add(text[i + 1 : j])
            i = j + 1
        elif ch == "`":
            i, part = i + 1, []
            while text[i] != "`":
                if text.startswith("${", i):
                    out.add("".join(part))
                    part = []
                    i = _scan(text, i + 2, out, close="}")
                else:
                    part.append(text[i : i + 2] if text[i] == "\\" else text[i])
                    i += len(part[-1])
            out.add("".join(part))
            i += 1
        elif ch == "{":
            depth += 1
            i += 1
        elif ch == "}":
            if close and depth == 0:
                return i + 1
            depth -= 1
            i += 1
        elif m := _IDENT.match(text, i):
            rest = text[m.end() :].lstrip(" ")
            if rest.startswith(":") and not rest.startswith("::"):
                out.add(m.group())
            i = m.end()
        else:
            i += 1
    return i


def _declared() -> Labels:
    return labels.merged([labels.SHARED, *(s.labels for s in catalogue.SERVICES)])


def _names_the_pages_must_not_hardcode() -> set[str]:
    out: set[str] = set()
    declared = _declared()
    for svc in catalogue.SERVICES:
        out.add(svc.id)
        for r in svc.reports:
            out.update((r.id, *r.filters, *r.levels))
    out.update(declared.filters, declared.levels, declared.missing, declared.operations)
    for dim, codes in declared.values.items():
        out.add(dim)
        out.update(codes)
    # Single letters (gender codes F/M/U) cannot be told from code; they are
    # still served, not written, because the value table is gone from app.js.
    return {n for n in out if len(n) > 1}


def _js_literals() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(STATIC.glob("*.js")):
        literals: set[str] = set()
        _scan(path.read_text(encoding="utf-8"), 0, literals)
        found[path.name] = literals
    return found


def test_every_filter_level_and_code_is_labelled_in_both_languages() -> None:
    declared = _declared()
    for svc in catalogue.SERVICES:
        for r in svc.reports:
            where = f"{svc.id}/{r.id}"
            for name in r.filters:
                assert name in declared.filters, f"{where}: filter {name!r} has no label"
            for name in r.levels:
                assert name in declared.levels, f"{where}: level {name!r} has no label"
    served = meta()["labels"]["text"]
    for lang in labels.LANGS:
        assert served[lang]["filters"].keys() == declared.filters.keys()
        assert all(served[lang]["filters"].values()) and all(served[lang]["levels"].values())
    assert served["sv"]["filters"]["care_provider"] == "Vårdgivare"
    assert served["en"]["levels"]["closing_reason"] == "closing reason"
    assert served["en"]["values"]["activity"]["MakeBooking"] == "Book"
    assert served["sv"]["missing"]["closing_reason"] == "Ej avslutat"


def test_the_pages_name_no_service_report_filter_level_or_code() -> None:
    forbidden = _names_the_pages_must_not_hardcode()
    assert {
        "webbtidbokning",
        "county",
        "care_provider",
        "MakeBooking",
        "closing_reason",
    } <= forbidden
    for name, literals in _js_literals().items():
        hardcoded = sorted(literals & forbidden)
        assert not hardcoded, (
            f"web/static/{name} names {hardcoded}: declare the label in reports/ "
            "(a service's `labels` or reports/labels.py) and read it from /api/v1/meta"
        )


def test_every_report_filter_has_an_input_kind() -> None:
    m = meta()
    for svc in catalogue.SERVICES:
        for r in svc.reports:
            inputs = m["reports"][f"{svc.id}/{r.id}"]["inputs"]
            assert list(inputs) == list(r.filters)
            assert set(inputs.values()) <= {"counties", "choices", "names", "hsa_ids"}
            for name, kind in inputs.items():
                assert (kind == "choices") == (name in r.choices and name != "county")


def test_a_name_declared_twice_must_read_the_same() -> None:
    a = Labels(filters={"unit": Label("Enhet", "Unit")})
    assert labels.merged([a, a]).filters == {"unit": Label("Enhet", "Unit")}
    with pytest.raises(LabelConflict, match="'unit'"):
        labels.merged([a, Labels(filters={"unit": Label("Enheter", "Unit")})])


def test_every_script_module_is_local() -> None:
    """app.js is split into modules; each must stay as local as app.js was
    (tests/browser checks app.js and chart.js over HTTP)."""
    scripts = sorted(STATIC.glob("*.js"))
    assert {"app.js", "chart.js", "common.js", "i18n.js", "report.js"} <= {p.name for p in scripts}
    for path in scripts:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), path.name
        for target in re.findall(r'^import .* from "([^"]+)";$', text, flags=re.MULTILINE):
            assert re.fullmatch(r"\./[a-z0-9_]+\.js", target), (path.name, target)
            assert (STATIC / target[2:]).is_file(), (path.name, target)
