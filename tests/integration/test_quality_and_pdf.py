"""Data-quality notes reach every format; PDF answers carry the JSON numbers
(read back with pdftotext). `statflow annotate` goes through the running API,
since the running process owns the chDB path."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from typing import Any

import openpyxl
import orjson

from reports.ntjp import ACTIVITY_LABELS
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import ROOT, StatflowProcess
from tests.integration.kafka_util import publish

PERIOD = {"from": "2024-01-01", "to": "2024-06-30"}
NOTE = "NTjP levererade inga anrop 3–5 mars"


def pdftotext(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                         check=True, timeout=60)  # fmt: skip
    return out.stdout.decode("utf-8")


def test_annotations_in_every_format_and_pdf_numbers(settings: Any,
                                                     statflow: StatflowProcess) -> None:  # fmt: skip
    world = make_world(seed=51, n_units=40)
    calls = make_calls(world, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 6, 30, tzinfo=dt.UTC), 5_000, seed=51)  # fmt: skip
    publish(settings, "hsa.units.v1", world.units)
    publish(settings, "scb.population.v1", world.population)
    statflow.start()
    publish(settings, "ntjp.calls.v1", calls)
    statflow.wait_for(
        lambda: sum(r[2] for r in statflow.report("webbtidbokning", "events-per-month",
                                                  **PERIOD)["rows"]) > 0,
        what="calls ingested",
    )  # fmt: skip
    n = sum(1 for c in calls if c["operation"] in ("MakeBooking", "CancelBooking", "UpdateBooking"))
    statflow.wait_for(lambda: sum(r[2] for r in statflow.report(
        "webbtidbokning", "events-per-month", **PERIOD)["rows"]) == n, what="all calls")  # fmt: skip

    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-m", "statflow", "annotate", "--service", "webbtidbokning",
           "--from", "2024-03-03", "--to", "2024-03-05", "--text", NOTE]  # fmt: skip
    done = subprocess.run(cli, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run([*cli[:-2], "--text", ""], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "text" in bad.stderr

    base = "/api/v1/reports/webbtidbokning/events-per-month"
    answer = statflow.report("webbtidbokning", "events-per-month", **PERIOD)
    assert any(NOTE in n for n in answer["notes"])
    outside = statflow.report("webbtidbokning", "events-per-month", **{"from": "2024-04-01",
                                                                        "to": "2024-06-30"})  # fmt: skip
    assert not any(NOTE in n for n in outside["notes"])

    csv = statflow.get(base, format="csv", **PERIOD)
    assert NOTE in orjson.loads(csv.headers["x-statflow-notes"])[0]
    book = openpyxl.load_workbook(io.BytesIO(statflow.get(base, format="xlsx", **PERIOD).content))
    assert any(NOTE in str(c.value) for row in book["Noter"].iter_rows() for c in row)
    jsonstat = orjson.loads(statflow.get(base, format="jsonstat", **PERIOD).content)
    assert any(NOTE in n for n in jsonstat["note"])

    pdf = statflow.get(base, format="pdf", **PERIOD)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = pdftotext(pdf.content)
    assert "Antal händelser per månad och aktivitet" in text and "NTjP levererade" in text
    for month, activity, events in answer["rows"]:
        # the PDF reads like the page: the activity's label, not its code
        label = ACTIVITY_LABELS[activity].sv
        line = next(ln for ln in text.splitlines() if month in ln and label in ln)
        assert str(events) in line.split()

    county = statflow.report("webbtidbokning", "bookings-per-county", **PERIOD)
    text = pdftotext(statflow.get("/api/v1/reports/webbtidbokning/bookings-per-county",
                                  format="pdf", **PERIOD).content)  # fmt: skip
    for row in county["rows"]:
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(row[0] + " "))
        assert str(row[2]) in line.split()
