"""Who may see what: the one place where tiers are decided.

Open callers carry no token. Logged-in callers carry a bearer JWT (HS256,
signed with STATFLOW_JWT_SECRET) naming their care provider(s) and roles.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any

from core.auth import ADMIN_ROLES, REGION_ADMIN, Caller
from core.errors import AccessDenied
from reports.declarations import Report, ReportParams


def authorize(report: Report, caller: Caller | None) -> None:
    if caller is None and "open" not in report.tiers:
        raise AccessDenied(
            f"{report.service}/{report.id} is served to logged-in staff only "
            "(rule: logged-in tier; send a bearer token)",
            403,
        )


def scope(
    report: Report, params: ReportParams, caller: Caller | None, opted_in: str = "*"
) -> ReportParams:
    """Logged-in callers see their own care providers only: the care_provider
    filter is forced to (a subset of) the caller's own. On reports over units,
    a region_admin sees its county's units and a unit_admin its own units
    instead. Open callers carry the opt-in list: `open_rows` and
    `check_open_filters` apply it to the answer, never to the query."""
    if caller is None:
        allowed = opted_in_providers(opted_in)
        if allowed is None:
            return params
        return replace(params, open_care_providers=allowed)
    if report.platform_wide:
        return params
    if report.unit_scoped and any(r in caller.roles for r in ADMIN_ROLES):
        return _admin_scope(params, caller)
    own = caller.care_providers
    if not own:
        raise AccessDenied(
            f"your token names no care provider, and {report.service}/{report.id} is scoped "
            "by care provider (rule: logged-in callers see their own organisation only)",
            403,
        )
    asked = params.values("care_provider")
    foreign = [a for a in asked if a not in own]
    if foreign:
        raise AccessDenied(
            f"care provider {foreign[0][:64]!r} is not one of yours "
            "(rule: logged-in callers see their own organisation only)",
            403,
        )
    if "care_provider" not in report.filters:
        raise AccessDenied(f"{report.id} cannot be limited to an organisation", 403)
    filters = {**params.filters, "care_provider": asked or own}
    return replace(params, filters=filters, caller_care_providers=own)


def _admin_scope(params: ReportParams, caller: Caller) -> ReportParams:
    if REGION_ADMIN in caller.roles:
        county = caller.county_code or ""
        foreign = [c for c in params.values("county") if c != county]
        if foreign:
            raise AccessDenied(
                f"county {foreign[0][:10]!r} is not your region's "
                "(rule: a region_admin sees the units of its own county)",
                403,
            )
        return replace(params, caller_county=county)
    foreign = [u for u in params.values("unit") if u not in caller.unit_ids]
    if foreign:
        raise AccessDenied(
            f"unit {foreign[0][:64]!r} is not one of yours "
            "(rule: a unit_admin sees its own units only)",
            403,
        )
    return replace(params, caller_units=caller.unit_ids)


def opted_in_providers(setting: str) -> tuple[str, ...] | None:
    """STATFLOW_OPEN_CARE_PROVIDERS as a list; None = "*", every provider."""
    if setting.strip() == "*":
        return None
    return tuple(p.strip() for p in setting.split(",") if p.strip())


# --- The open tier's opt-in rule (REPORTS.md), pure -----------------------------
#
# Opting in governs which *organisation rows* an open answer shows, never which
# units, cases or calls a total counts: every report's query counts everything,
# and this rule runs on the aggregated answer. An organisation row is a row with
# a care-provider or unit column (`care_provider_id`, `unit_id`: the stable API
# names of the care_provider and unit levels in every service). It may be shown
# when its care provider opted in: the row's own `care_provider_id`, else the
# current care provider(s) of its `unit_id`. A row whose provider is unknown
# (a unit missing from the catalogue) has no provider that opted in.
# An answer limited by a `care_provider` or `unit` filter is, as a whole, about
# those organisations: it is refused unless all of them opted in.

ORGANISATION_COLUMNS = ("care_provider_id", "unit_id")
NOTE_OPEN_ORGANISATIONS = (
    "Rader för enheter och vårdgivare vars vårdgivare inte valt att visa öppen statistik "
    "på organisationsnivå redovisas inte; summor och län räknar alla enheter."
)

UnitProviders = Mapping[str, Collection[str]]


def is_organisation_answer(columns: Sequence[str]) -> bool:
    """Whether an answer with these columns has organisation rows."""
    return any(c in ORGANISATION_COLUMNS for c in columns)


def row_may_be_shown(
    columns: Sequence[str],
    row: Sequence[Any],
    allowed: Collection[str] | None,
    unit_providers: UnitProviders,
) -> bool:
    """The one decision: may an open answer show this row? Rows that are not
    organisation rows (national, county, period, case type, …) always may."""
    return _shown_by(columns, allowed, unit_providers)(row)


def _shown_by(
    columns: Sequence[str], allowed: Collection[str] | None, unit_providers: UnitProviders
) -> Callable[[Sequence[Any]], bool]:
    """`row_may_be_shown` for every row of one answer: the columns are looked
    up once, not once per row."""
    cols = list(columns)
    if allowed is None or not is_organisation_answer(cols):
        return lambda row: True
    if "care_provider_id" in cols:
        i = cols.index("care_provider_id")
        return lambda row: row[i] in allowed
    i = cols.index("unit_id")

    def by_unit(row: Sequence[Any]) -> bool:
        providers = unit_providers.get(row[i], ())
        return bool(providers) and all(p in allowed for p in providers)

    return by_unit


def open_rows(
    columns: Sequence[str],
    rows: list[list[Any]],
    allowed: Collection[str] | None,
    unit_providers: UnitProviders | None = None,
) -> tuple[list[list[Any]], bool]:
    """The rows an open answer may show, and whether any were left out."""
    if allowed is None:
        return rows, False
    kept = list(filter(_shown_by(columns, allowed, unit_providers or {}), rows))
    return kept, len(kept) != len(rows)


def units_to_attribute(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The unit ids whose care providers `open_rows` needs for these rows."""
    cols = list(columns)
    if "care_provider_id" in cols or "unit_id" not in cols:
        return []
    i = cols.index("unit_id")
    return sorted({str(r[i]) for r in rows if r[i] is not None})


def check_open_filters(
    filters: Mapping[str, Sequence[str]],
    allowed: Collection[str] | None,
    unit_providers: UnitProviders,
) -> None:
    """Refuse an open request limited to an organisation that did not opt in:
    its whole answer would be that organisation's statistics."""
    if allowed is None:
        return
    for provider in filters.get("care_provider", ()):
        if provider not in allowed:
            raise AccessDenied(
                f"care provider {provider[:64]!r} does not publish open statistics at "
                "organisation level (rule: open answers show organisations that opted in); "
                "drop the care_provider filter or log in",
                403,
            )
    for unit in filters.get("unit", ()):
        providers = unit_providers.get(unit, ())
        if not providers or any(p not in allowed for p in providers):
            raise AccessDenied(
                f"unit {unit[:64]!r} belongs to no care provider that publishes open "
                "statistics at organisation level (rule: open answers show organisations "
                "that opted in); drop the unit filter or log in",
                403,
            )


def open_row_filter(
    columns: Sequence[str], rows: list[list[Any]], opted_in: str
) -> tuple[list[list[Any]], bool]:
    """`open_rows` for a STATFLOW_OPEN_CARE_PROVIDERS setting ("*" = all)."""
    return open_rows(columns, rows, opted_in_providers(opted_in))
