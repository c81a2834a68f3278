"""athlete.profile_updated as a specification: the profile changes from that event on, earlier days
keep what they were, and a projector folding batch by batch (snapshots between) ends where one
replay of the whole log does."""

from __future__ import annotations

import datetime as dt

import msgspec

from engine.decisions import advance
from engine.policies.baseline import BaselinePolicy
from engine.scenarios import History
from events import Envelope
from events.codec import decode_payload, encode_payload
from events.vocabulary import AthleteProfileUpdated, event_type
from projections.athlete import AthleteState, copy_state, encode


def moved_to_tokyo() -> History:
    """Enrolled in London (GMT in March); a run at 23:30 UTC on day 0; then a move to Tokyo
    (UTC+9) and another run at 23:30 UTC on day 2, which is day 3 in Tokyo."""
    h = History(time_zone="Europe/London")
    h.day(0, hour=23).at(h.now + dt.timedelta(minutes=30)).run(5)
    h.day(1).log(AthleteProfileUpdated(time_zone="Asia/Tokyo"))
    h.day(2, hour=23).at(h.now + dt.timedelta(minutes=30)).run(8)
    return h


def stored(envelopes: list[Envelope]) -> list[Envelope]:
    """The envelopes as the store hands them back (payloads through the codec: 8 km is 8.0)."""
    return [msgspec.structs.replace(e, data=decode_payload(event_type(e.data), encode_payload(e.data)))
            for e in envelopes]


def day_of(h: History, offset: int) -> int:
    return (h.start + dt.timedelta(days=offset)).date().toordinal()


def test_events_after_a_move_are_dated_in_the_new_time_zone_and_earlier_ones_stay():
    """Given a run logged in London and one after a move to Tokyo, then the first stays on its
    London day and the second lands on the Tokyo day; the profile's zone is Tokyo."""
    h = moved_to_tokyo()
    state = h.state()
    assert state.profile.time_zone == "Asia/Tokyo"
    assert state.load.km == {day_of(h, 0): 5, day_of(h, 3): 8}


def test_an_update_changes_only_the_fields_it_names():
    """Given an enrolment (70 kg, 30 km a week, 12 km longest), when body mass and weekly volume
    are updated, then those change and the zone and longest run stay."""
    h = History(body_mass_kg=70, weekly_km=30, longest_km=12)
    h.day(1).log(AthleteProfileUpdated(body_mass_kg=64.5, pre_injury_weekly_km=45))
    profile = h.state().profile
    assert (profile.body_mass_kg, profile.pre_injury_weekly_km) == (64.5, 45)
    assert (profile.time_zone, profile.pre_injury_longest_run_km) == ("UTC", 12)


def test_the_later_of_two_updates_wins():
    """Given two updates of the body mass, then the profile holds the later one."""
    h = History(body_mass_kg=70)
    h.day(1).log(AthleteProfileUpdated(body_mass_kg=68))
    h.day(5).log(AthleteProfileUpdated(body_mass_kg=66))
    assert h.state().profile.body_mass_kg == 66


def test_folding_batch_by_batch_with_snapshots_equals_one_replay():
    """Given a diary with a move and a volume change in it, when a live projector folds it one
    event at a time, saving and loading its state between, then its state and recommendations
    equal one replay of the whole log."""
    h = moved_to_tokyo()
    for offset in range(3, 12):
        h.day(offset).pain(2).lift("squat", 50 + offset, 8)
    h.day(12).log(AthleteProfileUpdated(pre_injury_weekly_km=50, body_mass_kg=66))
    h.day(13).pain(1).run(4)
    policy, horizon, log = BaselinePolicy(), h.start + dt.timedelta(days=14), stored(h.envelopes)

    whole = AthleteState(athlete_id=h.athlete_id)
    replayed = advance(whole, log, policy, horizon)

    live, issued = AthleteState(athlete_id=h.athlete_id), []
    for envelope in log:
        issued += advance(live, [envelope], policy)
        live = copy_state(live)
    issued += advance(live, [], policy, horizon)
    assert issued == replayed and encode(live) == encode(whole)
    assert whole.profile.pre_injury_weekly_km == 50 and whole.profile.time_zone == "Asia/Tokyo"
