"""The open tier's opt-in (STATFLOW_OPEN_CARE_PROVIDERS) on real Kafka, Redis and chDB.

REPORTS.md: open answers show *organisation rows* (care provider and unit
levels) only for care providers that opted in; opting in never changes which
units, cases or calls a total counts. For every open report of every service,
with a partial opt-in list, through a real `statflow run`:
- every row that is not an organisation row (national, county, month, case
  type, …) equals the independent oracle, which knows nothing of opting in;
- organisation rows are exactly the oracle's rows of providers that opted in
  (the provider taken from the generated catalogue, not from statflow);
- an open request filtered to a provider (or a unit) that did not opt in is
  refused, one that did is answered in full;
- after a restart with `*`, every non-organisation answer is identical and the
  organisation rows that reappear all belong to providers that did not opt in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from reports.disclosure import NOTE_LINKED
from synth.etj import current_units, make_accounts, make_cases, make_etj_world, make_logins
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from synth.sob import make_sob_world, make_transactions
from tests.integration import test_etj_e2e, test_ntjp_e2e, test_sob_e2e
from tests.integration.compare import as_dicts, diff, secondary_nulls
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish
from tests.oracle import etj as etj_oracle
from tests.oracle import ntjp as wtb_oracle
from tests.oracle import sob as stod_oracle
from tests.oracle import sob_drill as stod_drill

ORGANISATION_COLUMNS = ("care_provider_id", "unit_id")
Want = Callable[[str, dict[str, Any]], list[dict[str, Any]]]


def partial(providers: list[str]) -> list[str]:
    """Every provider but one in three: a partial opt-in list."""
    return [p for i, p in enumerate(sorted(providers)) if i % 3 != 1]


def open_reports(proc: StatflowProcess, service: str) -> list[str]:
    catalogue = proc.get("/api/v1/reports").json()["reports"]
    return [r["id"] for r in catalogue if r["service"] == service and "open" in r["tiers"]]


def is_organisation(answer: dict[str, Any]) -> bool:
    return any(c["name"] in ORGANISATION_COLUMNS for c in answer["columns"])


class Checker:
    """Compares open answers under a partial opt-in with the oracle's rows."""

    def __init__(self, proc: StatflowProcess, service: str, keys: dict[str, list[str]],
                 want: Want, opted: set[str], provider_of_unit: dict[str, set[str]]) -> None:  # fmt: skip
        self.proc, self.service, self.keys, self.want = proc, service, keys, want
        self.opted, self.provider_of_unit = opted, provider_of_unit
        self.failures: list[str] = []
        self.hidden = 0  # organisation rows the oracle has and the answer may not show
        self.answers: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def shown(self, row: dict[str, Any]) -> bool:
        if "care_provider_id" in row:
            return row["care_provider_id"] in self.opted
        providers = self.provider_of_unit.get(row["unit_id"], set())
        return bool(providers) and providers <= self.opted

    def get(self, report: str, params: dict[str, Any]) -> Any:
        return self.proc.get(f"/api/v1/reports/{self.service}/{report}", **params)

    def problems(self, report: str, params: dict[str, Any]) -> tuple[list[str], Any]:
        r = self.get(report, params)
        if r.status_code != 200:
            return [f"{r.status_code} {r.text[:300]}"], None
        answer = r.json()
        everything = self.want(report, params)
        want, out = everything, []
        if is_organisation(answer):
            want = [w for w in everything if self.shown(w)]
            if len(want) < len(everything):
                self.hidden += len(everything) - len(want)
                if not any("organisationsnivå" in n for n in answer["notes"]):
                    out.append("no note says organisation rows are left out")
        names = {c["name"] for c in answer["columns"]}
        keys = [k for k in self.keys[report] if k in names]
        if "residents" in names:
            # a resident count withheld as a consequence of another, across the
            # drill-down's levels (reports/disclosure), is said in the notes
            want, _ = secondary_nulls(
                as_dicts(answer), want, keys, "residents", answer["notes"], NOTE_LINKED
            )
        return out + diff(as_dicts(answer), want, keys), answer

    def ready(self, reports: tuple[str, ...], params: dict[str, Any]) -> Any:
        """For wait_for: True once these answers agree (the data is in)."""
        return all(not self.problems(r, params)[0] for r in reports) or "not yet"

    def check(self, report: str, params: dict[str, Any]) -> None:
        problems, answer = self.problems(report, params)
        if problems:
            self.failures.append(f"{report} {params}:\n  " + "\n  ".join(problems))
        if answer is not None:
            self.answers.append((report, params, answer))

    def refused(self, report: str, params: dict[str, Any]) -> None:
        r = self.get(report, params)
        if r.status_code != 403 or "opted in" not in r.json().get("error", ""):
            self.failures.append(f"{report} {params}: want 403 (not opted in), got "
                                 f"{r.status_code} {r.text[:200]}")  # fmt: skip

    def same_with_everyone(self, star: StatflowProcess) -> None:
        """With `*`: non-organisation answers identical; organisation rows a
        superset whose extra rows are all of providers that did not opt in."""
        for report, params, answer in self.answers:
            other = star.report(self.service, report, **params)
            if not is_organisation(answer):
                if not same_but_linked_nulls(answer, other):
                    self.failures.append(f"{report} {params}: differs from the answer with '*'")
                continue
            mine = [tuple(map(repr, row)) for row in answer["rows"]]
            theirs = [tuple(map(repr, row)) for row in other["rows"]]
            extra = [d for d, row in zip(as_dicts(other), theirs, strict=True) if row not in mine]
            if not set(mine) <= set(theirs) or any(self.shown(d) for d in extra):
                self.failures.append(f"{report} {params}: organisation rows differ from '*'")

    def assert_ok(self) -> None:
        assert not self.failures, "\n".join(self.failures[:12])
        assert self.hidden > 0, "the data should have organisation rows of providers not opted in"


