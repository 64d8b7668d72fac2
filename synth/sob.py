"""Synthetic support-and-treatment (Stöd och behandling, SOB) data.

A small HSA world of its own (care providers, units, practitioners) and case
histories shaped to hit every rule of the `stod-och-behandling` reports: cases
that pause and resume, finish without a recorded start, reopen after Done,
cross month ends and DST changes, patients whose age changes between
transitions, and transitions exactly on Stockholm midnights. Everything is
deterministic in the seed, so a failing test can be replayed.

Patients carry numbers from Skatteverket's test series only (see
`synth.personnummer`); no generated record can name a real person.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import orjson

from synth.personnummer import test_personnummer, with_check_digit
from synth.timing import STHLM, rfc3339, special_instants, uuid4

DATA_START = dt.date(2015, 10, 1)
# Closing reasons were added to the source data in March 2022; earlier Done
# transitions never carry one.
REASONS_FROM = dt.date(2022, 3, 1)
CLOSING_REASONS = (
    "Behandling avslutad",
    "Avbruten av patient",
    "Avbruten av behandlare",
    "Ej påbörjad",
    "Remitterad vidare",
)
OTHER_CASE_TYPES = ("Meddelande", "Formulär")

PROCESSES: dict[str, list[str]] = {
    "Internetbaserad KBT vid depression": ["Bedömning", "Behandling", "Uppföljning"],
    "Internetbaserad KBT vid paniksyndrom": ["Bedömning", "Behandling", "Återfallsprevention"],
    "Stöd vid sömnbesvär": ["Introduktion", "Sömnskola", "Uppföljning"],
    "Stöd vid stress och utmattning": ["Kartläggning", "Stödprogram"],
    "Smärtskola": ["Bedömning", "Smärtskola"],
    "Viktstöd för barn och unga": ["Inskrivning", "Familjestöd", "Uppföljning"],
    "Alkohol – stöd till förändring": ["Screening", "Behandling"],
}

# (hsa_id, name, county, weight). Weights make Gotland small on purpose, so
# resident counts of 1–9 (withheld) occur naturally.
_CARE_PROVIDERS: list[tuple[str, str, str, int]] = [
    ("SE2321000016-SOB0", "Region Stockholm", "01", 30),
    ("SE2321000024-SOB0", "Region Uppsala", "03", 8),
    ("SE2321000032-SOB0", "Region Skåne", "12", 18),
    ("SE2321000131-SOB0", "Västra Götalandsregionen", "14", 20),
    ("SE2321000164-SOB0", "Region Örebro län", "18", 7),
    ("SE2321000230-SOB0", "Region Norrbotten", "25", 4),
    ("SE2321000099-SOB0", "Region Gotland", "09", 1),
    ("SE5568001234-SOB0", "Nätterapi Norden AB", "01", 6),
    ("SE5569005678-SOB0", "Psykologhuset Väst AB", "14", 4),
]
# Cases name this care provider but the catalogue never lists it: its cases
# must count under county 00 rather than vanish.
MISSING_CARE_PROVIDER = ("SE5560009999-SOB0", 2)
# This care provider was first catalogued in the wrong county and corrected
# later; the later record (by updated_at, also published later) wins.
_MOVED_CARE_PROVIDER = ("SE2321000164-SOB0", "19")

_UNIT_NAMES = (
    "Internetpsykiatri",
    "Psykiatrimottagning",
    "Vårdcentral Centrum",
    "Barn- och ungdomsmottagning",
    "Smärtrehabilitering",
    "Beroendemottagning",
)
_GIVEN = (
    "Anna", "Maria", "Karin", "Sara", "Lena", "Emma", "Elin", "Ida", "Johanna", "Sofia",
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Jonas", "Oskar",
)  # fmt: skip
_FAMILY = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist",
    "Berg", "Ström", "Åberg", "Öberg", "Sjöberg", "Wallin",
)  # fmt: skip


@dataclass(frozen=True)
class SobWorld:
    units: list[dict[str, Any]]  # hsa.units.v1 records, in publishing order
    practitioners: list[dict[str, Any]]  # hsa.persons.v1 records
    processes: dict[str, list[str]]  # programme -> its moments
    # Where cases happen, including ids the catalogue does not know.
    care_providers: list[str]
    care_provider_weights: list[int]
    units_of: dict[str, list[str]]
    missing_care_provider_id: str
    missing_unit_ids: list[str]


def _stamp(d: dt.date) -> str:
    return f"{d.isoformat()}T06:00:00Z"


def make_sob_world(seed: int) -> SobWorld:
    rng = random.Random(f"sob-world-{seed}")
    units: list[dict[str, Any]] = []
    practitioners: list[dict[str, Any]] = []
    units_of: dict[str, list[str]] = {}
    missing_units: list[str] = []
    counties = [c for _, _, c, _ in _CARE_PROVIDERS]

    for cp_id, cp_name, county, _ in _CARE_PROVIDERS:
        prefix = cp_id.split("-")[0]
        if cp_id == _MOVED_CARE_PROVIDER[0]:
            units.append(
                {
                    "hsa_id": cp_id,
                    "name": cp_name,
                    "kind": "care_provider",
                    "care_provider_id": None,
                    "county_code": _MOVED_CARE_PROVIDER[1],
                    "updated_at": _stamp(dt.date(2015, 1, 1)),
                }
            )
        units.append(
            {
                "hsa_id": cp_id,
                "name": cp_name,
                "kind": "care_provider",
                "care_provider_id": None,
                "county_code": county,
                "updated_at": _stamp(
                    dt.date(2016, 6, 1) if cp_id == _MOVED_CARE_PROVIDER[0] else dt.date(2015, 1, 1)
                ),
            }
        )
        ids = []
        private = not cp_id.startswith("SE2321")
        for k, unit_name in enumerate(rng.sample(_UNIT_NAMES, rng.randint(2, 3))):
            unit_id = f"{prefix}-E{k + 1:03d}"
            # A private care provider runs units in other counties; the report
            # still attributes them to the care provider's county.
            unit_county = rng.choice(counties) if private else county
            units.append(
                {
                    "hsa_id": unit_id,
                    "name": f"{unit_name} {cp_name.split()[-1]}",
                    "kind": "unit",
                    "care_provider_id": cp_id,
                    "county_code": unit_county,
                    "updated_at": _stamp(dt.date(2015, 1, 1)),
                }
            )
            ids.append(unit_id)
        if cp_id == "SE2321000032-SOB0":
            # Cases name this unit although the catalogue lacks it.
            ghost = f"{prefix}-E999"
            ids.append(ghost)
            missing_units.append(ghost)
        units_of[cp_id] = ids
        for n in range(rng.randint(3, 7)):
            practitioners.append(
                {
                    "hsa_id": f"{prefix}-B{n + 1:04d}",
                    "given_name": rng.choice(_GIVEN),
                    "family_name": rng.choice(_FAMILY),
                    "care_provider_id": cp_id,
                }
            )

    missing_cp, _ = MISSING_CARE_PROVIDER
    prefix = missing_cp.split("-")[0]
    # One unit is catalogued (pointing at the missing care provider), one is not.
    units.append(
        {
            "hsa_id": f"{prefix}-E001",
            "name": "Digital terapi Dalarna",
            "kind": "unit",
            "care_provider_id": missing_cp,
            "county_code": "20",
            "updated_at": _stamp(dt.date(2015, 1, 1)),
        }
    )
    units_of[missing_cp] = [f"{prefix}-E001", f"{prefix}-E002"]
    missing_units.append(f"{prefix}-E002")
    for n in range(2):
        practitioners.append(
            {
                "hsa_id": f"{prefix}-B{n + 1:04d}",
                "given_name": rng.choice(_GIVEN),
                "family_name": rng.choice(_FAMILY),
                "care_provider_id": missing_cp,
            }
        )
    return SobWorld(
        units=units,
        practitioners=practitioners,
        processes={k: list(v) for k, v in PROCESSES.items()},
        care_providers=[c for c, _, _, _ in _CARE_PROVIDERS] + [missing_cp],
        care_provider_weights=[w for _, _, _, w in _CARE_PROVIDERS] + [MISSING_CARE_PROVIDER[1]],
        units_of=units_of,
        missing_care_provider_id=missing_cp,
        missing_unit_ids=missing_units,
    )


# --- instants that stress local-time bucketing ------------------------------


# --- patients ----------------------------------------------------------------


@dataclass(frozen=True)
class _Patient:
    pnr: str
    born: dt.date
    gender: str  # as usually reported; "U" for a few
    home: int  # index of the usual care provider


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _make_patients(rng: random.Random, world: SobWorld, n: int, start: dt.date) -> list[_Patient]:
    out: list[_Patient] = []
    seen: set[str] = set()
    while len(out) < n:
        r = rng.random()
        if r < 0.04:
            # infants and young children, born shortly before the data window
            born = start - dt.timedelta(days=rng.randint(1, 3 * 365))
        elif r < 0.12:
            born = start - dt.timedelta(days=rng.randint(4 * 365, 17 * 365))
        elif r < 0.985:
            born = start - dt.timedelta(days=rng.randint(18 * 365, 88 * 365))
        else:
            # the very old: ages up to 130 are valid and must be bucketed 75+
            born = start - dt.timedelta(days=rng.randint(100 * 365, 127 * 365))
        legal = "F" if rng.random() < 0.62 else "M"
        pnr = test_personnummer(rng, born, legal, coordination=rng.random() < 0.03)
        if pnr in seen:
            continue
        seen.add(pnr)
        reported = "U" if rng.random() < 0.03 else legal
        home = rng.choices(range(len(world.care_providers)), world.care_provider_weights)[0]
        out.append(_Patient(pnr, born, reported, home))
    return out


# --- cases ---------------------------------------------------------------------


def _timeline(rng: random.Random, process_case: bool) -> list[str]:
    """Status sequence of one case; times are added by the caller."""
    if not process_case:
        return ["Created", "Inprogress", "Done"][: rng.randint(1, 3)]
    seq: list[str] = []
    if rng.random() < 0.6:
        seq.append("Created")
    r = rng.random()
    if r < 0.07:
        # finished without a recorded start ("Ej påbörjad" or lost data)
        return [*seq, "Done"]
    seq.append("Inprogress")
    if rng.random() < 0.2:
        seq += ["Paused", "Inprogress"]
        if rng.random() < 0.2:
            seq += ["Paused", "Inprogress"]
    # Some moments are simply abandoned and stay ongoing for ever, as in the source.
    if rng.random() < 0.88:
        seq.append("Done")
        if rng.random() < 0.04:
            # reopened and closed again: only the first Done counts
            seq += ["Inprogress", "Done"]
    return seq


def _gap(rng: random.Random, prev: str, status: str) -> dt.timedelta:
    if status == "Inprogress" and prev == "Created":
        return dt.timedelta(hours=rng.expovariate(1 / 40))
    if status == "Done":
        if rng.random() < 0.07:
            return dt.timedelta(hours=rng.uniform(0.5, 20))  # same day
        days = min(300.0, max(0.5, rng.lognormvariate(3.4, 0.9)))  # median ≈ 30 days
        return dt.timedelta(days=days)
    if status == "Paused":
        return dt.timedelta(days=rng.uniform(1, 40))
    return dt.timedelta(days=rng.uniform(0.2, 30))


def make_transactions(
    world: SobWorld, start: dt.datetime, end: dt.datetime, n_cases: int, seed: int
) -> list[dict[str, Any]]:
    """`sob.transactions.v1` events of `n_cases` cases opened in [start, end).

    Transitions falling at or after `end` are cut, so some cases stay open
    and some moments never complete.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    rng = random.Random(f"sob-tx-{seed}")
    start_day = start.astimezone(STHLM).date()
    patients = _make_patients(rng, world, max(5, n_cases * 2 // 5), start_day)
    specials = special_instants(start, end)
    span = (end - start).total_seconds()
    practitioners_of: dict[str, list[str]] = {}
    for p in world.practitioners:
        practitioners_of.setdefault(p["care_provider_id"], []).append(p["hsa_id"])
    processes = list(world.processes)

    events: list[dict[str, Any]] = []
    busy: set[tuple[str, dt.datetime]] = set()
    for _ in range(n_cases):
        patient = rng.choice(patients)
        if rng.random() < 0.85:
            cp_index = patient.home
        else:
            cp_index = rng.choices(range(len(world.care_providers)), world.care_provider_weights)[0]
        cp = world.care_providers[cp_index]
        unit = rng.choice(world.units_of[cp])
        r = rng.random()
        case_type = "Process" if r < 0.85 else OTHER_CASE_TYPES[r >= 0.95]
        process = rng.choice(processes)
        moments = world.processes[process]
        moment = rng.choices(moments, [len(moments) - i for i in range(len(moments))])[0]
        staff = practitioners_of[cp]
        practitioner = rng.choice(staff)
        anonymous = rng.random() < 0.03
        case_id = "arende-" + uuid4(rng)
        # Skewed towards the later years (usage grows), never before start.
        t = start + dt.timedelta(seconds=span * rng.random() ** 0.8 * 0.98)
        statuses = _timeline(rng, case_type == "Process")
        prev = ""
        for i, status in enumerate(statuses):
            if i:
                t = t + _gap(rng, prev, status)
            if rng.random() < 0.08:
                k = bisect.bisect_left(specials, t)
                if k < len(specials):
                    t = specials[k]
            # Never two transactions of one patient at one instant: "the patient's
            # latest transaction" must not depend on a tie-break.
            while not anonymous and (patient.pnr, t) in busy:
                t = t + dt.timedelta(seconds=1)
            if t >= end:
                break
            if not anonymous:
                busy.add((patient.pnr, t))
            prev = status
            if rng.random() < 0.1:
                practitioner = rng.choice(staff)
            local_day = t.astimezone(STHLM).date()
            ev: dict[str, Any] = {
                "event_id": uuid4(rng),
                "occurred_at": rfc3339(t, rng),
                "case_id": case_id,
                "case_type": case_type,
                "status": status,
                "process_name": process,
                "moment_name": moment,
                "care_provider_id": cp,
                "care_unit_id": unit,
            }
            if rng.random() < 0.9:
                ev["practitioner_id"] = practitioner
            if not anonymous:
                ev["patient_id"] = patient.pnr
                g = rng.random()
                if g < 0.9:
                    ev["patient_gender"] = patient.gender
                elif g < 0.93:
                    ev["patient_gender"] = "U"
                age = _age(patient.born, local_day)
                if rng.random() < 0.93 and 0 <= age <= 130:
                    ev["patient_age"] = age
            if status == "Done" and local_day >= REASONS_FROM and rng.random() < 0.9:
                ev["closing_reason"] = rng.choice(CLOSING_REASONS)
            events.append(ev)
            # a second after, at the earliest, so transitions of a case never tie
            t = t + dt.timedelta(seconds=1)
    return events


def shuffled_with_duplicates(
    events: list[dict[str, Any]], dup_rate: float, seed: int
) -> list[dict[str, Any]]:
    """Delivery order as Kafka consumers see it after retries and re-publishing."""
    rng = random.Random(f"sob-dup-{seed}")
    out = [dict(e) for e in events]
    out += [dict(e) for e in events if rng.random() < dup_rate]
    rng.shuffle(out)
    return out


# --- invalid input --------------------------------------------------------------


def _valid_base(rng: random.Random) -> dict[str, Any]:
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20000))
    t = dt.datetime(2023, 5, 4, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=rng.randint(0, 10**5))
    return {
        "event_id": uuid4(rng),
        "occurred_at": rfc3339(t, rng),
        "case_id": "arende-" + uuid4(rng),
        "case_type": "Process",
        "status": "Inprogress",
        "process_name": "Stöd vid sömnbesvär",
        "moment_name": "Sömnskola",
        "care_provider_id": "SE2321000016-SOB0",
        "care_unit_id": "SE2321000016-E001",
        "practitioner_id": "SE2321000016-B0001",
        "patient_id": test_personnummer(rng, born, rng.choice("FM")),
        "patient_gender": "F",
        "patient_age": 40,
    }


