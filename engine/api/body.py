"""The append request body, decoded by ``events.codec`` rather than by Litestar.

Validation over HTTP must be exactly the Python API's (``Ingestor.append_json``), so the handler's
``data`` goes through this DTO: it parses only the outer object (``events`` kept as raw JSON bytes,
``expected_version``) and the events are decoded and validated by the codec inside ingest. For the
OpenAPI document the DTO reports the declared type, :class:`engine.api.schemas.AppendRequest`.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import msgspec
from litestar.dto import AbstractDTO, DTOConfig
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.typing import FieldDefinition

from engine.api.errors import ApiError, invalid_event
from engine.api.schemas import AppendRequest
from events.errors import from_msgspec


class RawAppend(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    events: msgspec.Raw
    expected_version: int | None = None


_decoder = msgspec.json.Decoder(RawAppend)

JSON_MEDIA_TYPES = ("application/json",)
"""What a body may be sent as (``+json`` suffixes too, e.g. ``application/vnd.api+json``)."""


class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> None:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise DuplicateKey(key)
        seen.add(key)


def check_json_shape(body: bytes) -> None:
    """Refuse what a typed decoder would let through or crash on: a key given twice in one object
    (msgspec keeps the last, silently) and nesting deep enough to exhaust the recursion limit.

    Only valid JSON reaches the checks' failures; malformed JSON is left to the typed decoder,
    which reports the position."""
    try:
        json.loads(body, object_pairs_hook=_no_duplicates)
    except DuplicateKey as exc:
        raise ApiError.one(400, f"the body repeats the key {str(exc)[:64]!r} in one object", "$") from None
    except RecursionError:
        raise ApiError.one(400, "the body is nested too deeply", "$") from None
    except (ValueError, UnicodeDecodeError):
        return


def is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in JSON_MEDIA_TYPES or (media.startswith("application/") and media.endswith("+json"))


def decode_append(body: bytes) -> RawAppend:
    """Parse the outer object; 400 for malformed JSON, repeated keys or too deep nesting, 422 for a
    wrong shape (paths in body space)."""
    check_json_shape(body)
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        error = from_msgspec(exc)
        raise ApiError.one(422, error.reason + _shape_hint(body), error.path) from None
    except msgspec.DecodeError as exc:
        error = from_msgspec(exc)
        raise ApiError.one(400, f"the body is not valid JSON: {error.reason}", error.path) from None
    except RecursionError:
        raise ApiError.one(400, "the body is nested too deeply", "$") from None


_EVENT_KEYS = {"type", "data", "occurred_at", "event_id"}


def _shape_hint(body: bytes) -> str:
    """The common wrong shapes, named: a bare array or a bare event without the ``events`` wrapper."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(value, list):
        return '; the body is a bare array of events: send {"events": [...]}'
    if isinstance(value, dict) and "events" not in value and _EVENT_KEYS & value.keys():
        return '; the body looks like a single event: wrap it as {"events": [{...}]}'
    return ""


class AppendBody(AbstractDTO[AppendRequest]):
    """Hands the handler a :class:`RawAppend`; documents :class:`AppendRequest`."""

    config = DTOConfig()

    @classmethod
    def generate_field_definitions(cls, model_type: type[Any]) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(cls, field_definition: FieldDefinition, handler_id: str,
                                    backend_cls: Any = None) -> None:
        return None  # no transfer models: decoding is ours

    @classmethod
    def create_openapi_schema(cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any):
        return schema_creator.for_field_definition(field_definition)

    def decode_bytes(self, value: bytes) -> RawAppend:
        content_type = self.asgi_connection.headers.get("content-type")
        if content_type is not None and not is_json_media_type(content_type):
            raise ApiError.one(415, f"send the events as application/json, not {content_type[:64]!r}",
                               "Content-Type", "header")
        return decode_append(value)

    def decode_builtins(self, value: dict[str, Any]) -> Any:  # form data: not accepted
        raise ApiError.one(415, "send the events as application/json", "Content-Type", "header")


__all__ = ["AppendBody", "RawAppend", "check_json_shape", "decode_append", "invalid_event", "is_json_media_type"]
