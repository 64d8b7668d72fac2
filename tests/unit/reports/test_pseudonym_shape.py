"""A pseudonym never reads as a personal identity number."""

from __future__ import annotations

import hashlib
import hmac
import re

from core import personnummer
from reports.pseudonyms import pseudonym

KEY = b"k" * 32
_RUN = re.compile(r"(?=(\d{12}))")


def _valid_runs(text: str) -> list[str]:
    return [m.group(1) for m in _RUN.finditer(text) if personnummer.problem(m.group(1)) is None]


def _plain(value: str) -> str:
    return hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()[:32]


def test_a_digest_holding_a_valid_number_is_lettered_and_no_other_changes() -> None:
    lettered = 0
    for i in range(200_000):
        value = f"19{i:010d}"
        plain, got = _plain(value), pseudonym(KEY, value)
        assert len(got) == 32 and not _valid_runs(got)
        if _valid_runs(plain):
            lettered += 1
            assert got != plain and re.search("[g-p]", got)
            # only the digits of the run changed: the rest is the digest
            assert [a == b for a, b in zip(got, plain, strict=True)].count(False) <= 12 * 2
        else:
            assert got == plain  # the pseudonyms of earlier exports stay
    assert lettered > 0  # the case this guards did occur (about 2.5 in 100,000)
