"""Query strings: a scalar parameter given twice is refused, not silently narrowed to one value."""

from __future__ import annotations


def reasons(r) -> list[tuple[str, str, str]]:
    return [(e["path"], e["location"], e["reason"]) for e in r.json()["errors"]]


def test_a_repeated_scalar_query_parameter_is_refused_at_its_name(client, admin):
    """Given the roster, when `phase` is given twice, then 400 names `phase` in the query."""
    r = client.get("/v1/athletes?phase=strength&phase=settle", headers=admin)
    assert r.status_code == 400, r.text
    assert reasons(r) == [("phase", "query", "given 2 times; give it once")]


def test_every_repeated_parameter_is_named_at_once(client, admin):
    """Given two parameters each repeated, then both are named in one answer."""
    r = client.get("/v1/athletes?has_open_flags=true&has_open_flags=false&limit=5&limit=6", headers=admin)
    assert r.status_code == 400
    assert [path for path, _, _ in reasons(r)] == ["has_open_flags", "limit"]


def test_each_parameter_given_once_is_answered(client, admin):
    """Given the same parameters once each, then the roster answers."""
    r = client.get("/v1/athletes?phase=strength&has_open_flags=true&limit=5", headers=admin)
    assert r.status_code == 200, r.text
