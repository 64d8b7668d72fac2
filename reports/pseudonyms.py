"""Pseudonyms for detailed exports: a keyed HMAC of the personal identity number.

Each customer (care provider) has its own key, derived from the master secret,
so a pseudonym is stable within one customer's exports and cannot be linked
across customers; without the key it cannot be reversed.
"""

from __future__ import annotations

import hashlib
import hmac


def customer_key(master_secret: bytes, customer: str) -> bytes:
    return hmac.new(
        master_secret, b"statflow-pseudonym|" + customer.encode(), hashlib.sha256
    ).digest()


def pseudonym(key: bytes, personal_number: str) -> str:
    if not personal_number:
        return ""
    return hmac.new(key, personal_number.encode(), hashlib.sha256).hexdigest()[:32]
