"""Who may see what: the one place where tiers are decided.

Open callers carry no token. Logged-in callers carry a bearer JWT (HS256,
signed with STATFLOW_JWT_SECRET) naming their care provider(s) and roles.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

from reports.catalogue import Report
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


def load_secret(settings: Settings) -> str:
    """The configured secret, or a development one kept under the data directory
    (so `statflow token` and `statflow run` on one machine agree)."""
    if settings.jwt_secret:
        return settings.jwt_secret
    path = settings.home / "jwt-secret"
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
