"""Organisations: a coaching company or a clinic brand. Every athlete and every API key belongs to
one; a key never sees outside it. Each organisation may carry its own webhook URL and secret and
its own Redis stream name, which notifiers look up with :func:`delivery_settings`."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from engine.clock import Clock, SystemClock
from engine.store import session as tenancy_sql

DEFAULT_ORG = "default"
_ORG_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")


class Organisation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    created_at: str
    webhook_url: str | None = None
    redis_stream: str | None = None
    has_webhook_secret: bool = False
    """The secret itself is never returned."""


class DeliverySettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where one organisation's recommendations go (None: the process-wide setting applies)."""

    org_id: str | None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    redis_stream: str | None = None


class UnknownOrganisation(LookupError):
    pass


def check_org_id(org_id: str) -> str:
    if not isinstance(org_id, str) or not _ORG_ID.match(org_id):
        raise ValueError("an organisation id is 1-40 lowercase letters, digits, '_' or '-', "
                         "starting with a letter or digit")
    return org_id


class Organisations:
    """Organisations in the event store's database (any backend with ``sql_session``)."""

    def __init__(self, store: Any, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or getattr(store, "clock", None) or SystemClock()

    def create(self, org_id: str, name: str | None = None) -> Organisation:
        check_org_id(org_id)
        name = (name or org_id).strip()
        if not name or len(name) > 100:
            raise ValueError("an organisation name is 1-100 characters")
        with self.store.sql_transaction() as db:
            if db.one("SELECT 1 FROM orgs WHERE id = ? OR name = ?", (org_id, name)):
                raise ValueError(f"an organisation with id {org_id!r} or name {name!r} exists already")
            db.run("INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)",
                   (org_id, name, tenancy_sql.now_iso(self.clock)))
        return self.get(org_id)

    def ensure(self, org_id: str = DEFAULT_ORG) -> Organisation:
        """The organisation, created if missing (single-tenant installs use ``default``)."""
        found = self.find(org_id)
        if found is not None:
            return found
        try:
            return self.create(org_id)
        except ValueError:  # created meanwhile by another process
            return self.get(org_id)

    def find(self, org_id: str) -> Organisation | None:
        with self.store.sql_session() as db:
            row = db.one("SELECT id, name, created_at, webhook_url, redis_stream, webhook_secret "
                         "FROM orgs WHERE id = ?", (org_id,))
        return None if row is None else _org(row)

    def get(self, org_id: str) -> Organisation:
        found = self.find(org_id)
        if found is None:
            raise UnknownOrganisation(f"no organisation has id {org_id!r} (`strideline orgs list`)")
        return found

    def list(self) -> list[Organisation]:
        with self.store.sql_session() as db:
            rows = db.all("SELECT id, name, created_at, webhook_url, redis_stream, webhook_secret "
                          "FROM orgs ORDER BY id")
        return [_org(r) for r in rows]

    def configure(self, org_id: str, *, webhook_url: str | None = None, webhook_secret: str | None = None,
                  redis_stream: str | None = None, allow_insecure: bool = False) -> Organisation:
        """Set the organisation's delivery settings (only the ones given). The webhook rules of
        docs/security.md apply: https only and a secret of 32 bytes or more, unless allowed."""
        from engine.tenancy.webhooks import check_webhook_settings

        self.get(org_id)
        check_webhook_settings(webhook_url, webhook_secret, allow_insecure=allow_insecure)
        updates = {"webhook_url": webhook_url, "webhook_secret": webhook_secret, "redis_stream": redis_stream}
        with self.store.sql_transaction() as db:
            for column, value in updates.items():
                if value is not None:
                    db.run(f"UPDATE orgs SET {column} = ? WHERE id = ?", (value or None, org_id))
        return self.get(org_id)

    def assign(self, org_id: str, athletes: list[str]) -> int:
        """Put athletes appended outside the API (no organisation yet) into ``org_id``; refuses an
        athlete of another organisation. Returns how many were assigned."""
        self.get(org_id)
        done = 0
        with self.store.sql_transaction() as db:
            for athlete in athletes:
                row = db.one("SELECT org_id FROM athletes WHERE athlete = ?", (athlete,))
                if row is not None and row[0] not in (None, org_id):
                    raise ValueError(f"athlete {athlete!r} belongs to another organisation")
                if row is None:
                    db.run("INSERT INTO athletes (athlete, org_id, created_at) VALUES (?, ?, ?)",
                           (athlete, org_id, tenancy_sql.now_iso(self.clock)))
                else:
                    db.run("UPDATE athletes SET org_id = ? WHERE athlete = ?", (org_id, athlete))
                done += 1
        return done


def delivery_settings(store: Any, athlete_id: str) -> DeliverySettings:
    """The delivery settings of the organisation an athlete belongs to: the lookup notifiers call
    before delivering one athlete's recommendations (unset fields fall back to the process's)."""
    with store.sql_session() as db:
        row = db.one("SELECT o.id, o.webhook_url, o.webhook_secret, o.redis_stream FROM athletes a "
                     "JOIN orgs o ON o.id = a.org_id WHERE a.athlete = ?", (athlete_id,))
    if row is None:
        return DeliverySettings(org_id=None)
    return DeliverySettings(org_id=row[0], webhook_url=row[1], webhook_secret=row[2], redis_stream=row[3])


def _org(row: tuple) -> Organisation:
    org_id, name, created, url, stream, secret = row
    return Organisation(id=org_id, name=name, created_at=created, webhook_url=url, redis_stream=stream,
                        has_webhook_secret=bool(secret))
