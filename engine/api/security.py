"""API key authentication, scope and tenancy authorisation, and abuse limits.

One Litestar guard, driven by each handler's ``opt["scope"]``: 401 for a missing, malformed,
unknown or revoked key (the key row is read on every request, so a revocation applies at once on
every API host); 403 for a key without the scope; then, on routes with an ``athlete_id``, 404 for
an athlete outside the key's organisation or caseload (word for word the answer for an athlete
that does not exist) and 410 for an erased one. The guard binds the key as the request's actor (the
store writes it on appended events) and records the access. Keys arrive as
``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

Limits: requests per key per window (Litestar's rate-limit middleware, in Redis when configured)
answered 429 with ``Retry-After``; and at most ``max_long_polls`` waiting requests per key.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import anyio
from litestar.connection import ASGIConnection, Request
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.openapi.spec import SecurityScheme

from engine.api.errors import ApiError
from engine.ingest import ATHLETE_ID
from engine.keys import ApiKey, KeyStore, Scope
from engine.store.actor import Actor, bind_actor, current_actor
from engine.store.base import AthleteErased, AthleteNotVisible
from engine.tenancy.access import authorize, record_access

SCOPE_OPT = "scope"
SECURITY_SCHEMES = {
    "bearer": SecurityScheme(type="http", scheme="bearer",
                             description="`Authorization: Bearer <key>` (keys: `strideline keys create`)"),
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header",
                             description="the same key in an `X-API-Key` header"),
}
SECURITY = [{"bearer": []}, {"apiKey": []}]
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="strideline"'}
_KEY_ID = re.compile(r"^sl_([0-9a-f]{12})_")

DEFAULT_RATE_LIMIT = ("minute", 1200)
DEFAULT_MAX_LONG_POLLS = 4


def presented_key(connection: ASGIConnection) -> str | None:
    authorization = connection.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise ApiError.one(401, "the Authorization header must be `Bearer <key>`", "Authorization",
                           "header", headers=_CHALLENGE)
    key = connection.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


def not_found(athlete_id: str) -> ApiError:
    """The one answer for an athlete that does not exist or that the key may not see."""
    return ApiError.one(404, f"athlete {athlete_id!r} has no events (enrol them first)", "athlete_id", "path")


def gone(athlete_id: str) -> ApiError:
    return ApiError.one(410, f"athlete {athlete_id!r} was erased", "athlete_id", "path")


async def require_scope(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: authenticate, check the scope (``admin`` allows everything), then the athlete."""
    needed = handler.opt.get(SCOPE_OPT)
    if needed is None:
        return
    scope = Scope(needed)
    key = presented_key(connection)
    if key is None:
        raise ApiError.one(401, "an API key is required: send `Authorization: Bearer <key>` or "
                           "`X-API-Key: <key>`", "Authorization", "header", headers=_CHALLENGE)
    keys: KeyStore = connection.app.state.api_keys
    record = await anyio.to_thread.run_sync(keys.authenticate, key)
    if record is None:
        raise ApiError.one(401, "the API key is unknown or revoked", "Authorization", "header",
                           headers=_CHALLENGE)
    if not record.allows(scope):
        has = ", ".join(s.value for s in record.scopes)
        raise ApiError.one(403, f"this endpoint needs the `{scope.value}` scope; key {record.id} has: {has}",
                           "Authorization", "header")
    connection.scope["api_key_id"] = record.id  # type: ignore[typeddict-unknown-key]
    connection.scope["api_key"] = record  # type: ignore[typeddict-unknown-key]
    bind_actor(Actor(key_id=record.id, org_id=record.org_id))
    athlete_id = connection.path_params.get("athlete_id")
    if isinstance(athlete_id, str) and ATHLETE_ID.match(athlete_id):
        await anyio.to_thread.run_sync(_check_athlete, connection, record, athlete_id, scope,
                                       handler.handler_name)


