"""The OpenAPI document shows an example on every request and response body, each one the schema
beside it accepts (they are answers the API gave: scripts/openapi_examples.py captures them), and
each event schema names its own tag as the default `type` (a generated client fills it in)."""

from __future__ import annotations

from typing import Any

import jsonschema_rs


def bodies(doc: dict[str, Any]):
    """(where, media type, media object) for every request and response body in the document."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for media_type, media in op.get("requestBody", {}).get("content", {}).items():
                yield f"{op['operationId']} request", media_type, media
            for status, response in op["responses"].items():
                for media_type, media in response.get("content", {}).items():
                    yield f"{op['operationId']} {status}", media_type, media


def test_every_request_and_response_body_has_an_example_its_schema_accepts(client):
    """Given the served document, then each body has an example, and each JSON example validates
    against the body's schema (formats included)."""
    doc = client.get("/schema/openapi.json").json()
    missing, invalid = [], []
    for where, media_type, media in bodies(doc):
        examples = [e["value"] for e in media.get("examples", {}).values()]
        if not examples:
            missing.append(where)
            continue
        if media_type != "application/json":
            continue
        schema = jsonschema_rs.Draft202012Validator({**media["schema"], "components": doc["components"]},
                                                    validate_formats=True)
        invalid += [f"{where}: {e.message[:120]}" for value in examples for e in schema.iter_errors(value)]
    assert not missing, f"bodies without an example: {missing}"
    assert not invalid, invalid[:5]


def test_the_event_stream_is_documented_as_server_sent_events(client):
    """GET /v1/stream answers text/event-stream, with an `event:`/`data:`/`id:` example."""
    doc = client.get("/schema/openapi.json").json()
    content = doc["paths"]["/v1/stream"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/event-stream"]
    text = content["text/event-stream"]["examples"]["example"]["value"]
    assert text.startswith("id: ") and "\nevent: recommendation." in text and "\ndata: {" in text


def test_each_event_schema_defaults_its_type_to_its_tag(client):
    """Every event a client may send has `type` required, with its tag as const and default."""
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]
    mapping = schemas["NewEvent"]["properties"]["data"]["discriminator"]["mapping"]
    for tag, ref in mapping.items():
        schema = schemas[ref.rsplit("/", 1)[-1]]
        assert schema["properties"]["type"] == {"type": "string", "const": tag, "default": tag}
        assert "type" in schema["required"]
