"""Synthetic web-booking (webbtidbokning) data, the world: an HSA catalogue
of care providers and units, its NTjP routing and SCB population.

Units are spread over the counties by population and belong to regions or to
private care providers that span counties; one unit moves county (reports must
use the *current* catalogue); a few logical addresses are missing from the
catalogue (county 00); routing has gaps, ended and late contracts whose dates
fall on month ends (so an inclusive/exclusive slip on `active_to` shows). The
calls through it are synth/ntjp.py's. Everything is deterministic in the seed.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass, field
from typing import Any

from schemas.counties import COUNTIES
from synth.population import population, population_records
from synth.timing import STHLM

# A unit is connected to web booking when all four of these are routed to it.
BOOKING_CONTRACTS: tuple[str, ...] = (
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "MakeBooking",
    "GetAllTimeTypes",
)

UNKNOWN_SHARE = 0.015

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
