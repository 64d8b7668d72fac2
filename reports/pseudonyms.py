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
import re
from collections.abc import Iterable

from core import personnummer

PATIENT = "patient"
# Twelve digits in a row somewhere in a hex pseudonym (about 2.5 in 100,000 of
# them) can form a valid personal identity number, which a reader or a data
# scanner would take for one. Such a run's digits become the letters g-p: no
# hex string has them, so the pseudonym stays unique and stable, and every
# other pseudonym is the plain hex it always was.
_TWELVE = re.compile(r"(?=(\d{12}))")
_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def customer_key(master_secret: bytes, customer: str) -> bytes:
    return hmac.new(
        master_secret, b"statflow-pseudonym|" + customer.encode(), hashlib.sha256
    ).digest()


def pseudonym(key: bytes, personal_number: str) -> str:
    if not personal_number:
        return ""
    return _not_a_personal_number(
        hmac.new(key, personal_number.encode(), hashlib.sha256).hexdigest()[:32]
    )


def _not_a_personal_number(digest: str) -> str:
    for m in _TWELVE.finditer(digest):
        if personnummer.problem(m.group(1)) is None:
            at = m.start()
            return _not_a_personal_number(
                digest[:at] + digest[at : at + 12].translate(_AS_LETTERS) + digest[at + 12 :]
            )
    return digest


def field_key(customer: bytes, field: str) -> bytes:
    """The key for one field's pseudonyms within one customer."""
    if field == PATIENT:
        return customer
    return hmac.new(customer, b"statflow-field|" + field.encode(), hashlib.sha256).digest()


def field_keys(master_secret: bytes, customer: str, fields: Iterable[str]) -> dict[str, bytes]:
    key = customer_key(master_secret, customer)
    return {f: field_key(key, f) for f in fields}
