"""The one codec module: typed encoders and decoders, built once, for the edge and the store.

* Edge (JSON from clients and files): ``decode_batch`` validates a whole batch or rejects it with
  an :class:`InvalidEvent` naming the path and reason; ``validate`` does the same for Python objects.
* Store (MessagePack payloads): ``encode_payload`` / ``decode_payload``, upcasting old tags.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec

from events.envelope import Envelope, NewEvent
from events.errors import InvalidEvent, from_msgspec
from events.upcasting import UPCASTERS, upcast
from events.vocabulary import EVENT_TYPES, AnyEvent, RecommendationIssued, RecommendationWithdrawn

MAX_EVENT_BYTES = 16 * 1024
MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 4 * 1024 * 1024

_json_encoder = msgspec.json.Encoder()
_batch_decoder = msgspec.json.Decoder(list[NewEvent])
_event_decoder = msgspec.json.Decoder(NewEvent)
_raw_items_decoder = msgspec.json.Decoder(list[msgspec.Raw])
_envelope_decoder = msgspec.json.Decoder(Envelope)
_payload_encoder = msgspec.msgpack.Encoder()
_payload_decoder = msgspec.msgpack.Decoder(AnyEvent)
_state_encoder = msgspec.msgpack.Encoder()


_ENGINE_WRITTEN = (RecommendationIssued, RecommendationWithdrawn)


def _surely_small() -> int:
    """An event whose typed encoding is at most this size is under the limit once decoded too:
    decoding only ever lengthens a number (an int given for a float: ``1`` -> ``1.0``, at most 3 x)."""
    return MAX_EVENT_BYTES // 3


def _check_batch(events: Sequence[NewEvent], encoded_sizes: Sequence[int] | None = None) -> list[NewEvent]:
    """Batch-level rules. ``encoded_sizes``: an upper bound of each event's JSON size as typed
    input was encoded (``validate_typed``); a bound small enough to be conclusive spares encoding
    the event again."""
    if not events:
        raise InvalidEvent("a batch must hold at least one event")
    if len(events) > MAX_BATCH_EVENTS:
        raise InvalidEvent(f"a batch holds at most {MAX_BATCH_EVENTS} events, got {len(events)}")
    errors = []
    encode, surely_small = _json_encoder.encode, _surely_small()
    for index, event in enumerate(events):
        if isinstance(event.data, _ENGINE_WRITTEN):
            errors.append(InvalidEvent(
                f"event type {event.data.__struct_config__.tag} is written by the engine, not by clients",
                f"$[{index}].data.type",
            ))
        if encoded_sizes is not None and encoded_sizes[index] <= surely_small:
            continue
        size = len(encode(event))
        if size > MAX_EVENT_BYTES:
            errors.append(InvalidEvent(f"event is {size} bytes, the limit is {MAX_EVENT_BYTES}", f"$[{index}]"))
    if errors:
        raise InvalidEvent.every(errors)
    return list(events)


_FLAT_HINT = ("the event's own fields go under `data`: "
              '{"occurred_at": "...", "data": {"type": "...", ...}}')


def _event_errors(items: list[Any], decode_one) -> InvalidEvent | None:
    """Every event's first error (not only the batch's first), with a hint for a flat event (its
    fields beside ``occurred_at`` instead of under ``data``)."""
    errors = []
    for index, item in enumerate(items):
        shape = _plain(item)
        if isinstance(shape, dict) and "data" not in shape and "type" in shape:
            errors.append(InvalidEvent(f"missing required field `data`: {_FLAT_HINT}", f"$[{index}].data"))
            continue
        missing = _missing_fields(shape)
        if missing:
            errors.extend(InvalidEvent(f"missing required field `{name}`", f"$[{index}].data.{name}")
                          for name in missing)
            continue
        try:
            decode_one(item)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            errors.append(from_msgspec(exc).under(f"$[{index}]"))
    return InvalidEvent.every(errors) if errors else None


def _plain(item: Any) -> Any:
    if not isinstance(item, msgspec.Raw):
        return item
    try:
        return msgspec.json.decode(item)
    except (msgspec.DecodeError, RecursionError):
        return None


def _missing_fields(event: Any) -> list[str]:
    """Every required field absent from an event's ``data`` (msgspec stops at the first)."""
    data = event.get("data") if isinstance(event, dict) else None
    kind = EVENT_TYPES.get(data.get("type")) if isinstance(data, dict) else None  # type: ignore[arg-type]
    if kind is None:
        return []
    return [f.encode_name for f in msgspec.structs.fields(kind) if f.required and f.encode_name not in data]