def same_but_linked_nulls(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal rows, but for resident counts one side withholds as a consequence
    of what it publishes (its notes say so): which organisation rows an answer
    shows changes which further cells disclosure control must withhold."""
    if a["rows"] == b["rows"]:
        return True
    if len(a["rows"]) != len(b["rows"]):
        return False
    names = [c["name"] for c in a["columns"]]
    for ra, rb in zip(a["rows"], b["rows"], strict=True):
        for name, va, vb in zip(names, ra, rb, strict=True):
            if va == vb:
                continue
            linked = (va is None and NOTE_LINKED in a["notes"]) or (
                vb is None and NOTE_LINKED in b["notes"]
            )
            if name != "residents" or not linked:
                return False
    return True


def restart_with_everyone(proc: StatflowProcess) -> StatflowProcess:
    proc.stop()
    proc.settings = proc.settings.with_(open_care_providers="*")
    return proc.start()


# --- 1177 e-services ---------------------------------------------------------------


def test_etj_open_totals_count_every_unit(settings: Any, statflow: StatflowProcess) -> None:
    start, end = test_etj_e2e.START, test_etj_e2e.END
    world = make_etj_world(seed=51)
    data_cases = make_cases(world, start, end, 3_000, seed=51)
    accounts = make_accounts(world, start, end, 600, seed=52)
    logins = make_logins(world, start, end, 3_000, seed=53, accounts=accounts)
    units = current_units(world)
    providers = sorted({u["care_provider_id"] for u in units.values()})
    opted = partial(providers)
    statflow.settings = settings.with_(open_care_providers=",".join(opted))

    publish(settings, "etj.units.v1", world.units)
    publish(settings, "hsa.persons.v1", world.persons)
    publish(settings, "etj.accounts.v1", accounts)
    statflow.start()
    publish(settings, "etj.cases.v1", data_cases)
    publish(settings, "etj.logins.v1", logins)

    def want(report: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        filters = {k: v if isinstance(v, list) else [v] for k, v in params.items()
                   if k not in ("from", "to")}  # fmt: skip
        return etj_oracle.expected(
            report, cases=data_cases, logins=logins, accounts=accounts, units=world.units,
            persons=world.persons, date_from=dt.date.fromisoformat(params["from"]),
            date_to=dt.date.fromisoformat(params["to"]), filters=filters or None,
        )  # fmt: skip

    provider_of_unit = {u: {r["care_provider_id"]} for u, r in units.items()}
    check = Checker(statflow, "e-tjanster", test_etj_e2e.KEYS, want, set(opted), provider_of_unit)
    full = {"from": "2023-07-01", "to": "2024-06-30"}
    # Waits on answers today's rule already got right, so a wrong total fails below.
    ready = ("cases-per-unit", "logins", "accounts")
    statflow.wait_for(lambda: check.ready(ready, full), timeout=240, what="data ingested")

    reports = open_reports(statflow, "e-tjanster")
    assert set(reports) == set(test_etj_e2e.KEYS) - {"unanswered-cases"}
    month = {"from": "2024-03-01", "to": "2024-03-31"}
    mine = next(u for u, r in sorted(units.items()) if r["care_provider_id"] in opted)
    theirs = next(u for u, r in sorted(units.items()) if r["care_provider_id"] not in opted)
    for report in reports:
        wide = report in test_etj_e2e.PLATFORM_WIDE
        periods = (full, {"from": "2009-01-01", "to": "2024-06-30"}) if report == (
            "connected-units") else (full, month)  # fmt: skip
        for period in periods:
            check.check(report, period)
        check.check(report, {**month, "county": ["01", "12", "00"]})
        if not wide:
            check.check(report, {**full, "care_provider": opted[0]})
            check.check(report, {**full, "unit": mine})
            check.refused(report, {**full, "care_provider": sorted(set(providers) - set(opted))[0]})
            check.refused(report, {**full, "unit": theirs})
            check.refused(report, {**full, "unit": [mine, theirs]})
    check.assert_ok()

    check.same_with_everyone(restart_with_everyone(statflow))
    check.assert_ok()


# --- support and treatment -----------------------------------------------------------


def test_stod_open_totals_count_every_unit(settings: Any, statflow: StatflowProcess) -> None:
    world = make_sob_world(seed=61)
    txs = make_transactions(world, dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
                            dt.datetime(2024, 7, 1, tzinfo=dt.UTC), 4_000, seed=61)  # fmt: skip
    opted = partial(list(world.care_providers))
    statflow.settings = settings.with_(open_care_providers=",".join(opted))
    publish(settings, "hsa.units.v1", world.units)
    publish(settings, "hsa.persons.v1", world.practitioners)
    statflow.start()
    publish(settings, "sob.transactions.v1", txs)

    def want(report: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        filters = {k: v if isinstance(v, list) else [v] for k, v in params.items()
                   if k not in ("from", "to", "level")}  # fmt: skip
        rows, _ = stod_oracle.expected(
            report, transactions=txs, units=world.units, practitioners=world.practitioners,
            date_from=dt.date.fromisoformat(params["from"]),
            date_to=dt.date.fromisoformat(params["to"]), level=params.get("level"),
            filters=filters or None,
        )  # fmt: skip
        return rows

    # A unit's providers are those its transactions name (the reports' attribution).
    provider_of_unit: dict[str, set[str]] = {}
    for t in txs:
        provider_of_unit.setdefault(t["care_unit_id"], set()).add(t["care_provider_id"])
    check = Checker(statflow, "stod-och-behandling", test_sob_e2e.KEYS, want, set(opted),
                    provider_of_unit)  # fmt: skip
    full = {"from": "2022-01-01", "to": "2024-06-30"}
    ready = ("moments-per-month",)
    statflow.wait_for(lambda: check.ready(ready, full), timeout=240, what="data ingested")

    reports = open_reports(statflow, "stod-och-behandling")
    assert set(reports) == set(test_sob_e2e.KEYS)
    half = {"from": "2023-01-01", "to": "2023-06-30"}
    mine = next(u for u, ps in sorted(provider_of_unit.items()) if ps <= set(opted))
    theirs = next(u for u, ps in sorted(provider_of_unit.items()) if not ps & set(opted))
    levels = {"moments-by-hierarchy": stod_drill.HIERARCHY_LEVELS,
              "moments-by-moment": stod_drill.MOMENT_LEVELS}  # fmt: skip
    for report in reports:
        for period in (full, half):
            check.check(report, period)
        for level in levels.get(report, ()):
            check.check(report, {**half, "level": level})
        check.check(report, {**half, "county": ["01", "14", "00"]})
        check.check(report, {**full, "care_provider": opted[0]})
        check.check(report, {**full, "unit": mine})
        refused = sorted(set(world.care_providers) - set(opted))[0]
        check.refused(report, {**full, "care_provider": refused})
        check.refused(report, {**full, "unit": theirs})
    check.assert_ok()

    check.same_with_everyone(restart_with_everyone(statflow))
    check.assert_ok()


# --- web booking ---------------------------------------------------------------------


def test_webbtidbokning_open_totals_count_every_unit(
    settings: Any, statflow: StatflowProcess
) -> None:
    world = make_world(seed=71)
    calls = make_calls(world, test_ntjp_e2e.START, test_ntjp_e2e.END,
                       20_000, seed=71)  # fmt: skip
    catalogue = wtb_oracle.current_catalogue(world.units + world.unit_moves)
    units = {k: v for k, v in catalogue.items() if v.get("kind") == "unit"}
    providers = sorted({u["care_provider_id"] for u in units.values()})
    opted = partial(providers)
    statflow.settings = settings.with_(open_care_providers=",".join(opted))
    test_ntjp_e2e.publish_world(settings, world)
    statflow.start()
    publish(settings, "ntjp.calls.v1", calls)

    def want(report: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        filters = {k: v if isinstance(v, list) else [v] for k, v in params.items()
                   if k not in ("from", "to", "level")}  # fmt: skip
        return wtb_oracle.expected(
            report, calls=calls, units=world.units + world.unit_moves, routing=world.routing,
            population=world.population, date_from=dt.date.fromisoformat(params["from"]),
            date_to=dt.date.fromisoformat(params["to"]),
            level=params.get("level", "activity"), filters=filters or None,
        )  # fmt: skip

    provider_of_unit = {u: {r["care_provider_id"]} for u, r in units.items()}
    check = Checker(statflow, "webbtidbokning", test_ntjp_e2e.KEYS, want, set(opted),
                    provider_of_unit)  # fmt: skip
    full = {"from": "2023-01-01", "to": "2025-03-31"}
    ready = ("events-per-weekday",)
    statflow.wait_for(lambda: check.ready(ready, full), timeout=240, what="data ingested")

    reports = open_reports(statflow, "webbtidbokning")
    assert set(reports) == set(test_ntjp_e2e.KEYS)
    dst = {"from": "2024-03-15", "to": "2024-11-03"}
    mine = next(u for u, r in sorted(units.items()) if r["care_provider_id"] in opted)
    theirs = next(u for u, r in sorted(units.items()) if r["care_provider_id"] not in opted)
    for report in reports:
        for period in (full, dst):
            check.check(report, period)
        if report == "events-by-hierarchy":
            for level in wtb_oracle.LEVELS:
                check.check(report, {**dst, "level": level})
        check.check(report, {**dst, "county": ["01", "12"]})
        check.check(report, {**full, "care_provider": opted[0]})
        check.check(report, {**full, "unit": mine})
        check.refused(report, {**full, "care_provider": sorted(set(providers) - set(opted))[0]})
        check.refused(report, {**full, "unit": theirs})
    check.assert_ok()

    check.same_with_everyone(restart_with_everyone(statflow))
    check.assert_ok()