def _check_athlete(connection: ASGIConnection, record: ApiKey, athlete_id: str, scope: Scope,
                   action: str) -> None:
    rt = connection.app.state.runtime
    creating = scope is Scope.INGEST and connection.scope.get("method") == "POST"
    try:
        authorize(rt.store, record, athlete_id, creating=creating)
    except AthleteNotVisible:
        raise not_found(athlete_id) from None
    except AthleteErased:
        raise gone(athlete_id) from None
    record_access(rt.store, record, athlete_id, action, rt.clock)


def request_key(request: Request) -> ApiKey:
    """The authenticated key of a request that passed the guard."""
    return request.scope["api_key"]  # type: ignore[typeddict-item]


# -- abuse limits --------------------------------------------------------------------------------


class RetryAfterRateLimit(RateLimitMiddleware):
    """Litestar's limiter, plus ``Retry-After`` (seconds until the window resets) once the key's
    requests for the window are used up (so on every 429 it sends)."""

    def create_response_headers(self, cache_object) -> dict[str, str]:
        headers = super().create_response_headers(cache_object)
        if headers[self.config.rate_limit_remaining_header_key] == "0":
            headers["Retry-After"] = str(max(1, int(headers[self.config.rate_limit_reset_header_key])))
        return headers


def rate_limit_identity(request: Request) -> str:
    """Requests are counted per key id (the part of a key before its secret), else per address."""
    presented = request.headers.get("authorization", "").partition(" ")[2].strip() or \
        request.headers.get("x-api-key", "").strip()
    match = _KEY_ID.match(presented)
    return f"key:{match.group(1)}" if match else f"addr:{get_remote_address(request)}"


def parse_rate_limit(text: str) -> tuple[str, int]:
    """``"600/minute"`` -> ("minute", 600); units: second, minute, hour, day."""
    count, _, unit = text.strip().partition("/")
    if unit not in {"second", "minute", "hour", "day"} or not count.isdigit() or int(count) < 1:
        raise ValueError(f"rate limit {text!r}: write it as COUNT/UNIT, e.g. 600/minute")
    return unit, int(count)


def rate_limit(limit: tuple[str, int] | None = None, *, redis_url: str | None = None) -> tuple[Any, dict]:
    """The middleware and the stores for the app: per key, in Redis when a Redis URL is given
    (shared by every API host), else in the process's memory. ``STRIDELINE_RATE_LIMIT`` overrides
    the default."""
    if limit is None:
        env = os.environ.get("STRIDELINE_RATE_LIMIT")
        limit = parse_rate_limit(env) if env else DEFAULT_RATE_LIMIT
    config = RateLimitConfig(rate_limit=limit, identifier_for_request=rate_limit_identity,  # type: ignore[arg-type]
                             exclude=["/health", "/ready", "/metrics", "/schema"],
                             middleware_class=RetryAfterRateLimit)
    stores: dict[str, Any] = {}
    if redis_url:
        from litestar.stores.redis import RedisStore

        stores["rate_limit"] = RedisStore.with_client(url=redis_url, namespace="strideline:ratelimit")
    return config.middleware, stores


class LongPollGate:
    """At most ``limit`` long-polls waiting at once per key, in this process."""

    def __init__(self, limit: int = DEFAULT_MAX_LONG_POLLS) -> None:
        self.limit = limit
        self._waiting: Counter[str] = Counter()

    @contextlib.asynccontextmanager
    async def slot(self, wait: float) -> AsyncIterator[None]:
        actor = current_actor()
        if wait <= 0 or actor is None:
            yield
            return
        if self._waiting[actor.key_id] >= self.limit:
            raise ApiError.one(429, f"key {actor.key_id} already has {self.limit} long-polls waiting: "
                               "wait for one to answer", "wait", "query", headers={"Retry-After": "1"})
        self._waiting[actor.key_id] += 1
        try:
            yield
        finally:
            self._waiting[actor.key_id] -= 1
            if self._waiting[actor.key_id] <= 0:
                del self._waiting[actor.key_id]
