"""Bearer tokens and roles, declared once for every HTTP surface.

Logged-in callers carry a bearer JWT (HS256, signed with STATFLOW_JWT_SECRET)
naming their care provider(s) and roles; the report API (reports/tiers.py
decides what a caller may see) and the ClickHouse HTTP front (web/chhttp) both
verify them here. Pure: no project imports above the ground floor."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from core.errors import AccessDenied
from core.settings import Settings

ALGORITHM = "HS256"


# Every role a token can carry, declared once; the HTTP surfaces check these names.
REGION_ADMIN = "region_admin"  # reports over units: the units of its county_code
UNIT_ADMIN = "unit_admin"  # reports over units: its unit_ids
OPERATOR = "operator"  # quality notes, file drops, backfills
AUDITOR = "auditor"  # the audit log
EXPORT_AGGREGATED = "export_aggregated"
EXPORT_PSEUDONYMISED = "export_pseudonymised"
EXPORT_IDENTIFIED = "export_identified"
SQL_READER = "sql_reader"  # ClickHouse HTTP: the reports database, read only
SQL_SERVICE = "service"  # ClickHouse HTTP: statflow workers
ADMIN_ROLES = (REGION_ADMIN, UNIT_ADMIN)
ROLES = (
    REGION_ADMIN,
    UNIT_ADMIN,
    OPERATOR,
    AUDITOR,
    EXPORT_AGGREGATED,
    EXPORT_PSEUDONYMISED,
    EXPORT_IDENTIFIED,
    SQL_READER,
    SQL_SERVICE,
)


@dataclass(frozen=True)
class Caller:
    subject: str
    care_providers: tuple[str, ...]
    roles: tuple[str, ...] = ()
    county_code: str | None = None  # region_admin
    unit_ids: tuple[str, ...] = ()  # unit_admin


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
    roles = tuple(map(str, claims.get("roles", [])))
    county = claims.get("county_code")
    units = claims.get("unit_ids", [])
    if REGION_ADMIN in roles and not isinstance(county, str):
        raise AccessDenied("a region_admin token must name its county_code", 401)
    if UNIT_ADMIN in roles and (
        not isinstance(units, list) or not units or not all(isinstance(u, str) for u in units)
    ):
        raise AccessDenied("a unit_admin token must name its unit_ids", 401)
    return Caller(
        str(claims.get("sub", "")),
        tuple(providers),
        roles,
        county if isinstance(county, str) else None,
        tuple(units) if isinstance(units, list) else (),
    )


def issue(
    secret: str,
    subject: str,
    care_providers: Sequence[str],
    roles: Sequence[str] = (),
    ttl: dt.timedelta = dt.timedelta(hours=8),
    county_code: str | None = None,
    unit_ids: Sequence[str] = (),
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "care_providers": list(care_providers),
        "roles": list(roles),
        "iat": now,
        "exp": now + ttl,
    }
    if county_code is not None:
        claims["county_code"] = county_code
    if unit_ids:
        claims["unit_ids"] = list(unit_ids)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def load_secret(settings: Settings, name: str = "jwt-secret", configured: str | None = None) -> str:
    """The configured secret, or a development one kept under the data directory
    (so `statflow token` and `statflow run` on one machine agree)."""
    value = settings.jwt_secret if configured is None else configured
    if value:
        return value
    path = settings.home / name
    if not path.exists():
        # Processes starting together must agree on one secret, and nobody may
        # read it half-written or before it is private: each writes its own
        # candidate (created 0600), and the first hard link to the name wins.
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(8)}")
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, path)
        except FileExistsError:
            pass  # another process's secret is the one
        finally:
            candidate.unlink()
    return path.read_text(encoding="utf-8").strip()


def from_header(authorization: str | None, secret: str) -> Caller | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AccessDenied("use the header 'Authorization: Bearer <token>'", 401)
    return verify(token.strip(), secret)


def auth_headers(settings: Settings, role: str, subject: str = "statflow-cli") -> dict[str, str]:
    """A short-lived token for the running API, signed with this machine's secret
    (the same `statflow run` uses), for commands that act through it."""
    secret = load_secret(settings)
    token = issue(secret, subject, ["*"], [role], ttl=dt.timedelta(minutes=10))
    return {"Authorization": f"Bearer {token}"}