def decode_batch(raw: bytes | str, encoded_sizes: Sequence[int] | None = None) -> list[NewEvent]:
    """Decode and validate a JSON array of events from a client; all or nothing."""
    if len(raw) > MAX_BATCH_BYTES:
        raise InvalidEvent(f"payload is {len(raw)} bytes, the limit is {MAX_BATCH_BYTES}")
    try:
        return _check_batch(_batch_decoder.decode(raw), encoded_sizes)
    except msgspec.ValidationError as exc:  # (a DecodeError subclass: caught first)
        first = from_msgspec(exc)
    except msgspec.DecodeError as exc:  # malformed JSON: one error, at the position
        raise from_msgspec(exc) from None
    try:
        items = _raw_items_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        raise first from None
    raise _event_errors(items, _event_decoder.decode) or first from None


def decode_event(raw: bytes | str) -> NewEvent:
    """Decode and validate one JSON event from a client."""
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent(f"event is {len(raw)} bytes, the limit is {MAX_EVENT_BYTES}")
    try:
        event = _event_decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise from_msgspec(exc) from None
    try:
        return _check_batch([event])[0]
    except InvalidEvent as exc:
        raise InvalidEvent(exc.reason, "$" + exc.path[4:]) from None


def validate(events: Iterable[NewEvent | dict[str, Any]]) -> list[NewEvent]:
    """Validate Python objects (NewEvent instances or plain dicts) as strictly as JSON input.

    msgspec does not validate on ``__init__``, so a Struct built in Python is re-checked here by
    converting it through builtins; a dict goes through the same path.
    """
    items = [_to_builtins(index, e) for index, e in enumerate(events)]
    try:
        converted = msgspec.convert(items, list[NewEvent])
    except msgspec.ValidationError as exc:
        first = from_msgspec(exc)
        raise _event_errors(items, lambda item: msgspec.convert(item, NewEvent)) or first from None
    return _check_batch(converted)


def validate_typed(events: list[NewEvent]) -> list[NewEvent]:
    """A list of ``NewEvent`` (typed input: the simulator, importers) validated as strictly as JSON,
    with the JSON API's errors: the batch is encoded to JSON and decoded as a client's, both in
    msgspec's C code (cheaper than ``validate``'s ``to_builtins`` and ``convert``). The size rule
    reuses the encoding: a batch small enough bounds every event in it, else each event's slice is
    found by one scan (``list[Raw]``), so no event is encoded twice. A value JSON cannot encode, or
    a batch over the byte limit, goes through ``validate`` for its errors."""
    try:
        raw = _json_encoder.encode(events)
    except (TypeError, ValueError):
        return validate(events)  # its error names the value that cannot be encoded
    if len(raw) > MAX_BATCH_BYTES:
        return validate(events)
    if len(raw) <= _surely_small():
        bounds = [len(raw)] * len(events)  # no event is larger than its batch
    else:
        bounds = [len(item) for item in _raw_items_decoder.decode(raw)]
    return decode_batch(raw, bounds)


def _to_builtins(index: int, item: Any) -> Any:
    """Lower an item to JSON-like builtins, so nothing inside it (not even a Struct nested in a
    dict, which ``convert`` would pass through unchecked) escapes validation."""
    try:
        return msgspec.to_builtins(item)
    except TypeError as exc:
        raise InvalidEvent(f"cannot validate this value: {exc}", f"$[{index}]") from None


def encode_json(obj: Any) -> bytes:
    return _json_encoder.encode(obj)


def decode_envelope_json(raw: bytes | str) -> Envelope:
    return _envelope_decoder.decode(raw)


def encode_payload(event: AnyEvent) -> bytes:
    """The stored form of an event payload (MessagePack, tag included)."""
    return _payload_encoder.encode(event)


def encode_payloads(events: Iterable[NewEvent]) -> list[bytes]:
    """``encode_payload`` of each event's ``data``, in one comprehension (the append path's form)."""
    encode = _payload_encoder.encode
    return [encode(event.data) for event in events]


def decode_payload(event_type: str, raw: bytes) -> AnyEvent:
    """Decode a stored payload, upcasting it first when its tag (or, for an amendment, its
    replacement's tag) is an old one."""
    if event_type in UPCASTERS:
        return msgspec.convert(upcast(msgspec.msgpack.decode(raw)), AnyEvent)
    try:
        return _payload_decoder.decode(raw)
    except msgspec.ValidationError:
        # Slow path, only for payloads the current types refuse: an old tag nested inside.
        payload = msgspec.msgpack.decode(raw)
        lifted = upcast(payload)
        if lifted == payload:
            raise
        return msgspec.convert(lifted, AnyEvent)


def encode_state(state: Any) -> bytes:
    """Projection state snapshot (MessagePack)."""
    return _state_encoder.encode(state)


def state_decoder(state_type: type) -> msgspec.msgpack.Decoder:
    return msgspec.msgpack.Decoder(state_type)
