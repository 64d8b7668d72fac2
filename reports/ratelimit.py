"""Per-client rate limit of the open API, counted in Redis.

A fixed window per client address: the first request of a window creates a
counter that expires after the window; each request adds one, atomically with
the expiry in one Lua script, so any number of `statflow api` processes share
one count and Redis's clock (not a process's) decides when a window ends.
Nothing is kept in process memory.

The address is not stored: the key is a keyed hash of it (HMAC with a secret
every API process of a deployment shares), gone when the window ends.

When Redis does not answer, requests are let through (fail-open) with a
warning: the limit protects the store from floods, and refusing every open
reader because the cache is down would be an outage of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.settings import Settings

log = logging.getLogger("statflow.ratelimit")

# KEYS[1] counter; ARGV[1] window seconds. Returns {count, seconds left}.
_HIT = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds until the window ends, when refused
    remaining: int = 0


def decide(count: int, seconds_left: int, limit: int) -> Verdict:
    """Pure: the `count`-th request of a window with `seconds_left` to go."""
    if count <= limit:
        return Verdict(True, 0, limit - count)
    return Verdict(False, max(1, seconds_left), 0)


class RateLimiter:
    def __init__(self, settings: Settings, secret: str) -> None:
        self.limit = settings.rate_limit_requests
        self.window = settings.rate_limit_window_seconds
        self._key = f"statflow:{settings.clickhouse_database}:ratelimit:"
        self._secret = hmac.new(secret.encode(), b"statflow rate limit", hashlib.sha256).digest()
        # Short timeouts: a hung Redis must not hold every open request.
        self._redis = aioredis.from_url(
            settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._script = self._redis.register_script(_HIT)
        self._warned_at = 0.0  # only paces the warning; no decision rests on it

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def key(self, client: str) -> str:
        digest = hmac.new(self._secret, client.encode(), hashlib.sha256).hexdigest()[:32]
        return self._key + digest

    async def hit(self, client: str) -> Verdict:
        if not self.enabled:
            return Verdict(True)
        try:
            count, left = await self._script(keys=[self.key(client)], args=[self.window])
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning(
                    "rate limit not enforced: redis is not answering (fail-open)",
                    extra={"error": type(exc).__name__},
                )
            return Verdict(True)
        return decide(int(count), int(left), self.limit)

    async def close(self) -> None:
        await self._redis.aclose()
