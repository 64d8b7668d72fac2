"""Pseudonyms for detailed exports: a keyed HMAC of the personal identity
number, and of the source system's case and practitioner ids.

Each customer (care provider) has its own key, derived from the master secret,
so a pseudonym is stable within one customer's exports and cannot be linked
across customers; without the key it cannot be reversed. Each field other than
the patient has a key of its own derived from the customer's, so equal values
in two fields (a case id that happens to equal an HSA id) get unrelated
pseudonyms; the patient keeps the customer key itself, so its pseudonyms stay
those of earlier exports.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

PATIENT = "patient"


def customer_key(master_secret: bytes, customer: str) -> bytes:
    return hmac.new(
        master_secret, b"statflow-pseudonym|" + customer.encode(), hashlib.sha256
    ).digest()


def pseudonym(key: bytes, personal_number: str) -> str:
    if not personal_number:
        return ""
    return hmac.new(key, personal_number.encode(), hashlib.sha256).hexdigest()[:32]


def field_key(customer: bytes, field: str) -> bytes:
    """The key for one field's pseudonyms within one customer."""
    if field == PATIENT:
        return customer
    return hmac.new(customer, b"statflow-field|" + field.encode(), hashlib.sha256).digest()


def field_keys(master_secret: bytes, customer: str, fields: Iterable[str]) -> dict[str, bytes]:
    key = customer_key(master_secret, customer)
    return {f: field_key(key, f) for f in fields}
