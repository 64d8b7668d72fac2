"""The catalogue: every service statflow reports on, listed once.

Each service declares its reports in reports/<service>.py (the types are in
reports/declarations.py); a new service is one more line in SERVICES. No
module registers itself on import."""

from __future__ import annotations

from reports import etj, ntjp, sob
from reports.declarations import Report, Service

# The order of the catalogue endpoint (/api/v1/reports) and the pages.
SERVICES: tuple[Service, ...] = (
    etj.SERVICE_DECL,
    sob.SERVICE_DECL,
    ntjp.SERVICE_DECL,
)


def services() -> dict[str, Service]:
    return {s.id: s for s in SERVICES}


def find(service: str, report: str) -> Report | None:
    svc = services().get(service)
    if svc is None:
        return None
    return next((r for r in svc.reports if r.id == report), None)
