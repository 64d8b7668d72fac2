"""No withheld resident count can be recovered from the other levels or totals.

Issue 15, item 2: a drill-down's levels are separate requests, and a county
shown with all but one of its providers shown gave the withheld provider by
subtraction. On generated data with many small cells, through a real
`statflow run` (Kafka, Redis, chDB), every level of moments-by-hierarchy and
moments-by-moment (one family: a unit's moment is a row of both) and the
gender reports with their totals are fetched for several periods, open to all
and with a partial opt-in list; the attacker of tests/unit/reports/disclosure_checker
(written apart from reports/disclosure.py) then derives what it can by
subtraction across all of them: no withheld cell, and no left-out
organisation's remainder of 1–9, may follow.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.disclosure import NOTE_LINKED, masked
from synth.sob import make_sob_world, make_transactions
from tests.integration.compare import as_dicts, diff
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish
from tests.oracle.sob import expected
from tests.unit.reports.disclosure_checker import Key, attack, key

SERVICE = "stod-och-behandling"
H_LEVELS = ("county", "care_provider", "unit", "moment", "closing_reason")
M_LEVELS = ("moment", "county", "care_provider", "unit")
DIMS = ("county_code", "care_provider_id", "unit_id", "moment", "closing_reason")
PERIODS = (
    {"from": "2023-01-01", "to": "2023-12-31"},
    {"from": "2023-03-01", "to": "2023-05-31"},
    {"from": "2023-06-01", "to": "2023-06-30"},
)


def fetch(proc: StatflowProcess, report: str, **params: Any) -> dict[str, Any]:
    r = proc.get(f"/api/v1/reports/{SERVICE}/{report}", **params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def drilldown_cells(answers: list[dict[str, Any]]) -> tuple[dict[Key, int | None], list[str]]:
    """Every residents cell the drill-down answers show; a cell shown by one
    answer and withheld by another is itself a leak."""
    shown: dict[Key, int | None] = {}
    problems = []
    for a in answers:
        for row in as_dicts(a):
            k = key({d: row[d] for d in DIMS if d in row})
            v = row["residents"]
            if k in shown and shown[k] != v:
                problems.append(f"{k}: {shown[k]!r} in one answer, {v!r} in another")
            shown[k] = v if shown.get(k, v) is not None else None
    return shown, problems


def gender_cells(per_gender: dict[str, Any], per_age: dict[str, Any]) -> dict[Key, int | None]:
    """patients-per-gender (whose shares give the total) with its age breakdown."""
    shown: dict[Key, int | None] = {}
    for row in as_dicts(per_gender):
        shown[key({"gender": row["gender"]})] = row["patients"]
        if row["patients"] and row["share"]:
            shown[()] = round(row["patients"] / row["share"])
    for row in as_dicts(per_age):
        shown[key({"gender": row["gender"], "age_group": row["age_group"]})] = row["patients"]
    return shown


def leaks(shown: dict[Key, int | None], hidden: Any = lambda total, dim: False) -> list[str]:
    out = []
    for k, how in attack(shown, hidden).items():
        if k and k[0][0] == "~remainder":
            if masked(how.value):
                out.append(f"left-out organisations under {how.total}: {how.value}")
        elif k in shown and shown[k] is None:
            out.append(
                f"withheld {dict(k)} = {how.value} from {dict(how.total)} minus {len(how.via)}"
            )
    return out


def check_all(proc: StatflowProcess, hidden: Any) -> tuple[list[str], int, bool]:
    problems: list[str] = []
    nulls, secondary_noted = 0, False
    for period in PERIODS:
        answers = [fetch(proc, "moments-by-hierarchy", **period, level=lv) for lv in H_LEVELS]
        answers += [fetch(proc, "moments-by-moment", **period, level=lv) for lv in M_LEVELS]
        secondary_noted = secondary_noted or any(NOTE_LINKED in a["notes"] for a in answers)
        shown, conflicts = drilldown_cells(answers)
        nulls += sum(v is None for v in shown.values())
        problems += [f"{period} {p}" for p in conflicts + leaks(shown, hidden)]
        genders = gender_cells(fetch(proc, "patients-per-gender", **period),
                               fetch(proc, "patients-per-gender-age", **period))  # fmt: skip
        problems += [f"{period} gender: {p}" for p in leaks(genders)]
    return problems, nulls, secondary_noted


def test_no_withheld_resident_count_follows_from_other_levels(
    settings: Any, statflow: StatflowProcess
) -> None:
    world = make_sob_world(seed=77)
    txs = make_transactions(world, dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
                            dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 2_500, seed=77)  # fmt: skip
    publish(settings, "hsa.units.v1", world.units)
    publish(settings, "hsa.persons.v1", world.practitioners)
    statflow.start()
    publish(settings, "sob.transactions.v1", txs)
    period = PERIODS[0]
    want, _ = expected("moments-per-month", transactions=txs, units=world.units,
                       practitioners=world.practitioners,
                       date_from=dt.date.fromisoformat(period["from"]),
                       date_to=dt.date.fromisoformat(period["to"]))  # fmt: skip

    def ingested() -> bool | list[str]:
        return not diff(as_dicts(fetch(statflow, "moments-per-month", **period)), want,
                        ["month"]) or ["not yet"]  # fmt: skip

    statflow.wait_for(ingested, timeout=240, what="SOB transactions ingested")

    problems, nulls, noted = check_all(statflow, lambda total, dim: False)
    assert nulls > 50, "the data should have many small cells"
    assert not problems, "\n".join(problems[:20])
    assert noted, "cells withheld as a consequence are said so in the notes"

    # Only some care providers opted in: their rows are shown, the others' are
    # left out, and totals still count every unit. Left-out rows are unknowns
    # the attacker reasons about too, wherever a county has any.
    county_of = {u["hsa_id"]: u["county_code"] for u in world.units
                 if u["kind"] == "care_provider"}  # fmt: skip
    providers = sorted(set(world.care_providers))
    opted = providers[::2]
    out_counties = {county_of.get(p, "00") for p in providers if p not in opted}

    def hidden(total: Key, dim: str) -> bool:
        return dim == "care_provider_id" and dict(total).get("county_code") in out_counties

    statflow.stop()
    statflow.settings = settings.with_(open_care_providers=",".join(opted))
    statflow.start()
    problems, nulls, _ = check_all(statflow, hidden)
    assert nulls > 20
    assert not problems, "\n".join(problems[:20])
