"""Organisations and caseloads: a key never sees or touches an athlete outside what it is bound to,
and the answer is the one for an athlete that does not exist. Every test runs on SQLite and on real
PostgreSQL (the keys and organisations live in the event store's database)."""

from __future__ import annotations

import pytest
from api_support import enrolment, pain

from engine.store.factory import open_store

OURS, THEIRS, STRANGER = "ath-ours", "ath-theirs", "ath-nobody"
SCOPES = ["ingest", "read", "admin"]
# (name, method, path template, scope needed)
ATHLETE_ENDPOINTS = [
    ("append", "POST", "/v1/athletes/{a}/events", "ingest"),
    ("events", "GET", "/v1/athletes/{a}/events", "read"),
    ("view", "GET", "/v1/athletes/{a}/view", "read"),
    ("recommendations", "GET", "/v1/athletes/{a}/recommendations", "read"),
    ("audit", "GET", "/v1/athletes/{a}/audit", "admin"),
    ("erase", "DELETE", "/v1/athletes/{a}", "admin"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api_store(request, tmp_path, clock):
    """Overrides the SQLite-only store of conftest: both backends."""
    if request.param == "sqlite":
        url = str(tmp_path / "tenancy.sqlite3")
    else:
        url = request.getfixturevalue("pg_schema_url")
    store = open_store(url, clock, migrate=True)
    yield store
    store.close()


@pytest.fixture
def two_orgs(client, keys, key_for, clock):
    """``acme`` enrols OURS; ``rival`` enrols THEIRS. Returns the admin headers of each."""
    keys.orgs.create("rival", "Rival Clinic")
    acme, rival = key_for("admin"), key_for("admin", org="rival")
    for athlete, headers in ((OURS, acme), (THEIRS, rival)):
        r = client.post(f"/v1/athletes/{athlete}/events", json={"events": [enrolment(clock.now())]},
                        headers=headers)
        assert r.status_code == 201, r.text
    return acme, rival


def _call(client, method: str, path: str, headers: dict, clock):
    if method == "POST":
        return client.post(path, json={"events": [pain(clock.now(), note="cross-org probe")]}, headers=headers)
    return client.request(method, path, headers=headers)


def _invisible(response, athlete: str, reference) -> None:
    assert response.status_code == 404, response.text
    assert response.json() == {**reference.json(), "errors": [
        {**reference.json()["errors"][0], "reason": reference.json()["errors"][0]["reason"].replace(STRANGER, athlete)}]}


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize(("name", "method", "template", "needed"), ATHLETE_ENDPOINTS,
                         ids=[e[0] for e in ATHLETE_ENDPOINTS])
def test_another_organisations_athlete_reads_as_missing(client, two_orgs, key_for, clock, scope, name,
                                                        method, template, needed):
    """Given OURS in acme, when a rival key of any scope calls any athlete endpoint on OURS, then it
    gets exactly the answer for an athlete that does not exist (or 403 when it lacks the scope)."""
    rival = key_for(scope, org="rival")
    response = _call(client, method, template.format(a=OURS), rival, clock)
    if scope not in (needed, "admin"):
        assert response.status_code == 403
        return
    reference = client.get(f"/v1/athletes/{STRANGER}/events", headers=key_for("read", org="rival"))
    _invisible(response, OURS, reference)
    owner = client.get(f"/v1/athletes/{OURS}/events", headers=two_orgs[0])
    assert owner.status_code == 200 and owner.json()["version"] == 1  # nothing was appended or erased


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize(("name", "method", "template", "needed"), ATHLETE_ENDPOINTS,
                         ids=[e[0] for e in ATHLETE_ENDPOINTS])
def test_a_caseload_key_sees_only_its_caseload(client, two_orgs, key_for, clock, scope, name, method,
                                               template, needed):
    """Given a key of acme bound to the caseload [ath-mine], when it calls any athlete endpoint on
    OURS (same organisation, not in the caseload), then the answer is 404 as for a missing athlete."""
    coach = key_for(scope, caseload=["ath-mine"])
    response = _call(client, method, template.format(a=OURS), coach, clock)
    if scope not in (needed, "admin"):
        assert response.status_code == 403
        return
    reference = client.get(f"/v1/athletes/{STRANGER}/events", headers=key_for("read"))
    _invisible(response, OURS, reference)


def test_a_caseload_key_works_on_its_own_athletes(client, two_orgs, key_for, clock):
    """Given a caseload key of acme, when it enrols and reads an athlete of its caseload, both work."""
    coach = key_for("ingest", "read", caseload=["ath-mine"])
    assert _call(client, "POST", "/v1/athletes/ath-mine/events", coach, clock).status_code == 422  # enrol first
    r = client.post("/v1/athletes/ath-mine/events", json={"events": [enrolment(clock.now())]}, headers=coach)
    assert r.status_code == 201
    assert client.get("/v1/athletes/ath-mine/events", headers=coach).status_code == 200


def test_the_roster_lists_only_what_the_key_may_see(client, two_orgs, key_for, clock):
    """Given athletes in two organisations, the roster of each key holds its own only; a caseload
    key's roster holds its caseload only."""
    acme, rival = two_orgs
    client.post("/v1/athletes/ath-mine/events", json={"events": [enrolment(clock.now())]}, headers=acme)
    ids = lambda h: [a["athlete_id"] for a in client.get("/v1/athletes", headers=h).json()["athletes"]]  # noqa: E731
    assert ids(acme) == ["ath-mine", OURS]
    assert ids(rival) == [THEIRS]
    assert ids(key_for("read", caseload=["ath-mine", THEIRS])) == ["ath-mine"]


def test_the_roster_is_paged_and_filtered(client, two_orgs, clock):
    """Given five athletes of acme, pages of two walk them in id order; unprojected athletes match
    no phase filter."""
    acme, _ = two_orgs
    for n in range(4):
        client.post(f"/v1/athletes/ath-p{n}/events", json={"events": [enrolment(clock.now())]}, headers=acme)
    seen, after = [], ""
    while after is not None:
        page = client.get("/v1/athletes", params={"limit": 2, "after": after}, headers=acme).json()
        assert len(page["athletes"]) <= 2
        seen += [a["athlete_id"] for a in page["athletes"]]
        after = page["next_after"]
    assert seen == ["ath-ours", "ath-p0", "ath-p1", "ath-p2", "ath-p3"]
    filtered = client.get("/v1/athletes", params={"phase": "return_to_run"}, headers=acme).json()
    assert filtered == {"athletes": [], "next_after": None}


def test_enrolling_an_id_another_organisation_holds_is_404(client, two_orgs, clock):
    """Given THEIRS in rival, when acme tries to enrol the same id, nothing is stored and the answer
    is 404 (athlete ids are global: docs/security.md advises opaque ids)."""
    acme, rival = two_orgs
    r = client.post(f"/v1/athletes/{THEIRS}/events", json={"events": [enrolment(clock.now())]}, headers=acme)
    assert r.status_code == 404
    assert client.get(f"/v1/athletes/{THEIRS}/events", headers=rival).json()["version"] == 1


def test_key_administration_stays_inside_the_organisation(client, two_orgs, keys):
    """An admin key lists only its organisation's keys and cannot revoke another's (404)."""
    acme, rival = two_orgs
    theirs = keys.create("rival-app", ["read"], org="rival").record.id
    listed = {k["id"] for k in client.get("/v1/admin/keys", headers=acme).json()}
    assert theirs not in listed and all(k.org_id == "acme" for k in keys.list() if k.id in listed)
    assert client.delete(f"/v1/admin/keys/{theirs}", headers=acme).status_code == 404
    assert keys.get(theirs).revoked_at is None


def test_the_last_admin_key_of_an_organisation_cannot_be_revoked(client, keys, key_for):
    """Given one admin key, revoking it is refused (409); with a second, the first can go."""
    only = key_for("admin")
    only_id = only["Authorization"].split("_")[1]
    r = client.delete(f"/v1/admin/keys/{only_id}", headers=only)
    assert r.status_code == 409 and "last admin key" in r.json()["errors"][0]["reason"]
    second = key_for("admin")
    assert client.delete(f"/v1/admin/keys/{only_id}", headers=second).status_code == 200
    second_id = second["Authorization"].split("_")[1]
    assert client.delete(f"/v1/admin/keys/{second_id}", headers=second).status_code == 409


def test_appends_record_the_key_and_organisation_server_side(client, two_orgs, key_for, clock, api_store):
    """Given an append by an ingest key whose events claim another source, the stored rows carry the
    key id and organisation the server authenticated; the audit endpoint lists the append and a read."""
    acme, _ = two_orgs
    writer, reader = key_for("ingest"), key_for("read")
    event = {**pain(clock.now()), "source": "forged-key-id"}
    assert client.post(f"/v1/athletes/{OURS}/events", json={"events": [event]}, headers=writer).status_code == 201
    assert client.get(f"/v1/athletes/{OURS}/view", headers=reader).status_code == 200
    report = client.get(f"/v1/athletes/{OURS}/audit", headers=acme).json()
    writer_id, reader_id = (h["Authorization"].split("_")[1] for h in (writer, reader))
    assert {(a["key_id"], a["org_id"], a["events"]) for a in report["appends"]} >= {(writer_id, "acme", 1)}
    assert any(r["key_id"] == reader_id and r["action"] == "get_view" for r in report["reads"])
    assert "forged" not in repr(report)
