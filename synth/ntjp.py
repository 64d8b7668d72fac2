"""Synthetic web-booking (webbtidbokning) data: an HSA world, its NTjP routing,
SCB population, and calls through the national service platform.

The data is shaped to make the report rules matter, not just to look busy:
units are spread over the counties by population and belong to regions or to
private care providers that span counties; one unit moves county (reports must
use the *current* catalogue); a few logical addresses are missing from the
catalogue (county 00); routing has gaps, ended and late contracts whose dates
fall on month ends (so an inclusive/exclusive slip on `active_to` shows); and
calls are written with mixed UTC offsets and placed on Stockholm midnights,
month ends and DST-change days (so bucketing in UTC, or in a fixed offset,
shows). Everything is deterministic in the seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.counties import COUNTIES
from synth.population import population, population_records
from synth.timing import STHLM, Picker, local_midnight, uuid4

OPERATIONS: tuple[str, ...] = (
    "MakeBooking",
    "CancelBooking",
    "UpdateBooking",
    "GetSubjectOfCareSchedule",
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "GetAllTimeTypes",
)
# A unit is connected to web booking when all four of these are routed to it.
BOOKING_CONTRACTS: tuple[str, ...] = (
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "MakeBooking",
    "GetAllTimeTypes",
)

# Most traffic is residents looking: their own bookings and free times. Only a
# fraction ends in a booking, fewer in a cancellation or a rescheduling.
OPERATION_WEIGHTS: dict[str, float] = {
    "GetSubjectOfCareSchedule": 0.28,
    "GetAvailableTimeslots": 0.19,
    "GetAvailableDates": 0.17,
    "MakeBooking": 0.13,
    "GetAllTimeTypes": 0.10,
    "CancelBooking": 0.08,
    "UpdateBooking": 0.05,
}

# Relative call volume by Stockholm hour: quiet nights, a morning peak when
# clinics open their books, a smaller evening peak after work.
_HOUR_WEIGHT = (
    0.04, 0.03, 0.02, 0.02, 0.03, 0.07, 0.25, 0.70, 1.00, 0.95, 0.85, 0.75,
    0.70, 0.75, 0.70, 0.60, 0.50, 0.45, 0.45, 0.55, 0.55, 0.40, 0.22, 0.09,
)  # fmt: skip
# ISO weekday 1..7 (index 0 unused): Monday busiest, weekends about half.
_WEEKDAY_WEIGHT = (0.0, 1.00, 0.93, 0.90, 0.88, 0.78, 0.42, 0.50)
# Summer holidays and Christmas are quieter.
_MONTH_WEIGHT = (0.0, 1.0, 1.0, 1.0, 0.95, 0.95, 0.85, 0.65, 0.9, 1.0, 1.0, 1.0, 0.85)
_MAX_WEIGHT = max(_HOUR_WEIGHT) * max(_WEEKDAY_WEIGHT) * max(_MONTH_WEIGHT)

UNKNOWN_SHARE = 0.015
ERROR_SHARE = 0.02

# The regions: organisation number (the HSA-id prefix) and name, by county.
_REGIONS: dict[str, tuple[str, str]] = {
    "01": ("2321000016", "Region Stockholm"),
    "03": ("2321000024", "Region Uppsala"),
    "04": ("2321000032", "Region Sörmland"),
    "05": ("2321000040", "Region Östergötland"),
    "06": ("2321000057", "Region Jönköpings län"),
    "07": ("2321000065", "Region Kronoberg"),
    "08": ("2321000073", "Region Kalmar län"),
    "09": ("2120000803", "Region Gotland"),
    "10": ("2321000081", "Region Blekinge"),
    "12": ("2321000255", "Region Skåne"),
    "13": ("2321000115", "Region Halland"),
    "14": ("2321000131", "Västra Götalandsregionen"),
    "17": ("2321000156", "Region Värmland"),
    "18": ("2321000164", "Region Örebro län"),
    "19": ("2321000172", "Region Västmanland"),
    "20": ("2321000180", "Region Dalarna"),
    "21": ("2321000198", "Region Gävleborg"),
    "22": ("2321000206", "Region Västernorrland"),
    "23": ("2321000214", "Region Jämtland Härjedalen"),
    "24": ("2321000222", "Region Västerbotten"),
    "25": ("2321000230", "Region Norrbotten"),
}

# Private care providers (fictitious names, aktiebolag organisation numbers).
_PRIVATE: tuple[tuple[str, str, str], ...] = (
    ("5565012345", "Närvård Sverige AB", "Närvård"),
    ("5567123456", "Familjeläkarna i Norden AB", "Familjeläkarna"),
    ("5568234567", "Hälsogruppen Direkt AB", "Hälsogruppen"),
    ("5569345678", "Läkarhuset Trygg Vård AB", "Läkarhuset"),
    ("5590456789", "Mottagningen Nära AB", "Mottagningen Nära"),
    ("5591567890", "Tandvårdsgruppen Leende AB", "Tandvårdsgruppen"),
    ("5592678901", "Barnmorskegruppen AB", "Barnmorskegruppen"),
    ("5593789012", "Vårdbolaget Kompassen AB", "Kompassen"),
    ("5594890123", "Psykologpartners AB", "Psykologpartners"),
    ("5595901234", "Digitala Vårdcentralen AB", "Digitala Vårdcentralen"),
)

_PLACES: dict[str, tuple[str, ...]] = {
    "01": (
        "Norrmalm", "Södermalm", "Kungsholmen", "Vasastan", "Östermalm", "Solna", "Sundbyberg",
        "Huddinge", "Nacka", "Täby", "Järfälla", "Södertälje", "Haninge", "Botkyrka", "Lidingö",
        "Sollentuna", "Bromma", "Farsta", "Skärholmen", "Rinkeby", "Tyresö", "Värmdö",
        "Upplands Väsby", "Danderyd", "Hässelby", "Vällingby", "Älvsjö", "Liljeholmen", "Kista",
        "Gubbängen", "Hornstull", "Fruängen", "Tumba", "Åkersberga", "Märsta", "Norrtälje",
    ),
    "03": ("Gottsunda", "Luthagen", "Sävja", "Enköping", "Tierp", "Östhammar", "Knivsta",
           "Bålsta", "Eriksberg", "Flogsta", "Gränby", "Heby"),
    "04": ("Eskilstuna", "Nyköping", "Katrineholm", "Strängnäs", "Flen", "Oxelösund",
           "Torshälla", "Vingåker", "Mariefred"),
    "05": ("Ekholmen", "Hageby", "Motala", "Mjölby", "Finspång", "Vadstena", "Söderköping",
           "Kisa", "Skäggetorp", "Ryd", "Kneippen", "Valla", "Åtvidaberg"),
    "06": ("Huskvarna", "Tenhult", "Värnamo", "Nässjö", "Gislaved", "Tranås", "Eksjö",
           "Vetlanda", "Råslätt", "Öxnehaga", "Habo"),
    "07": ("Teleborg", "Ljungby", "Alvesta", "Älmhult", "Tingsryd", "Markaryd", "Lessebo"),
    "08": ("Norrliden", "Västervik", "Oskarshamn", "Nybro", "Vimmerby", "Borgholm",
           "Mönsterås", "Emmaboda"),
    "09": ("Visby", "Hemse", "Slite", "Roma"),
    "10": ("Karlskrona", "Ronneby", "Karlshamn", "Sölvesborg", "Olofström", "Lyckeby"),
    "12": ("Limhamn", "Rosengård", "Lund", "Helsingborg", "Kristianstad", "Landskrona",
           "Trelleborg", "Ystad", "Hässleholm", "Ängelholm", "Eslöv", "Höganäs", "Staffanstorp",
           "Möllevången", "Husie", "Värnhem", "Bunkeflo", "Råå", "Klippan", "Simrishamn",
           "Höör", "Vellinge"),
    "13": ("Halmstad", "Varberg", "Kungsbacka", "Falkenberg", "Laholm", "Hyltebruk", "Onsala",
           "Getinge"),
    "14": ("Majorna", "Frölunda", "Angered", "Hisingen", "Mölndal", "Partille", "Borås",
           "Trollhättan", "Uddevalla", "Skövde", "Alingsås", "Lidköping", "Kungälv", "Lerum",
           "Vänersborg", "Mariestad", "Stenungsund", "Falköping", "Kortedala", "Biskopsgården",
           "Askim", "Lindholmen", "Backa", "Torslanda", "Ulricehamn", "Strömstad"),
    "17": ("Karlstad", "Arvika", "Kristinehamn", "Sunne", "Säffle", "Hagfors", "Kil", "Torsby"),
    "18": ("Vivalla", "Tullhus", "Karlskoga", "Kumla", "Lindesberg", "Hallsberg", "Askersund",
           "Nora", "Brickebacken"),
    "19": ("Skultuna", "Bäckby", "Köping", "Sala", "Fagersta", "Arboga", "Hallstahammar",
           "Kungsör"),
    "20": ("Falun", "Borlänge", "Mora", "Ludvika", "Avesta", "Leksand", "Rättvik", "Malung"),
    "21": ("Gävle", "Sandviken", "Hudiksvall", "Bollnäs", "Söderhamn", "Ljusdal", "Ockelbo",
           "Hofors"),
    "22": ("Sundsvall", "Härnösand", "Örnsköldsvik", "Sollefteå", "Kramfors", "Timrå", "Ånge"),
    "23": ("Östersund", "Krokom", "Sveg", "Strömsund", "Järpen", "Brunflo", "Hammarstrand"),
    "24": ("Ålidhem", "Skellefteå", "Lycksele", "Vännäs", "Storuman", "Vilhelmina",
           "Mariehem", "Robertsfors"),
    "25": ("Luleå", "Piteå", "Boden", "Kiruna", "Gällivare", "Kalix", "Haparanda",
           "Arvidsjaur"),
}  # fmt: skip

# Primary care is a "hälsocentral" in the north, a "vårdcentral" elsewhere.
_NORTH = {"20", "21", "22", "23", "24", "25"}
# (name pattern, relative call volume, share of units)
_UNIT_KINDS: tuple[tuple[str, float, float], ...] = (
    ("{primary} {place}", 1.6, 0.46),
    ("Folktandvården {place}", 1.2, 0.14),
    ("Barnavårdscentral {place}", 0.5, 0.08),
    ("Barnmorskemottagning {place}", 0.6, 0.08),
    ("Ungdomsmottagning {place}", 0.4, 0.07),
    ("Psykiatrisk öppenvårdsmottagning {place}", 0.5, 0.07),
    ("Vaccinationsmottagning {place}", 0.8, 0.05),
    ("Hudmottagning {place}", 0.4, 0.05),
)

# Calling systems: the national 1177 platform carries most traffic.
_CONSUMERS: tuple[tuple[str, float], ...] = (
    ("SE5565594230-B31", 0.70),
    ("SE5565594230-BCK", 0.15),
    ("SE2321000016-F5V1", 0.08),
    ("SE2321000131-K2Q8", 0.07),
)

# Catalogue records before the data begins (2017-10-01), moves much later.
_CATALOGUE_FROM = dt.datetime(2016, 3, 1, tzinfo=dt.UTC)
_CATALOGUE_TO = dt.datetime(2017, 9, 1, tzinfo=dt.UTC)
_MOVED_AT = dt.datetime(2024, 5, 14, 7, 42, 10, tzinfo=dt.UTC)


@dataclass(frozen=True)
class World:
    """One consistent set of reference data.

    `units` holds the first catalogue record of every care provider and unit,
    `unit_moves` the later records (publish them after `units`); the current
    catalogue is the latest record per `hsa_id`. `unit_weights` is the relative
    call volume per logical address (unknown addresses included).
    """

    units: list[dict[str, Any]]
    unit_moves: list[dict[str, Any]]
    routing: list[dict[str, Any]]
    population: list[dict[str, Any]]
    moved_unit: str
    unknown_addresses: list[str]
    unit_weights: dict[str, float] = field(default_factory=dict)


def _stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_instant(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    seconds = int((end - start).total_seconds())
    return start + dt.timedelta(seconds=rng.randrange(seconds))


def _suffix(rng: random.Random, n: int = 4) -> str:
    return "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(n))


def _apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Largest-remainder split of `total` by weight, at least one each when possible."""
    keys = list(weights)
    floor = 1 if total >= len(keys) else 0
    rest = total - floor * len(keys)
    s = sum(weights.values())
    raw = {k: rest * weights[k] / s for k in keys}
    out = {k: floor + int(raw[k]) for k in keys}
    left = total - sum(out.values())
    for k in sorted(keys, key=lambda k: raw[k] - int(raw[k]), reverse=True)[:left]:
        out[k] += 1
    return out


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def _random_month_end(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    months = (last.year - first.year) * 12 + last.month - first.month
    k = rng.randrange(months + 1)
    y, m = divmod(first.month - 1 + k, 12)
    return _month_end(first.year + y, m + 1)


def make_world(seed: int, n_care_providers: int = 30, n_units: int = 300) -> World:
    if n_care_providers < 1 or n_units < 1:
        raise ValueError("a world needs at least one care provider and one unit")
    rng = random.Random(f"webbtidbokning-world-{seed}")
    by_population = sorted(COUNTIES, key=lambda c: -population(c, 2024))
    used_ids: set[str] = set()

    def new_id(org: str) -> str:
        while True:
            hsa_id = f"SE{org}-{_suffix(rng)}"
            if hsa_id not in used_ids:
                used_ids.add(hsa_id)
                return hsa_id

    # Regions first (largest counties first when there are fewer providers than
    # counties); the rest are private providers, each spanning a few counties.
    n_regions = 21 if n_care_providers > 21 else max(1, n_care_providers - 1)
    n_private = n_care_providers - n_regions
    providers: list[dict[str, Any]] = []
    region_of: dict[str, str] = {}
    brand_of: dict[str, str] = {}
    counties_of: dict[str, list[str]] = {}
    for county in by_population[:n_regions]:
        org, name = _REGIONS[county]
        cp = new_id(org)
        region_of[county] = cp
        counties_of[cp] = [county]
        providers.append({"hsa_id": cp, "name": name, "county": county})
    without_region = [c for c in COUNTIES if c not in region_of]
    pop_weights = [population(c, 2024) for c in COUNTIES]
    for i in range(n_private):
        org, name, brand = _PRIVATE[i % len(_PRIVATE)]
        if i >= len(_PRIVATE):
            name, brand = f"{name[:-3]} {i // len(_PRIVATE) + 1} AB", f"{brand} {i}"
        cp = new_id(org)
        # Every other private provider spans 2–4 counties; the big cities dominate.
        span = 1 if i % 2 else rng.randint(2, 4)
        chosen: list[str] = []
        while len(chosen) < span:
            c = rng.choices(list(COUNTIES), weights=pop_weights)[0]
            if c not in chosen:
                chosen.append(c)
        if i == 0:
            chosen += [c for c in without_region if c not in chosen]
        counties_of[cp] = chosen
        brand_of[cp] = brand
        providers.append({"hsa_id": cp, "name": name, "county": chosen[0]})

    providers_in: dict[str, list[str]] = {c: [] for c in COUNTIES}
    for cp, cs in counties_of.items():
        for c in cs:
            providers_in[c].append(cp)
    served = {c: float(population(c, 2024)) for c in COUNTIES if providers_in[c]}
    per_county = _apportion(n_units, served)

    units: list[dict[str, Any]] = []
    weights: dict[str, float] = {}
    names: set[str] = set()
    for p in providers:
        units.append(
            {
                "hsa_id": p["hsa_id"],
                "name": p["name"],
                "kind": "care_provider",
                "county_code": p["county"],
                "updated_at": _stamp(_random_instant(rng, _CATALOGUE_FROM, _CATALOGUE_TO)),
            }
        )
    kind_shares = [k[2] for k in _UNIT_KINDS]
    for county, count in per_county.items():
        region = region_of.get(county)
        private = [cp for cp in providers_in[county] if cp != region]
        for _ in range(count):
            cp = region if region and (not private or rng.random() < 0.8) else rng.choice(private)
            pattern, volume, _ = rng.choices(_UNIT_KINDS, weights=kind_shares)[0]
            primary = "Hälsocentral" if county in _NORTH else "Vårdcentral"
            name = ""
            for attempt in range(60):
                place = rng.choice(_PLACES[county])
                if cp in brand_of:
                    name = f"{brand_of[cp]} {place}"
                else:
                    name = pattern.format(primary=primary, place=place)
                if attempt > 40:
                    name += f" {rng.choice(('Centrum', 'Norra', 'Södra', 'Östra', 'Västra'))}"
                if name not in names:
                    break
            if name in names:
                name += f" {len(names)}"
            names.add(name)
            # A unit's HSA-id carries its care provider's organisation number.
            hsa_id = new_id(cp[2:12])
            units.append(
                {
                    "hsa_id": hsa_id,
                    "name": name,
                    "kind": "unit",
                    "care_provider_id": cp,
                    "county_code": county,
                    "updated_at": _stamp(_random_instant(rng, _CATALOGUE_FROM, _CATALOGUE_TO)),
                }
            )
            weights[hsa_id] = volume * rng.lognormvariate(0.0, 0.8)

    unit_records = [u for u in units if u["kind"] == "unit"]
    moved, moves = _move_one(rng, unit_records, counties_of, region_of, weights)

    unknown: list[str] = []
    for county in by_population[:3]:
        unknown.append(new_id(_REGIONS[county][0]))
    total = sum(weights.values())
    for address in unknown:
        weights[address] = total * UNKNOWN_SHARE / len(unknown)

    routing = _make_routing(rng, unit_records, unknown)
    return World(
        units=units,
        unit_moves=moves,
        routing=routing,
        population=population_records(),
        moved_unit=moved,
        unknown_addresses=unknown,
        unit_weights=weights,
    )


def _move_one(
    rng: random.Random,
    units: list[dict[str, Any]],
    counties_of: dict[str, list[str]],
    region_of: dict[str, str],
    weights: dict[str, float],
) -> tuple[str, list[dict[str, Any]]]:
    """A busy unit changes county: a private clinic relocating within its
    provider's counties, else a unit handed over to a neighbouring region."""
    busy = sorted(units, key=lambda u: -weights[u["hsa_id"]])[: max(1, len(units) // 5)]
    spanning = [u for u in busy if len(counties_of[u["care_provider_id"]]) > 1]
    if spanning:
        unit = spanning[0]
        cp = unit["care_provider_id"]
        county = next(c for c in counties_of[cp] if c != unit["county_code"])
    else:
        unit = busy[0]
        others = [c for c in region_of if c != unit["county_code"]] or [
            c for c in COUNTIES if c != unit["county_code"]
        ]
        county = rng.choice(others)
        cp = region_of.get(county, unit["care_provider_id"])
    # A relocated clinic takes the name of its new place.
    name = unit["name"]
    for place in sorted(_PLACES[unit["county_code"]], key=len, reverse=True):
        if name.endswith(" " + place):
            name = f"{name[: -len(place)]}{rng.choice(_PLACES[county])}"
            break
    # The later record is written with a Stockholm offset: ordering by
    # updated_at must compare instants, not strings.
    stamp = _MOVED_AT.astimezone(STHLM).isoformat(timespec="seconds")
    moved = {
        **unit,
        "name": name,
        "county_code": county,
        "care_provider_id": cp,
        "updated_at": stamp,
    }
    return unit["hsa_id"], [moved]


def _make_routing(
    rng: random.Random, units: list[dict[str, Any]], unknown: list[str]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def route(address: str, op: str, start: dt.date, end: dt.date | None = None) -> None:
        out.append(
            {
                "logical_address": address,
                "operation": op,
                "active_from": start.isoformat(),
                "active_to": end.isoformat() if end else None,
            }
        )

    for unit in units:
        address = unit["hsa_id"]
        start = dt.date(2016, 1, 1) + dt.timedelta(days=rng.randrange(4 * 365))
        r = rng.random()
        booking = list(BOOKING_CONTRACTS)
        ends: dict[str, dt.date | None] = dict.fromkeys(booking)
        if r < 0.05:
            booking = []  # only "Mina tider": the unit shows bookings but takes none online
        elif r < 0.12:
            booking.remove(rng.choice(booking))  # misconfigured: one contract missing
        elif r < 0.19:
            # Ended on a month end, so a period ending that day still counts it.
            end = _random_month_end(rng, dt.date(2019, 1, 1), dt.date(2025, 6, 30))
            for op in booking if rng.random() < 0.5 else [rng.choice(booking)]:
                ends[op] = end
        elif r < 0.25:
            # Connected late, on a first of the month or a month end.
            end = _random_month_end(rng, dt.date(2023, 1, 1), dt.date(2025, 6, 30))
            start = end if rng.random() < 0.5 else end + dt.timedelta(days=1)
        for op in booking:
            route(address, op, start, ends[op])
        if booking or rng.random() < 0.9:
            route(address, "GetSubjectOfCareSchedule", start)
        if "MakeBooking" in booking:
            if rng.random() < 0.9:
                route(address, "CancelBooking", start, ends["MakeBooking"])
            if rng.random() < 0.75:
                route(address, "UpdateBooking", start, ends["MakeBooking"])
    # A unit that is routed but missing from the catalogue: counted under 00.
    for op in (*BOOKING_CONTRACTS, "GetSubjectOfCareSchedule", "CancelBooking"):
        route(unknown[0], op, dt.date(2018, 2, 1))
    return out


# --- calls ---------------------------------------------------------------------


def _last_sunday(year: int, month: int) -> dt.date:
    d = _month_end(year, month)
    return d - dt.timedelta(days=d.isoweekday() % 7)


def special_instants(start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Instants that land in a different day, week or month when bucketed in UTC,
    in a fixed offset, or with a naive month end."""
    out: set[dt.datetime] = set()
    first = (start - dt.timedelta(days=1)).astimezone(STHLM).date()
    last = (end + dt.timedelta(days=1)).astimezone(STHLM).date()
    ms = dt.timedelta(milliseconds=1)
    d = first
    while d <= last:
        if d.day == 1 or d.isoweekday() == 1:
            midnight = local_midnight(d)
            out.update((midnight, midnight - ms, midnight - dt.timedelta(seconds=60)))
        if d.day == 1:
            prev = d - dt.timedelta(days=1)
            # 23:30Z is the next day in Stockholm all year, 22:30Z only in summer.
            for hh in (22, 23):
                out.add(dt.datetime(prev.year, prev.month, prev.day, hh, 30, tzinfo=dt.UTC))
        d += dt.timedelta(days=1)
    for year in range(first.year, last.year + 1):
        for day in (_last_sunday(year, 3), _last_sunday(year, 10)):
            change = dt.datetime(day.year, day.month, day.day, 1, tzinfo=dt.UTC)
            # Around 01:00Z the clocks change; 00:30Z and 01:30Z on the autumn
            # day are both 02:30 local.
            for minutes in (-60, -30, -1, 0, 30, 60, 90):
                out.add(change + dt.timedelta(minutes=minutes))
            for d2 in (day, day + dt.timedelta(days=1)):
                midnight = local_midnight(d2)
                out.update((midnight, midnight - ms, midnight + dt.timedelta(minutes=30)))
    return sorted(t for t in out if start <= t < end)


_OTHER_OFFSETS = (
    dt.timezone(dt.timedelta(hours=-5)),
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
    dt.timezone(dt.timedelta(hours=3)),
)


def rfc3339(t: dt.datetime, rng: random.Random) -> str:
    """One instant, written the way different platform teams write it."""
    r = rng.random()
    if r < 0.50:
        tz: dt.tzinfo = dt.UTC
    elif r < 0.92:
        tz = STHLM
    elif r < 0.97:
        tz = dt.timezone(dt.timedelta(0), "+00:00")
    else:
        tz = rng.choice(_OTHER_OFFSETS)
    local = t.astimezone(tz)
    text = local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")
    if tz is dt.UTC:
        text = text[:-6] + "Z"
    return text


def _weight(local: dt.datetime) -> float:
    return (
        _HOUR_WEIGHT[local.hour] * _WEEKDAY_WEIGHT[local.isoweekday()] * _MONTH_WEIGHT[local.month]
    )


def _pickers(world: World) -> dict[str, Picker]:
    """Per operation, the catalogued units that have that contract routed."""
    routed: dict[str, set[str]] = {op: set() for op in OPERATIONS}
    for r in world.routing:
        if r["operation"] in routed:
            routed[r["operation"]].add(r["logical_address"])
    known = [u["hsa_id"] for u in world.units if u["kind"] == "unit"]
    out = {}
    for op in OPERATIONS:
        items = [a for a in known if a in routed[op]] or known
        out[op] = Picker(items, [world.unit_weights.get(a, 1.0) for a in items])
    return out


def make_calls(
    world: World, start: dt.datetime, end: dt.datetime, n: int, seed: int
) -> list[dict[str, Any]]:
    """`n` valid `ntjp.calls.v1` events with instants in [start, end), in time order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if not start < end:
        raise ValueError("start must be before end")
    rng = random.Random(f"webbtidbokning-calls-{seed}")
    pickers = _pickers(world)
    ops = list(OPERATION_WEIGHTS)
    op_weights = list(OPERATION_WEIGHTS.values())
    consumers = [c for c, _ in _CONSUMERS]
    consumer_weights = [w for _, w in _CONSUMERS]
    unknown = world.unknown_addresses

    specials = special_instants(start, end)
    n_special = min(n // 100, 3 * len(specials))
    instants = [rng.choice(specials) for _ in range(n_special)]
    span = (end - start).total_seconds()
    while len(instants) < n:
        t = start + dt.timedelta(seconds=rng.random() * span)
        t = t.replace(microsecond=t.microsecond // 1000 * 1000)
        # Rejection sampling keeps the rhythms exact for any window, even one
        # second long; a floor keeps quiet hours from stalling it.
        if rng.random() * _MAX_WEIGHT <= max(_weight(t.astimezone(STHLM)), 0.01) and t < end:
            instants.append(t)
    instants.sort()

    ids: set[str] = set()
    calls: list[dict[str, Any]] = []
    for t in instants:
        event_id = uuid4(rng)
        while event_id in ids:
            event_id = uuid4(rng)
        ids.add(event_id)
        op = rng.choices(ops, weights=op_weights)[0]
        if unknown and rng.random() < UNKNOWN_SHARE:
            address = rng.choice(unknown)
        else:
            address = pickers[op](rng)
        call: dict[str, Any] = {
            "event_id": event_id,
            "occurred_at": rfc3339(t, rng),
            "operation": op,
            "logical_address": address,
        }
        if rng.random() < 0.65:
            call["consumer_id"] = rng.choices(consumers, weights=consumer_weights)[0]
        r = rng.random()
        if r < ERROR_SHARE:
            call["status"] = "error"
        elif r < 0.7:
            call["status"] = "ok"
        calls.append(call)
    return calls


def with_duplicates(events: list[dict[str, Any]], rate: float, seed: int) -> list[dict[str, Any]]:
    """`events` plus re-published copies of a `rate` share of them, shuffled:
    what a producer that retries after a timeout delivers."""
    rng = random.Random(f"webbtidbokning-duplicates-{seed}")
    k = min(len(events), round(rate * len(events)))
    copies = [dict(e) for e in rng.sample(events, k)]
    out = [*events, *copies]
    rng.shuffle(out)
    return out


# --- malformed messages --------------------------------------------------------


def _valid_call(rng: random.Random) -> dict[str, Any]:
    org = rng.choice(list(_REGIONS.values()))[0]
    t = dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randrange(10**7))
    return {
        "event_id": uuid4(rng),
        "occurred_at": rfc3339(t, rng),
        "operation": rng.choice(OPERATIONS),
        "logical_address": f"SE{org}-{_suffix(rng)}",
        "consumer_id": _CONSUMERS[0][0],
        "status": "ok",
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def _with(name: str, value: Any) -> Callable[[random.Random], bytes]:
    return lambda rng: _dumps({**_valid_call(rng), name: value})


def _with_choice(name: str, values: Sequence[Any]) -> Callable[[random.Random], bytes]:
    return lambda rng: _dumps({**_valid_call(rng), name: rng.choice(values)})


def _without(name: str) -> Callable[[random.Random], bytes]:
    def make(rng: random.Random) -> bytes:
        call = _valid_call(rng)
        del call[name]
        return _dumps(call)

    return make


def _truncated(rng: random.Random) -> bytes:
    # Any strict prefix of a JSON object misses at least its closing brace.
    raw = _dumps(_valid_call(rng))
    return raw[: rng.randrange(1, len(raw) - 1)]


def _invalid_utf8(rng: random.Random) -> bytes:
    call = _valid_call(rng)
    name = rng.choice(("event_id", "logical_address", "consumer_id"))
    marker = "\u0001MARK\u0001"
    call[name] = call[name][:6] + marker + call[name][6:]
    bad = rng.choice((b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82"))
    return _dumps(call).replace(b"\\u0001MARK\\u0001", bad)


def _oversize(rng: random.Random) -> bytes:
    # Valid in every other way: only the size (> 64 KiB) is wrong.
    return _dumps({**_valid_call(rng), "note": "x" * (64 * 1024 + rng.randrange(1, 4096))})


def _replace(old: bytes, new: bytes) -> Callable[[random.Random], bytes]:
    return lambda rng: _dumps(_valid_call(rng)).replace(old, new, 1)


def _two_objects(rng: random.Random) -> bytes:
    return _dumps(_valid_call(rng)) + _dumps(_valid_call(rng))


def _csv_line(rng: random.Random) -> bytes:
    call = _valid_call(rng)
    return ",".join(str(call[k]) for k in ("event_id", "occurred_at", "operation")).encode()


_MALFORMED: tuple[tuple[str, Callable[[random.Random], bytes]], ...] = (
    ("bad JSON: unquoted key", _replace(b'"event_id"', b"event_id")),
    ("bad JSON: single quotes", lambda rng: _dumps(_valid_call(rng)).replace(b'"', b"'")),
    ("bad JSON: trailing comma", lambda rng: _dumps(_valid_call(rng))[:-1] + b",}"),
    ("bad JSON: two objects in one message", _two_objects),
    ("bad JSON: NaN", _replace(b'"status": "ok"', b'"status": NaN')),
    ("not JSON: a CSV line", _csv_line),
    ("truncated JSON", _truncated),
    ("empty message", lambda rng: b""),
    ("JSON array instead of object", lambda rng: _dumps([_valid_call(rng)])),
    ("JSON string instead of object", lambda rng: _dumps(_valid_call(rng)["event_id"])),
    ("JSON null instead of object", lambda rng: b"null"),
    ("JSON number instead of object", lambda rng: str(rng.randrange(10**6)).encode()),
    ("missing event_id", _without("event_id")),
    ("missing occurred_at", _without("occurred_at")),
    ("missing operation", _without("operation")),
    ("missing logical_address", _without("logical_address")),
    (
        "unknown operation",
        _with_choice("operation", ("BookAppointment", "makebooking", "GetAvailableDate", "")),
    ),
    ("bad timestamp: month 13", _with("occurred_at", "2024-13-01T00:00:00Z")),
    ("bad timestamp: no offset", _with("occurred_at", "2024-01-01T10:00:00")),
    ("bad timestamp: 30 February", _with("occurred_at", "2024-02-30T10:00:00Z")),
    ("bad timestamp: hour 24", _with("occurred_at", "2024-05-01T24:00:00+02:00")),
    ("bad timestamp: date only", _with("occurred_at", "2024-03-31")),
    ("bad timestamp: not a date", _with_choice("occurred_at", ("igår kl 10", "", "now"))),
    ("wrong type: occurred_at a number", _with("occurred_at", 1704103200)),
    ("wrong type: event_id a number", _with("event_id", 123)),
    ("wrong type: logical_address null", _with("logical_address", None)),
    ("wrong type: operation a list", _with("operation", ["MakeBooking"])),
    ("wrong type: status a boolean", _with("status", True)),
    ("unknown status", _with_choice("status", ("failed", "OK", "timeout"))),
    ("empty event_id", _with("event_id", "")),
    ("event_id of 129 chars", lambda rng: _dumps({**_valid_call(rng), "event_id": "e" * 129})),
    ("empty logical_address", _with("logical_address", "")),
    ("oversize (> 64 KiB)", _oversize),
    ("invalid UTF-8", _invalid_utf8),
)
MALFORMED_LABELS: tuple[str, ...] = tuple(label for label, _ in _MALFORMED)


def malformed_messages(n: int, seed: int) -> list[tuple[bytes, str]]:
    """`n` raw message values that break `ntjp.calls.v1`, each with what is wrong.

    Every kind appears (round robin) before the list is shuffled, so even a
    small `n` covers many kinds.
    """
    rng = random.Random(f"webbtidbokning-malformed-{seed}")
    out = [
        (_MALFORMED[i % len(_MALFORMED)][1](rng), _MALFORMED[i % len(_MALFORMED)][0])
        for i in range(n)
    ]
    rng.shuffle(out)
    return out