def _bad_check_digit(e: dict[str, Any], rng: random.Random) -> None:
    p = e["patient_id"]
    e["patient_id"] = p[:11] + str((int(p[11]) + rng.randint(1, 9)) % 10)


def _impossible_date(e: dict[str, Any], rng: random.Random) -> None:
    # Luhn-correct, so only the date is wrong
    e["patient_id"] = with_check_digit(f"{rng.randint(1930, 2010)}0230{rng.randint(980, 999)}")


def _impossible_coordination_day(e: dict[str, Any], rng: random.Random) -> None:
    e["patient_id"] = with_check_digit(f"{rng.randint(1930, 2010)}0492{rng.randint(980, 999)}")


def _month_13(e: dict[str, Any], rng: random.Random) -> None:
    e["patient_id"] = with_check_digit(f"{rng.randint(1930, 2010)}1315{rng.randint(980, 999)}")


def _eleven_digits(e: dict[str, Any], rng: random.Random) -> None:
    p = e["patient_id"]
    k = rng.randrange(12)
    e["patient_id"] = p[:k] + p[k + 1 :]


def _letters(e: dict[str, Any], rng: random.Random) -> None:
    p = e["patient_id"]
    k = rng.randrange(8, 12)
    e["patient_id"] = p[:k] + rng.choice("ABTX") + p[k + 1 :]


