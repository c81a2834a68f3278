"""API key authentication and scope authorisation: one Litestar guard, driven by each handler's
``opt["scope"]``. 401 for a missing, malformed, unknown or revoked key; 403 for a key without the
scope. Keys arrive as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityScheme

from engine.api.errors import ApiError
from engine.keys import KeyStore, Scope

SCOPE_OPT = "scope"
SECURITY_SCHEMES = {
    "bearer": SecurityScheme(type="http", scheme="bearer",
                             description="`Authorization: Bearer <key>` (keys: `strideline keys create`)"),
    "apiKey": SecurityScheme(type="apiKey", name="X-API-Key", security_scheme_in="header",
                             description="the same key in an `X-API-Key` header"),
}
SECURITY = [{"bearer": []}, {"apiKey": []}]
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="strideline"'}


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


def require_scope(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: authenticate the key, then check the handler's scope (``admin`` allows everything)."""
    needed = handler.opt.get(SCOPE_OPT)
    if needed is None:
        return
    scope = Scope(needed)
    key = presented_key(connection)
    if key is None:
        raise ApiError.one(401, "an API key is required: send `Authorization: Bearer <key>` or "
                           "`X-API-Key: <key>`", "Authorization", "header", headers=_CHALLENGE)
    keys: KeyStore = connection.app.state.api_keys
    record = keys.authenticate(key)
    if record is None:
        raise ApiError.one(401, "the API key is unknown or revoked", "Authorization", "header",
                           headers=_CHALLENGE)
    if not record.allows(scope):
        has = ", ".join(s.value for s in record.scopes)
        raise ApiError.one(403, f"this endpoint needs the `{scope.value}` scope; key {record.id} has: {has}",
                           "Authorization", "header")
    connection.scope["api_key_id"] = record.id  # type: ignore[typeddict-unknown-key]
