"""Find personal identity numbers in text: any 12-digit run that is a valid one."""

from __future__ import annotations

import re

from core import personnummer

_RUN = re.compile(r"(?<!\d)(\d{8})[-+]?(\d{4})(?!\d)")


def personal_numbers_in(text: str) -> list[str]:
    found = []
    for m in _RUN.finditer(text):
        candidate = m.group(1) + m.group(2)
        if personnummer.problem(candidate) is None:
            found.append(candidate[:8] + "****")  # never print the whole number
    return found
