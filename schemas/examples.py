"""One valid example message per topic, shown to publishing teams in the
AsyncAPI document (tests/unit/test_asyncapi.py decodes each with its contract,
so an example can never drift from what statflow accepts)."""

from __future__ import annotations

EXAMPLES: dict[str, dict[str, object]] = {
    "ntjp.calls.v1": {
        "event_id": "3f0c9a1e-ntjp-0001",
        "occurred_at": "2024-03-04T09:15:00+01:00",
        "operation": "MakeBooking",
        "logical_address": "SE2321000016-7P35",
        "consumer_id": "SE2321000016-1177",
        "status": "ok",
    },
    "sob.transactions.v1": {
        "event_id": "sob-0001",
        "occurred_at": "2024-03-04T09:15:00+01:00",
        "case_id": "case-0001",
        "case_type": "remiss",
        "status": "open",
        "process_name": "Remisshantering",
        "moment_name": "Mottagen",
        "care_provider_id": "SE2321000016-0001",
        "care_unit_id": "SE2321000016-7P35",
        "patient_age": 54,
    },
    "hsa.units.v1": {
        "hsa_id": "SE2321000016-7P35",
        "name": "Vårdcentral Exempel",
        "kind": "unit",
        "county_code": "01",
        "updated_at": "2024-03-01T00:00:00Z",
        "care_provider_id": "SE2321000016-0001",
    },
    "hsa.persons.v1": {
        "hsa_id": "SE2321000016-P001",
        "given_name": "Anna",
        "family_name": "Exempel",
        "care_provider_id": "SE2321000016-0001",
    },
    "ntjp.routing.v1": {
        "logical_address": "SE2321000016-7P35",
        "operation": "MakeBooking",
        "active_from": "2024-01-01",
        "active_to": None,
    },
    "scb.population.v1": {"county_code": "01", "year": 2024, "population": 2454821},
    "etj.cases.v1": {
        "event_id": "etj-case-0001-received",
        "occurred_at": "2024-03-04T09:15:00+01:00",
        "case_id": "etj-case-0001",
        "unit_id": "SE2321000016-7P35",
        "case_type": "boka-tid",
        "case_type_kind": "standard",
        "event": "received",
    },
    "etj.logins.v1": {
        "event_id": "etj-login-0001",
        "occurred_at": "2024-03-04T09:14:00+01:00",
        "account_id": "acct-7f3a9c",
        "actor": "resident",
        "method": "bankid",
        "county_code": "01",
    },
    "etj.accounts.v1": {
        "account_id": "acct-7f3a9c",
        "actor": "resident",
        "created_at": "2023-11-02T12:00:00Z",
        "deleted_at": None,
    },
    "etj.units.v1": {
        "unit_id": "SE2321000016-7P35",
        "name": "Vårdcentral Exempel",
        "care_provider_id": "SE2321000016-0001",
        "county_code": "01",
        "care_type": "primarvard",
        "activated_on": "2023-01-01",
        "active": True,
        "case_types": [{"id": "boka-tid", "kind": "standard", "active": True}],
    },
}