def _hyphenated(e: dict[str, Any], rng: random.Random) -> None:
    p = e["patient_id"]
    e["patient_id"] = p[:8] + "-" + p[8:]


def _as_number(e: dict[str, Any], rng: random.Random) -> None:
    e["patient_id"] = int(e["patient_id"])


def _set(field: str, value: Any) -> Any:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        e[field] = value

    return mutate


def _drop(field: str) -> Any:
    def mutate(e: dict[str, Any], rng: random.Random) -> None:
        del e[field]

    return mutate


# (mutation, label). Labels describe the fault and never carry the number:
# they end up in logs and test output.
_FAULTS: list[tuple[Any, str]] = [
    (_bad_check_digit, "patient_id: wrong check digit"),
    (_impossible_date, "patient_id: impossible date (30 February)"),
    (_impossible_coordination_day, "patient_id: impossible coordination-number day"),
    (_month_13, "patient_id: month 13"),
    (_eleven_digits, "patient_id: 11 digits"),
    (_letters, "patient_id: contains a letter"),
    (_hyphenated, "patient_id: hyphenated form instead of 12 digits"),
    (_as_number, "patient_id: a JSON number, not a string"),
    (_set("patient_age", 131), "patient_age: 131, above 130"),
    (_set("patient_age", -1), "patient_age: negative"),
    (_set("patient_age", "12"), "patient_age: a string, not an integer"),
    (_set("patient_age", 12.5), "patient_age: not a whole number"),
    (_set("patient_gender", "X"), "patient_gender: X is not F, M or U"),
    (_set("patient_gender", "f"), "patient_gender: lower case"),
    (_drop("case_id"), "case_id: missing"),
    (_drop("event_id"), "event_id: missing"),
    (_set("event_id", ""), "event_id: empty"),
    (_drop("status"), "status: missing"),
    (_drop("case_type"), "case_type: missing"),
    (_drop("occurred_at"), "occurred_at: missing"),
    (_set("occurred_at", "2023-05-04T10:00:00"), "occurred_at: no offset"),
    (_set("occurred_at", "2023-02-30T10:00:00Z"), "occurred_at: impossible date"),
    (_set("occurred_at", "4 maj 2023 kl 10"), "occurred_at: not RFC 3339"),
    (_set("occurred_at", 1683194400), "occurred_at: a number"),
    (_set("care_unit_id", "SE2321000016 E001"), "care_unit_id: contains a space"),
]
_NOT_JSON: list[tuple[bytes, str]] = [
    (b'{"event_id": "x", "occurred_at": ', "not JSON: truncated"),
    (b"\xff\xfe{}", "not JSON: invalid UTF-8"),
    (b"[1, 2, 3]", "not a JSON object: array"),
    (b"", "not JSON: empty message"),
    (b"kafka says hi", "not JSON: plain text"),
]


def malformed_sob(n: int, seed: int) -> list[tuple[bytes, str]]:
    """`n` messages that break the `sob.transactions.v1` contract, each with why.

    Every fault kind appears once before any repeats, so even a small `n`
    covers the personnummer faults first.
    """
    rng = random.Random(f"sob-bad-{seed}")
    kinds: list[tuple[Any, str] | tuple[bytes, str]] = [*_FAULTS, *_NOT_JSON]
    out: list[tuple[bytes, str]] = []
    for i in range(n):
        fault, label = kinds[i % len(kinds)]
        if isinstance(fault, bytes):
            out.append((fault, label))
            continue
        e = _valid_base(rng)
        fault(e, rng)
        out.append((orjson.dumps(e), label))
    return out
