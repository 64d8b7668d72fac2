"""Swedish personal identity numbers (personnummer) and coordination numbers.

Only validity is decided here. Messages never repeat the number: it is
personal data and must not reach a log line or a dead-letter reason.
"""

from __future__ import annotations

import datetime as dt
import re


def luhn_digit(nine: str) -> int:
    total = 0
    for i, ch in enumerate(nine):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def problem(value: str) -> str | None:
    """None when `value` is a valid 12-digit number, else why not (without it)."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return "must be 12 digits YYYYMMDDNNNN"
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    if day > 60:  # coordination number: day + 60
        day -= 60
    try:
        dt.date(year, month, day)
    except ValueError:
        return "the date part is not a real date"
    if year < 1850:
        return "the date part is not a plausible birth date"
    if luhn_digit(value[2:11]) != int(value[11]):
        return "the check digit is wrong"
    return None


# Every written form of a personal identity or coordination number (the
# coordination number only adds 60 to the day, so it has the same shape):
# 12 digits (YYYYMMDDNNNN) or 10 (YYMMDDNNNN), with a hyphen, a plus (100 years
# or older), a space, an en dash or nothing between the date and the last four.
# Matched by shape, not by validity: a number with a wrong check digit still
# points at a person. Longer digit runs are taken whole, so no century or
# neighbouring digits are left behind ("19<redacted>").
_ANY_FORM = re.compile(r"\d{6,}[-+\u2013 ]?\d{4,}")
REDACTED = "<redacted>"


def redact(text: str) -> str:
    """`text` with everything that could be a personal identity number replaced."""
    return _ANY_FORM.sub(REDACTED, text)
