"""The append request body, decoded by ``events.codec`` rather than by Litestar.

Validation over HTTP must be exactly the Python API's (``Ingestor.append_json``), so the handler's
``data`` goes through this DTO: it parses only the outer object (``events`` kept as raw JSON bytes,
``expected_version``) and the events are decoded and validated by the codec inside ingest. For the
OpenAPI document the DTO reports the declared type, :class:`engine.api.schemas.AppendRequest`.
"""

from __future__ import annotations

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


def decode_append(body: bytes) -> RawAppend:
    """Parse the outer object; 400 for malformed JSON, 422 for a wrong shape (paths in body space)."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        error = from_msgspec(exc)
        raise ApiError.one(422, error.reason, error.path) from None
    except msgspec.DecodeError as exc:
        error = from_msgspec(exc)
        raise ApiError.one(400, f"the body is not valid JSON: {error.reason}", error.path) from None


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
        return decode_append(value)

    def decode_builtins(self, value: dict[str, Any]) -> Any:  # form data: not accepted
        raise ApiError.one(415, "send the events as application/json", "Content-Type", "header")


__all__ = ["AppendBody", "RawAppend", "decode_append", "invalid_event"]
