"""Replay and backtest figures: read, decode, fold every projection, evaluate the policy.

* ``fold``      - read + decode + fold (no policy), per athlete.
* ``backtest``  - read + decode + fold + the baseline policy at every decision point (after every
  event and at every local midnight up to the cohort's end): what an analyst's replay does.

Athletes are split across worker processes (``processes``); each process opens the store itself
and reads its athletes' streams. The recommendations' digest proves a change kept them identical.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing as mp
import time

import msgspec

from engine.decisions import advance
from engine.policies.baseline import BaselinePolicy
from engine.store.sqlite import SQLiteEventStore
from events.envelope import is_recommendation_stream
from projections.athlete import AthleteState, evolve

_rec_encoder = msgspec.msgpack.Encoder(order="deterministic")


def athletes_of(path: str) -> list[str]:
    store = SQLiteEventStore(path, synchronous="OFF")
    try:
        return [h.stream for h in store.stream_heads() if not is_recommendation_stream(h.stream)]
    finally:
        store.close()


def _work(args: tuple) -> tuple[int, int, list[tuple[str, str]], float, float]:
    path, athletes, mode, horizon_iso = args
    horizon = dt.datetime.fromisoformat(horizon_iso) if horizon_iso else None
    store = SQLiteEventStore(path, synchronous="OFF")
    policy = BaselinePolicy()
    events = recs = 0
    digests: list[tuple[str, str]] = []
    began, cpu = time.perf_counter(), time.process_time()
    for athlete_id in athletes:
        envelopes = store.read_stream(athlete_id)
        events += len(envelopes)
        state = AthleteState(athlete_id=athlete_id)
        if mode == "fold":
            for envelope in envelopes:
                evolve(state, envelope)
            continue
        out = advance(state, envelopes, policy, horizon)
        recs += len(out)
        digests.append((athlete_id, hashlib.sha256(_rec_encoder.encode(out)).hexdigest()))
    store.close()
    return events, recs, digests, time.perf_counter() - began, time.process_time() - cpu


def run(path: str, *, mode: str, processes: int, horizon: dt.datetime | None,
        limit_athletes: int | None = None) -> dict:
    """One replay over the cohort store at ``path``; returns events/s, recommendations and digest."""
    athletes = athletes_of(path)
    if limit_athletes:
        athletes = athletes[:limit_athletes]
    parts = [(path, athletes[i::processes], mode, horizon.isoformat() if horizon else None)
             for i in range(processes)]
    began = time.perf_counter()
    if processes == 1:
        results = [_work(parts[0])]
    else:
        with mp.get_context("fork").Pool(processes) as pool:
            results = pool.map(_work, parts)
    seconds = time.perf_counter() - began
    events = sum(r[0] for r in results)
    recs = sum(r[1] for r in results)
    cpu = sum(r[4] for r in results)
    digest = hashlib.sha256()
    for athlete_id, d in sorted(x for r in results for x in r[2]):
        digest.update(f"{athlete_id}:{d}\n".encode())
    return {"mode": mode, "processes": processes, "athletes": len(athletes), "events": events,
            "recommendations": recs, "seconds": round(seconds, 3),
            "events_per_s": round(events / seconds), "cpu_s": round(cpu, 3),
            "events_per_cpu_s": round(events / cpu), "digest": digest.hexdigest() if mode != "fold" else None}
