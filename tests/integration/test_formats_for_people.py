"""Issue 20 through the running API on real Kafka, Redis and chDB: the CSV
for Swedish Excel (`;`, decimal comma, labelled headers, labels for codes),
English on `lang=en`, the machine CSV kept under `style=machine`, a PDF that
reads like the page, the catalogue's plain definitions, and JSON unchanged
(codes)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from reports import presentation as pres
from reports.ntjp import ACTIVITY_LABELS
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish
from tests.unit.reports.test_presentation import flat, pdftotext

PERIOD = {"from": "2024-01-01", "to": "2024-06-30"}
EVENTS = "/api/v1/reports/webbtidbokning/events-per-month"
COUNTY = "/api/v1/reports/webbtidbokning/bookings-per-county"


def rows_of(body: bytes, delimiter: str) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_pdf_and_catalogue_read_as_swedish(settings: Any, statflow: StatflowProcess) -> None:
    world = make_world(seed=20, n_units=30)
    calls = make_calls(world, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 6, 30, tzinfo=dt.UTC), 3_000, seed=20)  # fmt: skip
    publish(settings, "hsa.units.v1", world.units)
    publish(settings, "scb.population.v1", world.population)
    statflow.start()
    publish(settings, "ntjp.calls.v1", calls)
    n = sum(1 for c in calls if c["operation"] in ("MakeBooking", "CancelBooking", "UpdateBooking"))
    statflow.wait_for(lambda: sum(r[2] for r in statflow.report(
        "webbtidbokning", "events-per-month", **PERIOD)["rows"]) == n, what="all calls")  # fmt: skip

    answer = statflow.report("webbtidbokning", "events-per-month", **PERIOD)
    assert {r[1] for r in answer["rows"]} == {"MakeBooking", "CancelBooking", "UpdateBooking"}

    swedish = rows_of(statflow.get(EVENTS, format="csv", **PERIOD).content, ";")
    assert swedish[0] == ["Månad", "Aktivitet", "Antal händelser"]
    assert swedish[1:] == [[m, ACTIVITY_LABELS[a].sv, str(e)] for m, a, e in answer["rows"]]
    english = rows_of(statflow.get(EVENTS, format="csv", lang="en", **PERIOD).content, ",")
    assert english[0] == ["Month", "Activity", "Events"]
    assert english[1:] == [[m, ACTIVITY_LABELS[a].en, str(e)] for m, a, e in answer["rows"]]
    machine = statflow.get(EVENTS, format="csv", style="machine", **PERIOD).content
    assert machine.startswith(b"\xef\xbb\xbfmonth,activity,events\r\n2024-01,MakeBooking,")
    semicolon = statflow.get(EVENTS, format="csv", style="machine", delimiter="semicolon", **PERIOD)
    assert semicolon.content.startswith(b"\xef\xbb\xbfmonth;activity;events\r\n")
    bad = statflow.get(EVENTS, format="csv", style="pretty", **PERIOD)
    assert bad.status_code == 400 and bad.json()["parameter"] == "style"

    county = statflow.report("webbtidbokning", "bookings-per-county", **PERIOD)
    table = rows_of(statflow.get(COUNTY, format="csv", **PERIOD).content, ";")
    assert table[0][4] == "Bokningar per 1000 invånare"
    for got, want in zip(table[1:], county["rows"], strict=True):
        assert got[0] == want[0] and got[1] == want[1] and got[2] == str(want[2])
        rate = want[4]
        assert got[4] == ("" if rate is None else pres.csv_number("x", rate, "sv"))
        assert "." not in got[4]  # a decimal comma, never a point

    text = flat(pdftotext(statflow.get(EVENTS, format="pdf", **PERIOD).content))
    assert "Antal händelser per månad och aktivitet" in text
    assert "Period: 1 januari–30 juni 2024" in text and "Urval: Alla" in text
    assert "Boka tid" in text and "MakeBooking" not in text
    text_en = flat(pdftotext(statflow.get(EVENTS, format="pdf", lang="en", **PERIOD).content))
    assert "1 January–30 June 2024" in text_en and "Book" in text_en

    listing = statflow.get("/api/v1/reports").json()["reports"]
    events = next(r for r in listing if r["id"] == "events-per-month")
    assert events["description"].startswith("Antal anrop per kalendermånad")
    assert events["description_en"].startswith("Number of calls per calendar month")
