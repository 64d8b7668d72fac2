"""Sweden's 21 counties with SCB's county codes (län), and the unknown county.

Reports need the complete county axis even where no event fell, so the list is
part of the contract rather than something learnt from data.
"""

from __future__ import annotations

COUNTIES: dict[str, str] = {
    "01": "Stockholms län",
    "03": "Uppsala län",
    "04": "Södermanlands län",
    "05": "Östergötlands län",
    "06": "Jönköpings län",
    "07": "Kronobergs län",
    "08": "Kalmar län",
    "09": "Gotlands län",
    "10": "Blekinge län",
    "12": "Skåne län",
    "13": "Hallands län",
    "14": "Västra Götalands län",
    "17": "Värmlands län",
    "18": "Örebro län",
    "19": "Västmanlands län",
    "20": "Dalarnas län",
    "21": "Gävleborgs län",
    "22": "Västernorrlands län",
    "23": "Jämtlands län",
    "24": "Västerbottens län",
    "25": "Norrbottens län",
}

UNKNOWN_COUNTY = "00"
UNKNOWN_COUNTY_NAME = "Okänt län"


def county_name(code: str) -> str:
    return COUNTIES.get(code, UNKNOWN_COUNTY_NAME)
