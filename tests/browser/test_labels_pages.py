"""Issue 20 on the pages: every report card and "Definition" box states the
plain definition declared with the report, in the page's language; the
e-services' filters offer labels (Primärvård, Ja/Nej), and their tables show
labels where the answer has codes (Invånare, BankID, Boka tid)."""

from __future__ import annotations

from typing import Any

import pytest

from reports import catalogue
from schemas.etj import ACTORS, CARE_TYPES, LOGIN_METHODS, STANDARD_CASE_TYPES
from tests.browser.conftest import Served
from tests.browser.test_pages import PERIOD, loaded, wait_loaded

OPEN = [r for s in catalogue.SERVICES for r in s.reports if "open" in r.tiers]
CODES = {*CARE_TYPES, *ACTORS, *LOGIN_METHODS, *STANDARD_CASE_TYPES, "true", "false"}


def short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "…"


def test_report_cards_state_the_swedish_definition(served: Served, page: Any) -> None:
    page.goto(served.url + "/")
    page.wait_for_selector("section.service a[data-report]")
    for r in OPEN:
        card = page.locator(f"li:has(a[data-report='{r.service}/{r.id}']) p")
        assert card.inner_text().strip() == short(r.definition.sv), r.id


@pytest.mark.parametrize("service", [s.id for s in catalogue.SERVICES])
def test_definition_box_in_swedish_then_english(served: Served, page: Any, service: str) -> None:
    r = next(r for r in OPEN if r.service == service)
    page.goto(f"{served.url}/r/{service}/{r.id}?from={PERIOD['from']}&to={PERIOD['to']}")
    wait_loaded(page)
    assert page.locator(".definition").inner_text().strip() == f"Definition: {r.definition.sv}"
    before = loaded(page)
    page.click("#lang-toggle")
    wait_loaded(page, before)
    assert page.locator(".definition").inner_text().strip() == f"Definition: {r.definition.en}"


def cells(page: Any) -> list[str]:
    return list(page.locator("#report-table tbody td").all_inner_texts())


def test_e_services_filters_and_tables_show_labels(served: Served, page: Any) -> None:
    base = f"{served.url}/r/e-tjanster"
    page.goto(f"{base}/connected-units?from=2000-01-01&to={PERIOD['to']}")
    wait_loaded(page)
    care = page.locator("#f-care_type option").all_inner_texts()
    assert care == ["Primärvård", "Specialistvård", "Tandvård", "Psykiatri", "Kommunal vård",
                    "Övrig vård"]  # fmt: skip
    assert page.locator("#f-active_only option").all_inner_texts() == ["Ja", "Nej"]
    shown = cells(page)
    assert shown and not CODES & set(shown)
    page.goto(f"{base}/cases-per-case-type?from={PERIOD['from']}&to={PERIOD['to']}")
    wait_loaded(page)
    hint = page.locator("#f-case_type-hint").inner_text()
    assert hint.startswith("Ärendetypens id") and "HSA" not in hint
    for report in ("logins", "cases-per-case-type", "handling-times"):
        page.goto(f"{base}/{report}?from={PERIOD['from']}&to={PERIOD['to']}")
        wait_loaded(page)
        shown = cells(page)
        assert shown and not CODES & set(shown), (report, sorted(CODES & set(shown)))
