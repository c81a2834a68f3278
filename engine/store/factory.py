"""Pick the event store backend from a URL: SQLite by default, PostgreSQL on ``postgresql://``.

The URL comes from the argument, else ``STRIDELINE_STORE_URL``, else the SQLite default file:

* nothing, ``""``                   -> SQLite at ``var/strideline.sqlite3``
* ``sqlite:///relative/path``       -> SQLite at ``relative/path`` (``sqlite:////abs/path``: absolute)
* ``sqlite://`` or ``sqlite:///:memory:`` -> an in-memory SQLite store
* ``sqlite:///path?synchronous=NORMAL``   -> SQLite with a relaxed fsync (scratch stores only)
* a bare path                       -> SQLite at that path
* ``postgresql://...`` / ``postgres://...`` -> PostgreSQL (libpq URL; the schema must be upgraded
  with ``strideline db upgrade`` first, or pass ``migrate=True``)
"""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qs, urlsplit, urlunsplit

from engine.clock import Clock
from engine.store.base import EventStore
from engine.store.sqlite import DEFAULT_PATH, SQLiteEventStore

ENV_VAR = "STRIDELINE_STORE_URL"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


def resolve_url(url: str | None = None) -> str:
    """The URL the store would open: the argument, else the environment, else the default file."""
    if url is None:
        url = os.environ.get(ENV_VAR, "")
    return url.strip() or f"sqlite:///{DEFAULT_PATH}"


def backend_of(url: str | None = None) -> str:
    """``"sqlite"`` or ``"postgresql"``; ValueError for any other scheme."""
    match = _SCHEME.match(resolve_url(url))
    scheme = match[1].lower() if match else "sqlite"
    if scheme in {"postgresql", "postgres"}:
        return "postgresql"
    if scheme == "sqlite":
        return "sqlite"
    raise ValueError(
        f"unsupported store URL scheme {scheme!r}: use sqlite:///path, a file path or postgresql://..."
    )


def sqlite_target(url: str) -> tuple[str, str]:
    """(path, synchronous) of a SQLite URL or bare path."""
    if not _SCHEME.match(url):
        return url, "FULL"
    parts = urlsplit(url)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    options = parse_qs(parts.query)
    synchronous = options.get("synchronous", ["FULL"])[-1]
    return (path or ":memory:"), synchronous


def redact(url: str) -> str:
    """The URL with any password replaced, fit for logs and ``db info``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def open_store(url: str | None = None, clock: Clock | None = None, *, migrate: bool = False) -> EventStore:
    """Open the store the URL names (see the module docstring)."""
    resolved = resolve_url(url)
    if backend_of(resolved) == "postgresql":
        from engine.store.postgres import PostgresEventStore

        return PostgresEventStore(resolved, clock=clock, migrate=migrate)
    path, synchronous = sqlite_target(resolved)
    return SQLiteEventStore(path, clock=clock, synchronous=synchronous)
