"""The OpenAPI document as a client generator and a reader of the docs want it: an example on every
request and response body (captured from a real journey: ``scripts/openapi_examples.py`` writes
``examples.json``), the event stream documented as ``text/event-stream``, and each event's ``type``
given its own tag as default, so a generated client fills it in (``PainReported(score=2, ...)``)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
from litestar.openapi.spec import Example, OpenAPI, OpenAPIMediaType, OpenAPIResponse, Operation, Schema

EXAMPLES_FILE = Path(__file__).with_name("examples.json")
EVENT_STREAM = "text/event-stream"
STREAMING_OPERATIONS = {"stream_recommendations"}
"""Operations answering Server-Sent Events, not JSON."""


@cache
def captured() -> dict[str, Any]:
    """``{"requests": {operation: body}, "responses": {operation: {status: body}}}``."""
    return json.loads(EXAMPLES_FILE.read_text())


def _operations(doc: OpenAPI) -> list[Operation]:
    out = []
    for item in (doc.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                out.append(operation)
    return out


def _example(value: Any, summary: str = "example") -> dict[str, Example]:
    """Litestar drops ``None`` from dicts when it renders the document (an example's ``null``
    fields would vanish and break their schema), so the value goes in pre-encoded."""
    return {"example": Example(summary=summary, value=msgspec.Raw(msgspec.json.encode(value)))}


def add_examples(doc: OpenAPI) -> None:
    """Every JSON body without an example gets the captured one; the SSE answer is text."""
    requests, responses = captured()["requests"], captured()["responses"]
    for operation in _operations(doc):
        name = operation.operation_id or ""
        body = operation.request_body
        if body is not None and not isinstance(body, dict) and name in requests:
            for media in (body.content or {}).values():
                media.examples = media.examples or _example(requests[name], f"a request to {name}")
        for status, response in (operation.responses or {}).items():
            if not isinstance(response, OpenAPIResponse):
                continue
            value = responses.get(name, {}).get(status)
            if name in STREAMING_OPERATIONS and status.startswith("2"):
                response.content = {EVENT_STREAM: OpenAPIMediaType(
                    schema=Schema(type="string"), examples=_example(value, "an event and a heartbeat"))}
                continue
            for media in (response.content or {}).values():
                if not media.examples and value is not None:
                    media.examples = _example(value, response.description or status)


def default_event_types(schemas: dict[str, Any], tag_of: dict[str, str]) -> None:
    """``type`` of each event schema: its tag as ``const`` and as ``default``, so a generator gives
    the field its value (it stays required: a discriminator must be)."""
    for name, tag in tag_of.items():
        schema = schemas.get(name)
        prop = (schema.properties or {}).get("type") if isinstance(schema, Schema) else None
        if isinstance(prop, Schema):
            prop.const, prop.default = tag, tag


__all__ = ["EXAMPLES_FILE", "add_examples", "captured", "default_event_types"]
