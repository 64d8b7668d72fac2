"""1177 e-services end to end on real Kafka, Redis and chDB.

>= 50 000 case events, delivered shuffled with re-published duplicates and
>= 1 % malformed messages, plus logins, accounts and units, through a real
`statflow run`: every cell of every e-tjanster report over several periods
and filters equals the oracle; a unit_admin never sees another unit's row, a
region_admin only its county's; open answers never name staff; bad messages
reach each topic's DLQ with a reason.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from typing import Any

import orjson

from core.auth import issue
from reports import engine, presentation
from schemas.topics import ETJ_CASES, ETJ_LOGINS
from synth.etj import (
    current_units,
    make_accounts,
    make_cases,
    make_etj_world,
    make_logins,
    malformed_etj,
    shuffled_with_duplicates,
)
from tests.integration.compare import as_dicts, diff
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish, read_all
from tests.integration.test_quality_and_pdf import pdftotext
from tests.oracle.etj import expected

SERVICE = "e-tjanster"
SECRET = "test-secret-for-etj-reports-0123456789abcdef"
START, END = dt.datetime(2023, 7, 1, tzinfo=dt.UTC), dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
KEYS = {
    "connected-units": ["unit_id"],
    "cases-per-unit": ["unit_id"],
    "cases-per-case-type": ["case_type", "case_type_kind"],
    "accounts": ["county_code"],
    "handling-times": ["case_type"],
    "logins": ["month", "actor", "method"],
    "unanswered-cases": ["case_id"],
    "case-status": ["unit_id"],
    "case-types-per-unit": ["unit_id"],
}
PLATFORM_WIDE = ("accounts", "logins")


class Data:
    def __init__(self) -> None:
        self.world = make_etj_world(seed=41)
        self.cases = make_cases(self.world, START, END, 13_000, seed=41)
        self.accounts = make_accounts(self.world, START, END, 3_000, seed=42)
        self.logins = make_logins(self.world, START, END, 20_000, seed=43, accounts=self.accounts)

    def want(self, report: str, params: dict[str, Any], caller: Any = None) -> list[Any]:
        filters = {k: v if isinstance(v, list) else [v] for k, v in params.items()
                   if k not in ("from", "to")}  # fmt: skip
        return expected(
            report, cases=self.cases, logins=self.logins, accounts=self.accounts,
            units=self.world.units, persons=self.world.persons,
            date_from=dt.date.fromisoformat(params["from"]),
            date_to=dt.date.fromisoformat(params["to"]), filters=filters or None, caller=caller,
        )  # fmt: skip


def compare(proc: StatflowProcess, data: Data, report: str, params: dict[str, Any],
            token: str | None = None, caller: Any = None) -> tuple[list[str], dict[str, Any]]:  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = proc.get_with(f"/api/v1/reports/{SERVICE}/{report}", headers, **params)
    assert r.status_code == 200, (report, params, r.text)
    answer = r.json()
    if report == "unanswered-cases" and caller is None:
        caller = {}
    return diff(as_dicts(answer), data.want(report, params, caller), KEYS[report]), answer


def cases(data: Data) -> list[tuple[str, dict[str, Any]]]:
    full = {"from": "2023-07-01", "to": "2024-06-30"}
    dst = {"from": "2024-03-15", "to": "2024-04-10"}  # spring DST inside
    month = {"from": "2023-10-01", "to": "2023-10-31"}  # autumn DST inside
    units = current_units(data.world)
    provider = sorted({u["care_provider_id"] for u in units.values()})[0]
    unit = sorted(units)[3]
    out: list[tuple[str, dict[str, Any]]] = []
    for report in KEYS:
        if report == "unanswered-cases":
            continue
        out += [(report, full), (report, dst), (report, month)]
        out.append((report, {**dst, "county": ["01", "00"]}))
        if report not in PLATFORM_WIDE:
            out.append((report, {**full, "care_provider": provider, "care_type": "primarvard"}))
            out.append((report, {**month, "unit": unit, "active_only": "true"}))
    for report in ("cases-per-case-type", "handling-times", "cases-per-unit"):
        out.append((report, {**full, "case_type": ["boka-tid", "fornya-recept"]}))
    out.append(("connected-units", {"from": "2009-01-01", "to": "2024-06-30"}))
    return out


def test_every_etj_report_cell_equals_the_oracle(settings: Any, statflow: StatflowProcess) -> None:
    settings = settings.with_(jwt_secret=SECRET)
    statflow.settings = settings
    data = Data()
    assert len(data.cases) >= 50_000
    bad_cases = malformed_etj("etj.cases.v1", len(data.cases) // 90, seed=44)
    bad_logins = malformed_etj("etj.logins.v1", 200, seed=45)
    stream: list[Any] = shuffled_with_duplicates(data.cases, 0.03, seed=46)
    stream += [raw for raw, _ in bad_cases]
    random.Random(47).shuffle(stream)
    logins: list[Any] = shuffled_with_duplicates(data.logins, 0.02, seed=48)
    logins += [raw for raw, _ in bad_logins]
    random.Random(49).shuffle(logins)

    publish(settings, "etj.units.v1", data.world.units)
    publish(settings, "hsa.persons.v1", data.world.persons)
    publish(settings, "etj.accounts.v1", data.accounts)
    statflow.start()
    publish(settings, "etj.cases.v1", stream)
    publish(settings, "etj.logins.v1", logins)

    full = {"from": "2023-07-01", "to": "2024-06-30"}
    for report in ("handling-times", "logins", "accounts", "case-types-per-unit"):
        statflow.wait_for(lambda r=report: not compare(statflow, data, r, full)[0] or "not yet",
                          timeout=240, what=f"{report} complete")  # fmt: skip

    failures, open_answers = [], []
    for report, params in cases(data):
        problems, answer = compare(statflow, data, report, params)
        open_answers.append(answer)
        if problems:
            failures.append(f"{report} {params}:\n  " + "\n  ".join(problems))
    assert not failures, "\n".join(failures[:10])
    assert any(r[2] is None for a in open_answers if a["report"] == "accounts" for r in a["rows"])

    # Open answers never name staff: no person's id or full name anywhere.
    text = "\n".join(orjson.dumps(a).decode() for a in open_answers)
    for p in data.world.persons:
        assert p["hsa_id"] not in text
        assert f"{p['given_name']} {p['family_name']}" not in text
    r = statflow.get(f"/api/v1/reports/{SERVICE}/unanswered-cases")
    assert r.status_code == 403

    # Admin tiers: a unit_admin sees its own units only, a region_admin its county.
    units = current_units(data.world)
    mine = sorted(units)[:2]
    unit_token = issue(SECRET, "ua", [], ["unit_admin"], unit_ids=mine)
    region_token = issue(SECRET, "ra", [], ["region_admin"], county_code="12")
    for report in ("cases-per-unit", "case-status", "unanswered-cases", "handling-times",
                   "connected-units", "case-types-per-unit"):  # fmt: skip
        params = {"from": "2009-01-01" if report == "connected-units" else "2023-07-01",
                  "to": "2024-06-30"}  # fmt: skip
        problems, answer = compare(statflow, data, report, params, unit_token,
                                   {"role": "unit_admin", "unit_ids": mine})  # fmt: skip
        assert not problems, (report, problems)
        names = [c["name"] for c in answer["columns"]]
        if "unit_id" in names:
            seen = {row[names.index("unit_id")] for row in answer["rows"]}
            assert seen and seen <= set(mine), (report, seen)
        problems, answer = compare(statflow, data, report, params, region_token,
                                   {"role": "region_admin", "county_code": "12"})  # fmt: skip
        assert not problems, (report, problems)
    foreign = statflow.get_with(f"/api/v1/reports/{SERVICE}/cases-per-unit",
                                {"Authorization": f"Bearer {unit_token}"},
                                unit=sorted(units)[5])  # fmt: skip
    assert foreign.status_code == 403
    answer = compare(statflow, data, "unanswered-cases", full, unit_token,
                     {"role": "unit_admin", "unit_ids": mine})[1]  # fmt: skip
    assert any(row[7] for row in answer["rows"]), "logged-in answers name the assignee"

    # Every malformed message reached its DLQ with a reason.
    dlq = read_all(settings, ETJ_CASES.dlq(settings), len(bad_cases))
    assert len(dlq) == len(bad_cases)
    assert all(dict(m.headers)["error"] for m in dlq)
    assert len(read_all(settings, ETJ_LOGINS.dlq(settings), len(bad_logins))) == len(bad_logins)

    # PDF: every report is an A4 page with its title; the numbers are the JSON's.
    for report in KEYS:
        headers = {"Authorization": f"Bearer {unit_token}"} if report == "unanswered-cases" else {}
        r = statflow.get_with(f"/api/v1/reports/{SERVICE}/{report}", headers, format="pdf", **full)
        assert r.status_code == 200 and r.content.startswith(b"%PDF"), report
        answer = statflow.get_with(f"/api/v1/reports/{SERVICE}/{report}", headers, **full).json()
        text = pdftotext(r.content)
        assert answer["title"] in text, report
        if report in ("cases-per-unit", "handling-times", "case-status"):
            # the PDF's table reads as the page's: labels for codes, numbers
            # grouped by thin spaces (issue 20)
            rep = engine.lookup(SERVICE, report)
            keep = presentation.code_columns(rep.columns)
            labels = presentation.service_labels(SERVICE)
            lines = [_ungrouped(ln).strip() for ln in text.splitlines()]
            for row in answer["rows"]:
                first = presentation.cell_text(rep.columns[0], row[0], labels, "sv", keep)
                line = next(ln for ln in lines if ln.startswith(first + " "))
                assert all(str(v) in line.split() for v in row[2:4] if isinstance(v, int)), line


def _ungrouped(line: str) -> str:
    """Thousands written as the page writes them ("1 234") read as one number."""
    return re.sub(r"(?<=\d)[ \u00a0\u202f](?=\d{3}(?!\d))", "", line)
