"""Swedish personal identity numbers (personnummer): validation and test numbers.

The contract carries `patient_id` as 12 digits `YYYYMMDDNNNC`. The check digit C
is the Luhn digit of the ten digits `YYMMDDNNN` — the century is not part of it,
which is why a 12-digit number is checked on its last eleven digits. A
coordination number (samordningsnummer) adds 60 to the day, so day 61–91 is a
valid day 1–31.

Synthetic data must never name a real person, so the generator only draws from
Skatteverket's published test series: birth serial numbers 980–999. This module
does no I/O, so the contract's validator can import it on the hot path.
"""

from __future__ import annotations

import datetime as dt
import random

# Skatteverket reserves these birth serial numbers for test persons; no real
# person is ever assigned one.
TEST_SERIALS = range(980, 1000)
COORDINATION_OFFSET = 60
EARLIEST_YEAR = 1850


def _luhn_digit(nine: str) -> int:
    total = 0
    for i, ch in enumerate(nine):
        product = int(ch) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def luhn_ok(pnr12: str) -> bool:
    """True when the last digit is the Luhn check digit of `YYMMDDNNN`."""
    if len(pnr12) != 12 or not pnr12.isascii() or not pnr12.isdigit():
        return False
    return _luhn_digit(pnr12[2:11]) == int(pnr12[11])


def birth_date(pnr12: str) -> dt.date | None:
    """The date the number encodes (coordination day folded back), or None."""
    if len(pnr12) != 12 or not pnr12.isascii() or not pnr12.isdigit():
        return None
    year, month, day = int(pnr12[0:4]), int(pnr12[4:6]), int(pnr12[6:8])
    if day > COORDINATION_OFFSET:
        day -= COORDINATION_OFFSET
    # Nobody born before 1850 is a patient (ages stop at 130); the contract's
    # decoder draws the same line, so both agree on every input.
    if year < EARLIEST_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def is_valid_personnummer(s: str) -> bool:
    """12 ASCII digits, a real date from 1850 on (day + 60 allowed), a right check digit."""
    return birth_date(s) is not None and luhn_ok(s)


def is_test_personnummer(s: str) -> bool:
    """Valid and inside Skatteverket's test series (serial 980–999)."""
    return is_valid_personnummer(s) and int(s[8:11]) in TEST_SERIALS


def with_check_digit(first11: str) -> str:
    """Append the Luhn digit to `YYYYMMDDNNN`; used to build deliberately odd numbers too."""
    return first11 + str(_luhn_digit(first11[2:11]))


def test_personnummer(
    rng: random.Random, born: dt.date, gender: str, *, coordination: bool = False
) -> str:
    """A test-series number for someone born on `born`.

    The serial's last digit carries legal gender (odd male, even female); for
    `U` or anything else either parity is drawn, as the number itself always
    has one.
    """
    if gender == "M":
        parity = 1
    elif gender == "F":
        parity = 0
    else:
        parity = rng.randrange(2)
    serial = rng.choice([s for s in TEST_SERIALS if s % 2 == parity])
    day = born.day + (COORDINATION_OFFSET if coordination else 0)
    return with_check_digit(f"{born.year:04d}{born.month:02d}{day:02d}{serial:03d}")


# pytest collects module-level names starting with `test` when a test module
# imports them; this is a generator, not a test.
test_personnummer.__test__ = False  # type: ignore[attr-defined]
