"""GET /v1/athletes/{id}/series: daily chart rows in the athlete's local dates, computed from the
stream as it stands after corrections."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from api_support import at, enrolment, lift, pain
import typer
from typer.testing import CliRunner

from engine.commands.series import register

URL = "/v1/athletes/ath-1"


def run(when: dt.datetime, km: float, rpe: float = 5) -> dict:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "run.logged", "distance_km": km, "duration_min": km * 6, "rpe": rpe}}


def test_rows_are_local_days_with_load_km_pain_and_e1rm(client, admin, clock):
    """Given a Tokyo athlete with a run at 23:30 UTC (08:30 next day in Tokyo), a pain report and a
    squat, when the series is asked for, then the run lands on the Tokyo date, CTL/ATL rise with it
    and decay after, TSB is CTL - ATL, and the pain and e1RM sit on their days."""
    start = clock.now() - dt.timedelta(days=10)   # 2026-02-20 08:00 UTC
    late = start.replace(hour=23, minute=30)      # 2026-02-21 08:30 in Tokyo
    events = [enrolment(start - dt.timedelta(hours=1), time_zone="Asia/Tokyo"), run(late, 10),
              pain(late + dt.timedelta(days=1), score=4), lift(late + dt.timedelta(days=2), load_kg=60)]
    assert client.post(f"{URL}/events", json={"events": events}, headers=admin).status_code == 201
    r = client.get(f"{URL}/series", params={"from": "2026-02-20", "to": "2026-02-25"}, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["time_zone"] == "Asia/Tokyo" and body["version"] == 4
    days = {d["date"]: d for d in body["days"]}
    assert list(days) == [f"2026-02-{n}" for n in range(20, 26)]
    assert days["2026-02-20"]["km"] == 0 and days["2026-02-20"]["ctl"] == 0
    assert days["2026-02-21"]["km"] == 10 and days["2026-02-21"]["load"] == 300
    assert days["2026-02-21"]["ctl"] > 0 and days["2026-02-22"]["ctl"] < days["2026-02-21"]["ctl"]
    assert all(abs(d["tsb"] - (d["ctl"] - d["atl"])) < 0.02 for d in days.values())
    assert days["2026-02-25"]["week_km"] == 10 and days["2026-02-21"]["longest_run_km"] == 10
    assert days["2026-02-22"]["worst_pain"] == 4 and days["2026-02-21"]["worst_pain"] is None
    assert days["2026-02-23"]["e1rm_kg"] == {"squat": 76.0}


def test_a_retracted_run_never_counts(client, admin, clock):
    """Given a run later retracted, then no row of the series carries its km or load."""
    now = clock.now()
    wrong = run(now - dt.timedelta(days=3), 12)
    retraction = {"occurred_at": at(now), "event_id": str(uuid.uuid4()),
                  "data": {"type": "entry.retracted", "target_event_id": wrong["event_id"]}}
    events = [enrolment(now - dt.timedelta(days=5)), wrong, retraction]
    assert client.post(f"{URL}/events", json={"events": events}, headers=admin).status_code == 201
    days = client.get(f"{URL}/series", params={"from": "2026-02-25", "to": "2026-03-02"}, headers=admin).json()["days"]
    assert {d["km"] for d in days} == {0} and {d["ctl"] for d in days} == {0}


def test_an_amended_run_counts_as_amended(client, admin, clock):
    """Given a 12 km run amended to 6 km, then the day's km is 6."""
    now = clock.now()
    wrong = run(now - dt.timedelta(days=1), 12)
    amendment = {"occurred_at": at(now), "event_id": str(uuid.uuid4()),
                 "data": {"type": "entry.amended", "target_event_id": wrong["event_id"],
                          "replacement": run(now, 6)["data"]}}
    events = [enrolment(now - dt.timedelta(days=5)), wrong, amendment]
    assert client.post(f"{URL}/events", json={"events": events}, headers=admin).status_code == 201
    days = client.get(f"{URL}/series", params={"from": "2026-03-01", "to": "2026-03-02"}, headers=admin).json()["days"]
    assert [d["km"] for d in days] == [6, 0] and days[1]["week_km"] == 6


