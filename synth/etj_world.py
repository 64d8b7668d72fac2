"""The 1177 e-services world (synth/etj.py): providers, their units (`etj.units.v1`)
and the staff who handle cases (`hsa.persons.v1`), deterministic in the seed."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from schemas.etj import LOGIN_METHODS, STANDARD_CASE_TYPES

# The vocabulary is the contract's (schemas/etj.py); the tests' oracle keeps
# its own copy on purpose. In this order: the login weights below follow it.
METHODS = LOGIN_METHODS
TOPICS = ("etj.cases.v1", "etj.logins.v1", "etj.accounts.v1", "etj.units.v1")
OVERDUE_AFTER = dt.timedelta(hours=240)
# Units connected before the 2009 database move got a surrogate date in May
# 2009; REPORTS.md puts the cut at 2009-06-01.
LOST_DATES_BEFORE = dt.date(2009, 6, 1)

# (organisation number, name, county, case weight, care types of its units).
# Gotland is small on purpose: per-county resident counts of 1–9 then occur.
_PROVIDERS: list[tuple[str, str, str, int, tuple[str, ...]]] = [
    ("2321000016", "Region Stockholm", "01", 30,
     ("primarvard", "specialistvard", "tandvard", "psykiatri", "ovrig")),
    ("2321000024", "Region Uppsala", "03", 7, ("primarvard", "specialistvard", "psykiatri")),
    ("2321000032", "Region Skåne", "12", 16,
     ("primarvard", "specialistvard", "tandvard", "psykiatri")),
    ("2321000131", "Västra Götalandsregionen", "14", 18,
     ("primarvard", "specialistvard", "tandvard", "ovrig")),
    ("2321000164", "Region Örebro län", "18", 6, ("primarvard", "specialistvard")),
    ("2321000230", "Region Norrbotten", "25", 4, ("primarvard", "tandvard")),
    ("2321000099", "Region Gotland", "09", 1, ("primarvard",)),
    # a private provider whose units sit in several counties
    ("5565594230", "Digitalvården Norden AB", "01", 6, ("primarvard", "ovrig")),
    ("2120003140", "Uppsala kommun", "03", 2, ("kommunal",)),
    ("2120001355", "Göteborgs Stad", "14", 2, ("kommunal",)),
]  # fmt: skip
_PRIVATE = "5565594230"

_PLACES: dict[str, tuple[str, ...]] = {
    "01": ("Södermalm", "Kungsholmen", "Solna", "Täby", "Huddinge", "Farsta"),
    "03": ("Gottsunda", "Enköping", "Tierp", "Luthagen"),
    "12": ("Lund", "Malmö Centrum", "Helsingborg", "Ystad"),
    "14": ("Majorna", "Borås", "Trollhättan", "Skövde", "Angered"),
    "18": ("Örebro Norr", "Karlskoga", "Lindesberg"),
    "25": ("Luleå", "Kiruna", "Piteå"),
    "09": ("Visby", "Hemse"),
}
_NAMES: dict[str, tuple[str, ...]] = {
    "primarvard": ("Vårdcentral {}", "Hälsocentral {}", "Barnavårdscentralen {}"),
    "specialistvard": ("Hudmottagningen {}", "Ortopedmottagningen {}", "Kvinnokliniken {}"),
    "tandvard": ("Folktandvården {}",),
    "psykiatri": ("Psykiatrimottagning {}", "BUP {}"),
    "kommunal": ("Elevhälsan {}", "Hemsjukvården {}"),
    "ovrig": ("Ungdomsmottagningen {}", "Vaccinationsmottagningen {}"),
}
_OWN_TYPES = (
    "fotvard",
    "diabetesuppfoljning",
    "sjukskrivning",
    "vaccination",
    "stodsamtal",
    "blodtryckskontroll",
)
# Integration types are national integrations, so their ids are shared.
_INTEGRATION_TYPES = ("int-webcert-intyg", "int-journalkopia", "int-labb-provsvar", "int-tidbok")

_GIVEN = (
    "Anna", "Maria", "Karin", "Sara", "Lena", "Emma", "Elin", "Ida", "Johanna", "Sofia",
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Jonas", "Oskar",
)  # fmt: skip
_FAMILY = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist",
    "Berg", "Ström", "Åberg", "Öberg", "Sjöberg", "Wallin",
)  # fmt: skip

# Where residents live, roughly by population (hundred thousands).
RESIDENCE: dict[str, float] = {
    "01": 24, "03": 4, "04": 3, "05": 4.7, "06": 3.7, "07": 2, "08": 2.5, "09": 0.6,
    "10": 1.6, "12": 14, "13": 3.4, "14": 17.5, "17": 2.8, "18": 3, "19": 2.8, "20": 2.9,
    "21": 2.9, "22": 2.4, "23": 1.3, "24": 2.7, "25": 2.5,
}  # fmt: skip


@dataclass(frozen=True)
class EtjWorld:
    units: list[dict[str, Any]]  # etj.units.v1 records, in publishing order
    persons: list[dict[str, Any]]  # hsa.persons.v1 records of the staff
    staff_of: dict[str, list[str]]  # unit_id -> staff HSA-ids (some not in persons)
    unit_weights: dict[str, float]  # unit_id -> relative case volume
    # Inactive units stop receiving cases on this day.
    inactive_from: dict[str, dt.date]
    # Ids that cases and assignments use although no record names them.
    missing_unit_ids: list[str]
    missing_person_ids: list[str]


def _person(rng: random.Random, hsa_id: str, cp_id: str) -> dict[str, Any]:
    return {
        "hsa_id": hsa_id,
        "given_name": rng.choice(_GIVEN),
        "family_name": rng.choice(_FAMILY),
        "care_provider_id": cp_id,
    }


def _activation(rng: random.Random) -> dt.date:
    r = rng.random()
    if r < 0.2:
        # the surrogate dates of the 2009 move
        return dt.date(2009, 5, 4) + dt.timedelta(days=rng.randint(0, 26))
    if r < 0.25:
        return dt.date(2009, 6, 1) + dt.timedelta(days=rng.randint(0, 29))
    first, last = dt.date(2009, 7, 1), dt.date(2024, 6, 30)
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _case_types(rng: random.Random, unit_id: str) -> list[dict[str, Any]]:
    chosen = rng.sample(STANDARD_CASE_TYPES, rng.randint(3, 10))
    out = [{"id": s, "kind": "standard", "active": rng.random() < 0.85} for s in chosen]
    for slug in rng.sample(_OWN_TYPES, rng.choices([0, 1, 2, 3], [4, 3, 2, 1])[0]):
        # own types are the unit's own creations, so their ids are unit-scoped
        out.append({"id": f"{unit_id}/egen-{slug}", "kind": "own", "active": rng.random() < 0.8})
    for tid in rng.sample(_INTEGRATION_TYPES, rng.choices([0, 1, 2], [5, 3, 1])[0]):
        out.append({"id": tid, "kind": "integration", "active": rng.random() < 0.9})
    if not any(e["active"] for e in out):
        out[0]["active"] = True
    return out


def make_etj_world(seed: int) -> EtjWorld:
    rng = random.Random(f"etj-world-{seed}")
    current: list[dict[str, Any]] = []
    persons: list[dict[str, Any]] = []
    staff_of: dict[str, list[str]] = {}
    weights: dict[str, float] = {}
    inactive_from: dict[str, dt.date] = {}

    for org, _cp_name, county, weight, care_types in _PROVIDERS:
        cp_id = f"SE{org}-ETJ0"
        n_units = rng.randint(2, 3) if weight < 5 else rng.randint(4, 7)
        n_staff = 0
        for k in range(n_units):
            care_type = care_types[k] if k < len(care_types) else rng.choice(care_types)
            unit_county = rng.choice(list(_PLACES)) if org == _PRIVATE else county
            place = rng.choice(_PLACES.get(unit_county, _PLACES["01"]))
            unit_id = f"SE{org}-ETJ{k + 1:03d}"
            rec: dict[str, Any] = {
                "unit_id": unit_id,
                "name": rng.choice(_NAMES[care_type]).format(place),
                "care_provider_id": cp_id,
                "county_code": unit_county,
                "care_type": care_type,
                "activated_on": _activation(rng).isoformat(),
                "active": rng.random() < 0.88,
                "case_types": _case_types(rng, unit_id),
            }
            current.append(rec)
            weights[unit_id] = weight / n_units * rng.uniform(0.4, 1.6)
            staff = []
            for _ in range(rng.randint(2, 5)):
                n_staff += 1
                pid = f"SE{org}-ETP{n_staff:04d}"
                persons.append(_person(rng, pid, cp_id))
                staff.append(pid)
            staff_of[unit_id] = staff
            if not rec["active"]:
                activated = dt.date.fromisoformat(rec["activated_on"])
                inactive_from[unit_id] = activated + dt.timedelta(days=rng.randint(200, 4000))

    # Boundary dates of the lost-date note, on units that exist in every seed.
    current[1]["activated_on"] = "2009-05-31"
    current[2]["activated_on"] = "2009-06-01"
    # A unit connected so recently that it has configured no case type yet.
    current[-1]["case_types"] = []
    current[-1]["activated_on"] = "2024-05-20"

    # Staff whose person record never arrived: the assignee name is unknown.
    ghost = "SE2321000032-ETP9999"
    skane = [u["unit_id"] for u in current if u["unit_id"].startswith("SE2321000032")]
    staff_of[skane[0]].append(ghost)
    # Cases name units the topic never published: county 00, never dropped.
    missing = ["SE2321000032-ETJ999", "SE5569990000-ETJ001"]
    for unit_id in missing:
        weights[unit_id] = 0.4
        staff_of[unit_id] = [
            p["hsa_id"] for p in persons if p["hsa_id"].startswith("SE2321000032")
        ][:3] or [ghost]

    # Earlier versions published before the current record: the latest wins.
    published: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for rec in current:
        change = rng.random()
        if not rec["active"] or change < 0.22:
            old = {**rec, "case_types": [dict(e) for e in rec["case_types"]]}
            if not rec["active"]:
                old["active"] = True  # deactivated later
            elif change < 0.07:
                old["name"] = f"{rec['name']} (före namnbyte)"
            elif change < 0.12:
                old["care_type"] = "ovrig" if rec["care_type"] != "ovrig" else "primarvard"
            elif change < 0.17:
                old["county_code"] = "03" if rec["county_code"] != "03" else "01"
            elif any(e["kind"] == "standard" for e in old["case_types"]):
                for e in old["case_types"]:
                    e["active"] = not e["active"] if e["kind"] == "standard" else e["active"]
            else:
                old["name"] = f"{rec['name']} (före namnbyte)"
            published.append(old)
            updates.append(rec)
        else:
            published.append(rec)
    return EtjWorld(
        units=published + updates,
        persons=persons,
        staff_of=staff_of,
        unit_weights=weights,
        inactive_from=inactive_from,
        missing_unit_ids=missing,
        missing_person_ids=[ghost],
    )


def current_units(world: EtjWorld) -> dict[str, dict[str, Any]]:
    """The latest record per unit_id (compacted-topic semantics: the last one wins)."""
    return {u["unit_id"]: u for u in world.units}
