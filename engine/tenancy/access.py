"""Whether a key may touch an athlete, and the record of each time it did.

The rule (docs/security.md): a key sees the athletes of its organisation, and of those only its
caseload when it is bound to one. Anything else is answered exactly as an athlete that does not
exist (404). An erased athlete of the key's own organisation is 410 Gone.
"""

from __future__ import annotations

from typing import Any

from engine.keys import ApiKey
from engine.store import session as tenancy_sql
from engine.store.base import AthleteErased, AthleteNotVisible


def authorize(store: Any, key: ApiKey, athlete_id: str, *, creating: bool = False) -> None:
    """Raise AthleteNotVisible (404) or AthleteErased (410) unless ``key`` may use the athlete.

    ``creating``: an ingest may name an athlete nobody has yet (their enrolment registers them in
    the key's organisation, inside the append's transaction)."""
    if not key.covers(athlete_id):
        raise AthleteNotVisible(athlete_id)
    with store.sql_session() as db:
        row = db.one("SELECT org_id, erased_at FROM athletes WHERE athlete = ?", (athlete_id,))
    if row is None:
        if creating:
            return
        raise AthleteNotVisible(athlete_id)
    if row[0] != key.org_id:
        raise AthleteNotVisible(athlete_id)
    if row[1] is not None:
        raise AthleteErased(athlete_id)


def record_access(store: Any, key: ApiKey, athlete_id: str | None, action: str, clock) -> None:
    """One row in the access log: who (key, organisation), when, which athlete, which endpoint."""
    with store.sql_transaction() as db:
        db.run("INSERT INTO access_log (at, key_id, org_id, athlete, action) VALUES (?, ?, ?, ?, ?)",
               (tenancy_sql.now_iso(clock), key.id, key.org_id, athlete_id, action))


def visible_athletes(store: Any, key: ApiKey, *, after: str = "", limit: int = 100) -> list[str]:
    """Live (not erased) athletes the key may see, by id, after the cursor ``after``."""
    sql = ("SELECT athlete FROM athletes WHERE org_id = ? AND erased_at IS NULL AND athlete > ? "
           "ORDER BY athlete LIMIT ?")
    with store.sql_session() as db:
        if key.caseload is None:
            return [a for (a,) in db.all(sql, (key.org_id, after, limit))]
        chosen = [a for a in key.caseload if a > after][: max(limit * 4, 500)]
        if not chosen:
            return []
        marks = ",".join("?" * len(chosen))
        rows = db.all(f"SELECT athlete FROM athletes WHERE org_id = ? AND erased_at IS NULL "
                      f"AND athlete IN ({marks}) ORDER BY athlete LIMIT ?", (key.org_id, *chosen, limit))
        return [a for (a,) in rows]
