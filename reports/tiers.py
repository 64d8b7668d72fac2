"""Who may see what: the one place where tiers are decided.

Open callers carry no token. Logged-in callers carry a bearer JWT (HS256,
signed with STATFLOW_JWT_SECRET) naming their care provider(s) and roles.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import jwt

from reports.catalogue import Report
from reports.params import ReportParams
from statflow.errors import AccessDenied
from streams.settings import Settings

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Caller:
    subject: str
    care_providers: tuple[str, ...]
    roles: tuple[str, ...] = ()


def verify(token: str, secret: str) -> Caller:
    """A valid token's caller; anything else is a 401 that says why."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        raise AccessDenied("the bearer token has expired; get a new one", 401) from None
    except jwt.InvalidTokenError:
        raise AccessDenied("the bearer token is not valid (signature or format)", 401) from None
    providers = claims.get("care_providers")
    if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
        raise AccessDenied("the bearer token names no care_providers", 401)
    roles = claims.get("roles", [])
    return Caller(str(claims.get("sub", "")), tuple(providers), tuple(map(str, roles)))


def issue(
    secret: str,
    subject: str,
    care_providers: Sequence[str],
    roles: Sequence[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=8),
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject,
        "care_providers": list(care_providers),
        "roles": list(roles),
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def load_secret(settings: Settings, name: str = "jwt-secret", configured: str | None = None) -> str:
    """The configured secret, or a development one kept under the data directory
    (so `statflow token` and `statflow run` on one machine agree)."""
    value = settings.jwt_secret if configured is None else configured
    if value:
        return value
    path = settings.home / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def from_header(authorization: str | None, secret: str) -> Caller | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessDenied("use the header 'Authorization: Bearer <token>'", 401)
    return verify(token.strip(), secret)


def authorize(report: Report, caller: Caller | None) -> None:
    if caller is None and "open" not in report.tiers:
        raise AccessDenied(
            f"{report.service}/{report.id} is served to logged-in staff only "
            "(rule: logged-in tier; send a bearer token)",
            403,
        )


def scope(report: Report, params: ReportParams, caller: Caller | None) -> ReportParams:
    """Logged-in callers see their own care providers only: the care_provider
    filter is forced to (a subset of) the caller's own."""
    if caller is None:
        return params
    own = caller.care_providers
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


def open_row_filter(
    columns: Sequence[str], rows: list[list[Any]], opted_in: str
) -> tuple[list[list[Any]], bool]:
    """Open answers show organisation-level rows only for care providers that
    opted in ("*" = all); returns the rows kept and whether any were left out."""
    if opted_in.strip() == "*" or "care_provider_id" not in columns:
        return rows, False
    allowed = {p.strip() for p in opted_in.split(",") if p.strip()}
    i = list(columns).index("care_provider_id")
    kept = [r for r in rows if r[i] in allowed]
    return kept, len(kept) != len(rows)
