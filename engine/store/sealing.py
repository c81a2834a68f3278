"""Event payloads and projection states encrypted at rest with a per-athlete data key (AES-GCM).

Why: erasing an athlete must make their health data unreadable everywhere while the log stays
append-only. Every payload of an athlete's streams (events and recommendations) and every saved
projection state is sealed with that athlete's 256-bit data key; erasure destroys the key
(crypto-shredding), so the rows that stay in the log, in backups of it, or in freed database pages
are ciphertext nobody can open.

Sealed bytes: ``0x01 | nonce (12 random bytes) | ciphertext | tag (16)``. A MessagePack event payload
never starts with ``0x01`` (a positive fixint is not an event), so payloads written before encryption
existed stay readable as they are. The associated data binds a payload to its event id and stream
(a projection state to its athlete and name), so ciphertext cannot be moved to another row.
"""

from __future__ import annotations

import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED = b"\x01"
NONCE_BYTES = 12

from events.envelope import RECOMMENDATION_STREAM_SUFFIX  # noqa: E402


def athlete_of(stream: str) -> str:
    """The athlete a stream belongs to (their event stream or their recommendation stream)."""
    return stream.removesuffix(RECOMMENDATION_STREAM_SUFFIX)


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


@lru_cache(maxsize=4096)
def cipher(key: bytes) -> AESGCM:
    """One AESGCM object per key (building one costs more than sealing a small payload)."""
    return AESGCM(key)


def is_sealed(payload: bytes) -> bool:
    return payload[:1] == SEALED


def event_aad(event_id: bytes, stream: str) -> bytes:
    return event_id + stream.encode("utf-8")


def projection_aad(athlete: str, name: str) -> bytes:
    return f"projection\x00{athlete}\x00{name}".encode("utf-8")


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return SEALED + nonce + cipher(key).encrypt(nonce, plaintext, aad)


def sealer(key: bytes, stream: str, events: int):
    """``seal`` for a batch of ``events`` of one stream: ``(event_id bytes, payload) -> sealed``,
    with the cipher and the stream's associated data looked up once and the random nonces read
    from the kernel up to 64 at a time (one system call instead of one per event; just as random)."""
    encrypt, suffix = cipher(key).encrypt, stream.encode("utf-8")
    pool, used, left = b"", 0, events

    def seal_one(event_id: bytes, plaintext: bytes) -> bytes:
        nonlocal pool, used, left
        if used == len(pool):
            count = min(max(left, 1), 64)
            pool, used, left = os.urandom(NONCE_BYTES * count), 0, left - count
        nonce = pool[used:used + NONCE_BYTES]
        used += NONCE_BYTES
        return SEALED + nonce + encrypt(nonce, plaintext, event_id + suffix)

    return seal_one


def seal_batch(key: bytes, stream: str, event_ids: list[bytes], payloads: list[bytes]) -> list[bytes]:
    """``seal`` for a batch of one stream's payloads (``event_ids[i]`` binds ``payloads[i]``): the
    cipher and the stream's associated data looked up once, every nonce read from the kernel in
    one system call (just as random), the loop in a comprehension. The append path's form."""
    encrypt, suffix = cipher(key).encrypt, stream.encode("utf-8")
    pool = os.urandom(NONCE_BYTES * len(payloads))
    nonces = [pool[start:start + NONCE_BYTES] for start in range(0, len(pool), NONCE_BYTES)]
    return [SEALED + nonce + encrypt(nonce, plaintext, event_id + suffix)
            for nonce, event_id, plaintext in zip(nonces, event_ids, payloads)]


def unseal(key: bytes | None, payload: bytes, aad: bytes) -> bytes | None:
    """The plaintext; the payload itself when it was never sealed; None when the key is gone."""
    payload = bytes(payload)
    if not is_sealed(payload):
        return payload
    if key is None:
        return None
    return cipher(key).decrypt(payload[1:1 + NONCE_BYTES], payload[1 + NONCE_BYTES:], aad)


def open_rows(rows, keys: dict[str, bytes], *, native_ids: bool = False):
    """Event rows (the stores' column order: payload last, id second, stream third) with their
    payloads opened; rows of an athlete whose key is gone (erased) are dropped. One cipher and one
    associated-data suffix per stream, not per row: this is replay's hot path."""
    per_stream: dict[str, tuple[AESGCM, bytes] | None] = {}
    for row in rows:
        payload = row[10]
        if payload[:1] != SEALED:
            yield row
            continue
        stream = row[2]
        found = per_stream.get(stream, False)
        if found is False:
            key = keys.get(athlete_of(stream))
            found = per_stream[stream] = None if key is None else (cipher(key), stream.encode("utf-8"))
        if found is None:
            continue
        aead, suffix = found
        event_id = row[1].bytes if native_ids else bytes(row[1])
        view = memoryview(payload)
        yield (*row[:10], aead.decrypt(view[1:1 + NONCE_BYTES], view[1 + NONCE_BYTES:], event_id + suffix))


def opened_row(event_id: bytes, existing_row: tuple, key: bytes) -> tuple:
    """An idempotency row (stream, version, position, occurred, payload) with its payload opened:
    a retry is compared with what the client sent, not with ciphertext (both stores use this)."""
    stream, version, position, occurred, payload = existing_row
    if is_sealed(payload):
        try:
            payload = unseal(key, payload, event_aad(event_id, stream))
        except InvalidTag:  # another athlete's event: the stream check refuses it
            pass
    return stream, version, position, occurred, payload
