"""The ASGI application (Litestar): ``create_app(runtime, start_workers=...)``.

* Workers: with ``start_workers`` the in-process pipeline (dramatiq StubBroker, worker threads) runs
  for the app's lifespan; otherwise (``strideline serve`` with ``STRIDELINE_REDIS_URL``) ingest's
  wake-up goes to Redis (``workers.wakeup.make_waker``) for separate ``strideline worker`` processes.
* Access log: one ``http_request`` line per request with method, path template, status, duration
  and request id; never bodies, query strings or raw paths (health data stays out of logs).
* Limits: request bodies over 4 MiB (plus a little for the envelope) get 413.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import structlog
from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, Discriminator, Reference, Schema

from engine.api import docs_ui, observability, routes
from engine.api.errors import EXCEPTION_HANDLERS
from engine.api.examples import add_examples, default_event_types
from engine.api.query import single_query_values
from engine.api.schemas import AppendRequest, ClientNewEvent, CreateKeyRequest, Health, Readiness
from engine.api.security import SECURITY_SCHEMES, LongPollGate, rate_limit, require_scope
from engine.keys import KeyStore
from engine.runtime import Runtime
from events.codec import MAX_BATCH_BYTES
from events.vocabulary import EVENT_TYPES

log = structlog.get_logger("strideline.api")

MAX_BODY_BYTES = MAX_BATCH_BYTES + 64 * 1024
"""The codec's batch limit (4 MiB of events) plus room for the envelope around them."""

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class StridelineApp(Litestar):
    """Litestar with a request id and a privacy-safe access log around every HTTP request."""

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[override]
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request_id = _request_id(scope)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                await super().__call__(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            observability.record(scope, status, elapsed)  # RED metrics by route template
            log.info("http_request", method=scope.get("method"), path=scope.get("path_template") or "<unmatched>",
                     status=status, duration_ms=round(elapsed * 1000, 2),
                     request_id=request_id, key_id=scope.get("api_key_id"))


def _request_id(scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                return candidate
    return uuid.uuid4().hex


# -- health ------------------------------------------------------------------------------------


@get("/health", tags=["health"], summary="Liveness: the process answers", sync_to_thread=False)
def health() -> Health:
    return Health()


@get("/ready", tags=["health"], summary="Readiness: the store answers (Redis, when configured, is listed)",
     responses={503: routes.ResponseSpec(Readiness, description="the store is unavailable",
                                         generate_examples=False)})
async def ready(state: State) -> Response[Readiness]:
    """Ready when the store answers. Redis only carries wake-ups (appends commit without it and the
    sweeper heals what was not sent), so an unreachable Redis is listed as ``degraded: <kind>``
    without failing readiness: a load balancer must not turn a Redis outage into an ingest outage."""
    checks: dict[str, str] = {}
    rt: Runtime = state.runtime
    try:
        await anyio.to_thread.run_sync(rt.store.last_position)
        checks["store"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["store"] = f"error: {type(exc).__name__}"
    redis_url = state.api_settings["redis_url"]
    if redis_url:
        try:
            await anyio.to_thread.run_sync(_ping_redis, redis_url)
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"degraded: {type(exc).__name__}"
    pipeline = state.pipeline
    if pipeline is not None:
        checks["workers"] = "in-process"
    ok = checks["store"] == "ok"
    return Response(Readiness(status="ready" if ok else "unavailable", checks=checks),
                    status_code=200 if ok else 503)


def _ping_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    finally:
        client.close()


# -- the application ---------------------------------------------------------------------------


def create_app(runtime: Runtime, *, start_workers: bool, keys: KeyStore | None = None,
               redis_url: str | None = None, worker_threads: int = 2,
               max_wait: float = routes.MAX_WAIT_S, rate_limit_per: tuple[str, int] | None = None,
               max_long_polls: int = 4) -> Litestar:
    """Build the API around a runtime.

    ``start_workers``: run the in-process pipeline for the app's lifespan (the embedded default).
    Otherwise ingest calls whatever ``runtime.ingestor.wake`` is: the server's composition root
    (``strideline serve``) points it at the Redis workers when ``STRIDELINE_REDIS_URL`` is set.
    ``redis_url`` (serve passes ``STRIDELINE_REDIS_URL``) adds Redis to the readiness check.
    ``max_wait`` caps long-polls (tests lower it). Keys live in the runtime's store unless ``keys``
    is given; ``rate_limit_per`` (e.g. ``("minute", 600)``) and ``max_long_polls`` bound each key."""
    if start_workers and redis_url:
        raise ValueError("start_workers runs the in-process pipeline; with Redis, run `strideline worker`")
    keys = keys if keys is not None else KeyStore(runtime.store)
    limiter, stores = rate_limit(rate_limit_per, redis_url=redis_url)
    state = State({"runtime": runtime, "api_keys": keys, "pipeline": None,
                   "long_polls": LongPollGate(max_long_polls),
                   "api_settings": {"redis_url": redis_url, "max_wait": max_wait}})

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if not start_workers:
            yield
            return
        from workers.inprocess import InProcessPipeline

        with InProcessPipeline(runtime, threads=worker_threads) as pipeline:
            app.state.pipeline = pipeline
            log.info("api_workers_started", mode="in-process", threads=worker_threads)
            try:
                yield
            finally:
                app.state.pipeline = None

    app = StridelineApp(
        route_handlers=[health, ready, *routes.ROUTES,  # /metrics: its own port (observability.py)
                        docs_ui.assets_router()],
        guards=[require_scope, single_query_values],  # a repeated scalar query parameter is refused
        middleware=[limiter],
        stores=stores,
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        state=state,
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
        openapi_config=OpenAPIConfig(
            title="Strideline API", version="1.0.0", path="/schema",
            description=("Event-sourced coaching engine for runners coming back from injury: append an "
                         "athlete's events, read their events, the coach's view and recommendations. "
                         "Errors: every 4xx carries `{\"errors\": [{\"path\", \"reason\", \"location\"}]}`."),
            components=Components(security_schemes=SECURITY_SCHEMES),
            render_plugins=docs_ui.render_plugins(),  # Swagger UI with its assets served here (offline)
            use_handler_docstrings=False,
            operation_id_creator=lambda handler, method, path: handler.handler_name,  # `append_events`
        ),
        debug=False,
    )
    _tighten_openapi(app)
    observability.zero_routes(app)
    return app


def _tighten_openapi(app: Litestar) -> None:
    """State what msgspec enforces but Litestar leaves out: unknown fields are refused
    (``additionalProperties: false``) and event unions are discriminated by ``type`` (which each
    event schema also gives as its default); add the examples (engine/api/examples.py)."""
    schemas = app.openapi_schema.components.schemas or {}
    strict = {cls.__name__ for cls in EVENT_TYPES.values()}
    strict |= {ClientNewEvent.__name__, AppendRequest.__name__, CreateKeyRequest.__name__}
    tag_of = {name: cls.__struct_config__.tag for name, cls in
              ((c.__name__, c) for c in EVENT_TYPES.values())}
    default_event_types(schemas, tag_of)
    add_examples(app.openapi_schema)
    for name, schema in schemas.items():
        if not isinstance(schema, Schema):
            continue
        if name in strict:
            schema.additional_properties = False
        for prop in (schema.properties or {}).values():
            _discriminate(prop, tag_of)
        _walk(schema, _overlapping_one_of)
        _walk(schema, _single_one_of)


def _walk(schema: Any, visit) -> None:
    if not isinstance(schema, Schema):
        return
    visit(schema)
    children = [*(schema.properties or {}).values(), *(schema.one_of or []), *(schema.any_of or []),
                *(schema.all_of or [])]
    if isinstance(schema.items, Schema):
        children.append(schema.items)
    if isinstance(schema.additional_properties, Schema):
        children.append(schema.additional_properties)
    for child in children:
        _walk(child, visit)


def _overlapping_one_of(schema: Schema) -> None:
    """``float | int`` becomes oneOf [number, integer], which no integer satisfies (it is both):
    such a union is an anyOf."""
    kinds = {str(getattr(item.type, "value", item.type)) for item in schema.one_of or []
             if isinstance(item, Schema)}
    if {"number", "integer"} <= kinds:
        schema.any_of, schema.one_of = schema.one_of, None


def _single_one_of(schema: Schema) -> None:
    """A ``oneOf`` of one schema (an optional field ``float | UnsetType``, left out of a row when
    not asked for) is that schema."""
    if schema.one_of and len(schema.one_of) == 1 and isinstance(schema.one_of[0], Schema):
        only = schema.one_of[0]
        for field in dataclasses.fields(only):
            if getattr(schema, field.name) is None and getattr(only, field.name) is not None:
                setattr(schema, field.name, getattr(only, field.name))
        schema.one_of = None


def _discriminate(prop: Any, tag_of: dict[str, str]) -> None:
    if not isinstance(prop, Schema) or not prop.one_of:
        return
    refs = [item for item in prop.one_of if isinstance(item, Reference)]
    if len(refs) != len(prop.one_of):
        return
    names = [ref.ref.rsplit("/", 1)[-1] for ref in refs]
    if all(n in tag_of for n in names):
        prop.discriminator = Discriminator(property_name="type",
                                           mapping={tag_of[n]: r.ref for n, r in zip(names, refs)})


__all__ = ["MAX_BODY_BYTES", "StridelineApp", "create_app"]
