"""The raw tables' columns are derived from the contracts' structs: every field
a column, optional text '' when absent (text columns are not Nullable), other
optional fields NULL, and where each event was read."""

from __future__ import annotations

import datetime as dt

from schemas.etj import EtjCase, EtjLogin
from schemas.events import NtjpCall, SobTransaction
from schemas.pipeline import RawMessage
from sinks.etj import case_columns, login_columns
from sinks.events import contract_columns
from sinks.ntjp import call_columns
from sinks.sob import sob_columns

AT = dt.datetime(2024, 3, 4, 9, 15, tzinfo=dt.timezone(dt.timedelta(hours=1)))


def read(i: int) -> RawMessage:
    return RawMessage("t", 2, 40 + i, None, None)


def test_every_field_is_a_column_and_optional_text_is_blank() -> None:
    sob = SobTransaction("e1", AT, "c1", "Process", "Inprogress", "P", "M", "SE1", "SE2")
    got = sob_columns([(read(0), sob)], {})
    assert list(got) == [*SobTransaction.__struct_fields__, "source_partition", "source_offset"]
    assert got["practitioner_id"] == [""] and got["patient_gender"] == [""]
    assert got["patient_age"] == [None]  # a number stays NULL
    assert got["occurred_at"] == [AT] and (got["source_partition"], got["source_offset"]) == (
        [2],
        [40],
    )


def test_the_services_add_only_what_is_not_in_the_contract() -> None:
    call = NtjpCall("e1", AT, "MakeBooking", "SE-U1")
    got = call_columns([(read(0), call)], {"SE-U1": "01"})
    derived = contract_columns(NtjpCall)([(read(0), call)])
    assert {k: v for k, v in got.items() if k in derived} == derived
    assert (got["county_at_ingest"], got["calls"], got["consumer_id"]) == (["01"], [1], [""])
    case = EtjCase("e2", AT, "c1", "SE-U1", "boka-tid", "standard", "received")
    assert case_columns([(read(1), case)], {})["assignee_id"] == [""]
    login = EtjLogin("e3", AT, "a1", "resident", "bankid")
    assert login_columns([(read(2), login)], {})["county_code"] == [""]
