"""Who may read an export: the pure rule (reports.exports.ownership_problem)
over every token kind, every export kind and owner/other."""

from __future__ import annotations

import itertools

import pytest

from core.auth import Caller
from reports.exports import ROLE_OF, owner_of, ownership_problem, stale_files
from reports.pseudonyms import PATIENT, customer_key, field_key, field_keys, pseudonym

ALL_EXPORT_ROLES = tuple(ROLE_OF.values())

# One of every token kind, each with every export role, and the near misses
# that must not pass for it: another person with the same scope, and the same
# person under another scope.
TOKENS: dict[str, Caller] = {
    "staff-a": Caller("anna", ("SE-A",), ALL_EXPORT_ROLES),
    "staff-a-other-person": Caller("bert", ("SE-A",), ALL_EXPORT_ROLES),
    "staff-b": Caller("anna", ("SE-B",), ALL_EXPORT_ROLES),
    "staff-a-and-b": Caller("anna", ("SE-A", "SE-B"), ALL_EXPORT_ROLES),
    "region-01": Caller("rut", (), ("region_admin", *ALL_EXPORT_ROLES), county_code="01"),
    "region-12": Caller("rut", (), ("region_admin", *ALL_EXPORT_ROLES), county_code="12"),
    "region-01-other-person": Caller(
        "sven", (), ("region_admin", *ALL_EXPORT_ROLES), county_code="01"
    ),
    "unit-u1": Caller("ulla", (), ("unit_admin", *ALL_EXPORT_ROLES), unit_ids=("U1",)),
    "unit-u1-u2": Caller("ulla", (), ("unit_admin", *ALL_EXPORT_ROLES), unit_ids=("U1", "U2")),
    "unit-u2": Caller("ulla", (), ("unit_admin", *ALL_EXPORT_ROLES), unit_ids=("U2",)),
    # the same care provider, once as staff and once also as region admin
    "staff-a-region-01": Caller(
        "anna", ("SE-A",), ("region_admin", *ALL_EXPORT_ROLES), county_code="01"
    ),
    "no-care-provider": Caller("anna", (), ALL_EXPORT_ROLES),
    "no-subject": Caller("", ("SE-A",), ALL_EXPORT_ROLES),
}


@pytest.mark.parametrize(
    ("owner", "kind", "reader"),
    list(itertools.product(sorted(TOKENS), sorted(ROLE_OF), sorted(TOKENS))),
)
def test_only_the_creator_under_the_same_scope_reads_an_export(
    owner: str, kind: str, reader: str
) -> None:
    made_by = owner_of(TOKENS[owner])
    why = ownership_problem(TOKENS[reader], made_by, kind)
    if reader == owner and TOKENS[owner].subject:
        assert why is None
    else:
        assert why is not None and ("someone else" in why or "another scope" in why)


def test_the_issue_15_case_an_admin_export_is_not_everyones() -> None:
    region_01 = TOKENS["region-01"]
    job_owner = owner_of(region_01)
    # a region admin of another county, a plain staff member of another care
    # provider: both passed the old `set(job) <= set(caller)` (empty ⊆ anything)
    assert ownership_problem(TOKENS["region-12"], job_owner, "aggregated")
    assert ownership_problem(TOKENS["staff-b"], job_owner, "aggregated")
    assert ownership_problem(region_01, job_owner, "aggregated") is None


def test_reading_needs_the_kinds_role_still() -> None:
    maker = TOKENS["staff-a"]
    job_owner = owner_of(maker)
    for kind, role in ROLE_OF.items():
        without = Caller(maker.subject, maker.care_providers, tuple(r for r in maker.roles
                                                                     if r != role))  # fmt: skip
        why = ownership_problem(without, job_owner, kind)
        assert why is not None and role in why


def test_the_order_of_a_tokens_lists_does_not_matter() -> None:
    a = Caller("anna", ("SE-B", "SE-A"), ("export_aggregated",))
    b = Caller("anna", ("SE-A", "SE-B", "SE-A"), ("export_aggregated",))
    assert ownership_problem(b, owner_of(a), "aggregated") is None


def test_a_job_without_an_owner_or_of_an_unknown_kind_is_nobodys() -> None:
    caller = TOKENS["staff-a"]
    assert ownership_problem(caller, None, "aggregated") is not None
    assert ownership_problem(caller, owner_of(caller), "everything") is not None
    # a job stored before owners were recorded had only these two fields
    legacy = {"subject": "anna", "care_providers": ["SE-A"]}
    assert ownership_problem(caller, legacy, "aggregated") is not None


PNR = "191212121212"


def test_field_pseudonyms_are_per_customer_per_field_and_keep_the_patients() -> None:
    keys_a = field_keys(b"master", "A", (PATIENT, "case_id", "practitioner_id"))
    keys_b = field_keys(b"master", "B", (PATIENT, "case_id", "practitioner_id"))
    # the patient's pseudonym is what it was before fields had keys of their own
    assert pseudonym(keys_a[PATIENT], PNR) == pseudonym(customer_key(b"master", "A"), PNR)
    value = "SE2321000016-ABCD"
    seen = {pseudonym(keys[f], value) for keys in (keys_a, keys_b) for f in keys}
    assert len(seen) == 6, "one value, two customers, three fields: six unrelated pseudonyms"
    assert all(value not in p and len(p) == 32 for p in seen)
    assert pseudonym(keys_a["case_id"], value) == pseudonym(keys_a["case_id"], value)
    assert field_key(customer_key(b"other", "A"), "case_id") != keys_a["case_id"]
    assert pseudonym(keys_a["practitioner_id"], "") == ""


def test_stale_export_files_are_judged_by_their_own_age() -> None:
    job = "0123456789abcdef0123456789abcdef"
    entries = [
        (f"{job}.csv", 1000.0),  # written at 1000, lifetime 60: stale from 1060
        (f"{job[::-1]}.xlsx", 1050.0),
        ("notes.txt", 0.0),  # not an export file: never touched
        (f"{job}.csv.tmp", 0.0),
    ]
    assert stale_files(entries, 1059.0, 60) == []
    assert stale_files(entries, 1060.0, 60) == [f"{job}.csv"]
    assert stale_files(entries, 2000.0, 60) == [f"{job}.csv", f"{job[::-1]}.xlsx"]