def test_the_default_range_ends_today_in_the_athletes_zone(client, admin, clock):
    """Given no range, then 90 rows end on the athlete's local today."""
    client.post(f"{URL}/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    days = client.get(f"{URL}/series", headers=admin).json()["days"]
    assert len(days) == 90 and days[-1]["date"] == "2026-03-02"


def test_a_range_too_long_or_reversed_is_422_and_a_bad_date_400(client, admin, clock):
    """A reversed or over-long range is 422 naming the parameter; a malformed date is 400."""
    client.post(f"{URL}/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    reversed_ = client.get(f"{URL}/series", params={"from": "2026-03-02", "to": "2026-03-01"}, headers=admin)
    assert reversed_.status_code == 422 and reversed_.json()["errors"][0]["path"] == "to"
    too_long = client.get(f"{URL}/series", params={"from": "2024-01-01", "to": "2026-03-01"}, headers=admin)
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["path"] == "from"
    assert client.get(f"{URL}/series", params={"from": "March"}, headers=admin).status_code == 400


def test_an_unknown_athlete_is_404(client, admin):
    """No events: 404, as for the other reads."""
    assert client.get(f"{URL}/series", headers=admin).status_code == 404


def test_the_cli_prints_the_same_rows_as_json(client, admin, clock, api_store):
    """Given a stored run, when `strideline series --json` reads the same store, then its rows are
    the endpoint's rows."""
    cli = typer.Typer()
    register(cli)
    now = clock.now()
    client.post(f"{URL}/events", json={"events": [enrolment(now - dt.timedelta(days=2)), run(now, 5)]},
                headers=admin)
    api_rows = client.get(f"{URL}/series", params={"from": "2026-02-28", "to": "2026-03-02"},
                          headers=admin).json()["days"]
    result = CliRunner().invoke(cli, ["ath-1", "--from", "2026-02-28", "--to", "2026-03-02",
                                      "--store", str(api_store.path), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == api_rows


def sleep(when: dt.datetime, hours: float) -> dict:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()), "data": {"type": "sleep.logged", "hours": hours}}


def fuel(when: dt.datetime, under: bool) -> dict:
    return {"occurred_at": at(when), "event_id": str(uuid.uuid4()),
            "data": {"type": "fuelling.logged", "under_fuelled": under}}


def test_metrics_selects_the_columns_in_row_order(client, admin, clock):
    """Given `metrics=km,ctl` (any order, comma-separated or repeated), then each row carries the
    date and those columns only, and the page lists them in row order."""
    now = clock.now()
    client.post(f"{URL}/events", json={"events": [enrolment(now - dt.timedelta(days=1)), run(now, 6)]},
                headers=admin)
    for params in ({"metrics": "km,ctl"}, [("metrics", "km"), ("metrics", "ctl")]):
        r = client.get(f"{URL}/series", params=params, headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["metrics"] == ["ctl", "km"]
        assert all(set(d) == {"date", "ctl", "km"} for d in body["days"])
        assert body["days"][-1]["km"] == 6


def test_an_unknown_metric_is_422_listing_the_valid_ones(client, admin, clock):
    """Given `metrics=ctl,vo2max`, then 422 at the `metrics` query parameter names the unknown one
    and lists every valid metric."""
    client.post(f"{URL}/events", json={"events": [enrolment(clock.now())]}, headers=admin)
    r = client.get(f"{URL}/series", params={"metrics": "ctl,vo2max"}, headers=admin)
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert (error["path"], error["location"]) == ("metrics", "query")
    assert "vo2max" in error["reason"] and "sleep_h, under_fuelled, phase" in error["reason"]


def test_sleep_fuelling_and_pain_by_context_sit_on_their_days(client, admin, clock):
    """Given sleep, a fuelling log and rest, next-morning and activity pain on one day, then that
    row carries each; a day without logs carries nulls."""
    now = clock.now()
    morning = {**pain(now, score=3), "data": {"type": "pain.reported", "score": 3, "context": "next_morning"}}
    events = [enrolment(now - dt.timedelta(days=2)), sleep(now, 7.5), fuel(now, True), pain(now, score=2),
              morning, lift(now)]
    events[-1]["data"]["pain"] = 4
    assert client.post(f"{URL}/events", json={"events": events}, headers=admin).status_code == 201
    r = client.get(f"{URL}/series", headers=admin, params={
        "from": "2026-03-01", "to": "2026-03-02",
        "metrics": "sleep_h,under_fuelled,rest_pain,morning_pain,activity_pain,worst_pain,phase"})
    empty, today = r.json()["days"]
    assert today == {"date": "2026-03-02", "rest_pain": 2, "morning_pain": 3, "activity_pain": 4,
                     "worst_pain": 4, "sleep_h": 7.5, "under_fuelled": True, "phase": "settle"}
    assert empty == {"date": "2026-03-01", "rest_pain": None, "morning_pain": None, "activity_pain": None,
                     "worst_pain": None, "sleep_h": None, "under_fuelled": None, "phase": "settle"}


def test_the_phase_column_follows_the_decisions_phase_changes():
    """Given phase changes decided on days 3 and 6 (Python API), then the phase column is settle
    before day 3, strength from it, plyometric from day 6."""
    from engine.scenarios import History
    from engine.series import series
    from projections.phase import PhaseChange

    h = History()
    first = h.start.date()
    changes = [PhaseChange("strength", 0, first.toordinal() + 3, 5, "phase.settle_exit"),
               PhaseChange("plyometric", 0, first.toordinal() + 6, 9, "phase.strength_exit")]
    rows = series(h.envelopes, first, first + dt.timedelta(days=7), metrics=["phase"], phases=changes)
    assert [r.phase for r in rows] == ["settle"] * 3 + ["strength"] * 3 + ["plyometric"] * 2


def test_the_cli_takes_metrics_and_refuses_unknown_ones(client, admin, clock, api_store):
    """Given `--metrics km,sleep_h`, then the CLI's JSON rows carry those columns; an unknown
    metric exits 2 naming the valid ones."""
    cli = typer.Typer()
    register(cli)
    now = clock.now()
    client.post(f"{URL}/events", json={"events": [enrolment(now - dt.timedelta(days=1)), run(now, 5),
                                                  sleep(now, 8)]}, headers=admin)
    args = ["ath-1", "--from", "2026-03-02", "--to", "2026-03-02", "--store", str(api_store.path)]
    result = CliRunner().invoke(cli, [*args, "--metrics", "km,sleep_h", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"date": "2026-03-02", "km": 5, "sleep_h": 8}]
    table = CliRunner().invoke(cli, [*args, "--metrics", "km,sleep_h"])
    assert table.exit_code == 0 and "sleep_h" in table.output
    bad = CliRunner().invoke(cli, [*args, "--metrics", "km,vo2max"])
    assert bad.exit_code == 2 and "vo2max" in bad.output
