"""What encrypting payloads at rest costs (per-athlete AES-256-GCM, engine/store/sealing.py).

Plain vs sealed, on the same simulated events, in one process, interleaved rounds (median of 3):

* seal / open: the cipher alone, per MessagePack payload;
* append: ``store.append`` of each athlete's events in batches of 100 and one at a time, SQLite
  with ``synchronous=OFF`` so the CPU cost is not hidden behind fsyncs;
* replay read: ``iter_raw`` over the whole store (the raw rows replay ships to its workers), and
  ``iter_all`` (rows decoded into envelopes: what export and rebuild read).

"Plain" replaces ``sealing.seal`` with the identity for the run, which is the store as it was before
encryption (payloads written plain, read without key lookups).

    .venv/bin/python -m bench.encryption --athletes 100 --weeks 12
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.data import cohort_events
from engine.store import sealing
from engine.store.sqlite import SQLiteEventStore
from events.codec import encode_payload

_REAL_SEAL = sealing.seal


def _plain(enabled: bool) -> None:
    sealing.seal = _REAL_SEAL if enabled else (lambda key, plaintext, aad: plaintext)


def cipher_only(payloads: list[bytes]) -> dict:
    key, aad = sealing.new_data_key(), b"\x00" * 16 + b"ath-bench"
    began = time.perf_counter()
    sealed = [_REAL_SEAL(key, p, aad) for p in payloads]
    sealed_s = time.perf_counter() - began
    began = time.perf_counter()
    for s in sealed:
        sealing.unseal(key, s, aad)
    opened_s = time.perf_counter() - began
    return {"payloads": len(payloads), "mean_payload_bytes": round(statistics.mean(map(len, payloads))),
            "seal_us": round(sealed_s / len(payloads) * 1e6, 2), "open_us": round(opened_s / len(payloads) * 1e6, 2)}


def append_and_read(directory: Path, per_athlete: dict, *, sealed: bool, batch: int) -> dict:
    _plain(sealed)
    path = directory / f"enc-{'sealed' if sealed else 'plain'}-{batch}.sqlite3"
    store = SQLiteEventStore(path, synchronous="OFF")
    n, began = 0, time.perf_counter()
    for athlete, events in per_athlete.items():
        for start in range(0, len(events), batch):
            store.append(athlete, events[start:start + batch])
        n += len(events)
    append_s = time.perf_counter() - began
    began, cpu = time.perf_counter(), time.process_time()
    read = sum(len(rows) for rows in store.iter_raw(batch_size=5000))
    read_s, read_cpu = time.perf_counter() - began, time.process_time() - cpu
    began = time.perf_counter()
    decoded = sum(1 for _ in store.iter_all(batch_size=5000))
    decode_s = time.perf_counter() - began
    store.close()
    _plain(True)
    for p in directory.glob(path.name + "*"):
        p.unlink()
    assert read == decoded == n
    return {"events": n, "append_events_per_s": round(n / append_s), "read_events_per_s": round(n / read_s),
            "read_events_per_cpu_s": round(n / read_cpu), "decoded_events_per_s": round(n / decode_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    per_athlete = cohort_events(args.athletes, args.weeks)
    payloads = [encode_payload(e.data) for events in per_athlete.values() for e in events]
    out: dict = {"cipher": cipher_only(payloads)}
    with tempfile.TemporaryDirectory() as tmp:
        for batch in (100, 1):
            rounds: dict[str, list[dict]] = {"plain": [], "sealed": []}
            sample = per_athlete if batch > 1 else dict(list(per_athlete.items())[: max(1, len(per_athlete) // 10)])
            for _ in range(args.rounds):
                for mode in ("plain", "sealed"):
                    rounds[mode].append(append_and_read(Path(tmp), sample, sealed=mode == "sealed", batch=batch))
            out[f"batch_{batch}"] = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                                     for mode, rs in rounds.items()}
    for name in ("batch_100", "batch_1"):
        plain, sealed = out[name]["plain"], out[name]["sealed"]
        out[name]["append_cost_pct"] = round((plain["append_events_per_s"] / sealed["append_events_per_s"] - 1) * 100, 1)
        out[name]["read_cost_pct"] = round((plain["read_events_per_s"] / sealed["read_events_per_s"] - 1) * 100, 1)
        out[name]["decoded_read_cost_pct"] = round(
            (plain["decoded_events_per_s"] / sealed["decoded_events_per_s"] - 1) * 100, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
