"""``python -m bench``: every benchmark, side by side with the eventsourcing library, then a table.

    .venv/bin/python -m bench                         # default size: a few minutes on 2 cores
    .venv/bin/python -m bench --athletes 10000        # the full-size cohort (~4.4M events)
    .venv/bin/python -m bench --only replay,appends   # a subset
    .venv/bin/python -m bench --memory-store /tmp/big.sqlite3   # peak RSS of a replay of that store

Figures go to stdout and to bench/out/results-<time>.json. Benchmarks are not tests: nothing here
asserts on timings. Durability: both Strideline and the peer run SQLite in WAL mode with
synchronous=FULL (checked on the live connections and printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import appends, peer, replay
from bench.data import OUT, START, cohort_submissions, flatten, load_cohort, remove_sqlite, take_events

SECTIONS = ("appends", "replay", "live", "http", "noise", "demo", "memory")
TARGETS = {
    "backtest_events_per_s": 1_000_000,
    "backtest_vs_peer_rebuild": 20.0,
    "single_append_vs_peer": 1.5,
    "group_commit_events_per_s": 20_000,
    "batched_events_per_s": 200_000,
    "live_sustained_events_per_s": 5_000,
    "live_p50_ms": 10.0,
    "live_p99_ms": 50.0,
    "http_batched_events_per_s": 5_000,
    "http_single_p99_ms": 20.0,
    "memory_peak_rss_mib": 1024.0,
    "noise_compliant_median_per_week": 3,
}


def log(*args) -> None:
    print(*args, flush=True)


def best(runs: list[dict], key: str = "events_per_s") -> dict:
    """The median run of several (the machine is shared; the median resists one slow round)."""
    ordered = sorted(runs, key=lambda r: r[key])
    return ordered[len(ordered) // 2] | {"rounds": [r[key] for r in runs]}


def section_appends(args, results: dict) -> None:
    subs = take_events(cohort_submissions(min(args.athletes, 400), args.weeks, args.seed), args.concurrent_events)
    events = flatten(subs)
    single = take_events(events, args.single_events)
    work = OUT / "appends"
    work.mkdir(parents=True, exist_ok=True)
    s_runs, p_runs, sb_runs, pb_runs = [], [], [], []
    for _ in range(args.rounds):  # interleaved rounds: both sides see the same machine load
        for path in ("s.sqlite3", "p.sqlite3", "sb.sqlite3", "pb.sqlite3"):
            remove_sqlite(work / path)
        s_runs.append(appends.append_single(str(work / "s.sqlite3"), single))
        p_runs.append(peer.append_single(str(work / "p.sqlite3"), single))
        sb_runs.append(appends.append_batched(str(work / "sb.sqlite3"), events))
        pb_runs.append(peer.append_batched(str(work / "pb.sqlite3"), events))
    s, p, sb, pb = best(s_runs), best(p_runs), best(sb_runs), best(pb_runs)
    results["append_single"] = {"strideline": s, "peer": p,
                                "ratio": round(s["events_per_s"] / p["events_per_s"], 2)}
    results["append_batched"] = {"strideline": sb, "peer": pb,
                                 "ratio": round(sb["events_per_s"] / pb["events_per_s"], 2)}
    log(f"  single-event durable append: strideline {s['events_per_s']:,}/s ({s['events_per_cpu_s']:,} per CPU-s, "
        f"{s['journal_mode']}, synchronous={s['synchronous']}), peer {p['events_per_s']:,}/s "
        f"({p['events_per_cpu_s']:,} per CPU-s, {p['journal_mode']}, synchronous={p['synchronous']}): "
        f"x{results['append_single']['ratio']}")
    log(f"  batched append: strideline {sb['events_per_s']:,}/s ({sb['events_per_cpu_s']:,} per CPU-s), "
        f"peer {pb['events_per_s']:,}/s ({pb['events_per_cpu_s']:,} per CPU-s): x{results['append_batched']['ratio']}")
    remove_sqlite(work / "split.sqlite3")
    split = appends.cpu_split(str(work / "split.sqlite3"), events)
    results["append_batched"]["cpu_split_us_per_event"] = split["us_per_event"]
    log("  batched append, CPU per event (us): " + ", ".join(f"{k} {v}" for k, v in split["us_per_event"].items()))
    singles = {a: [[e] for e in evs] for a, evs in events.items()}
    concurrent = {}
    for label, work_items in (("single-event calls", singles), ("per-submission batches", subs)):
        for gc in (False, True):
            runs = []
            for _ in range(args.rounds):
                remove_sqlite(work / "c.sqlite3")
                runs.append(appends.append_concurrent(str(work / "c.sqlite3"), work_items, args.clients,
                                                      group_commit=gc))
            r = best(runs)
            concurrent[f"{label}, group_commit={gc}"] = r
            log(f"  {args.clients} concurrent clients, {label}, group_commit={gc}: {r['events_per_s']:,} events/s "
                f"({r['events_per_cpu_s']:,} per CPU-s; {r['calls_per_s']:,} calls/s), p50 {r['p50_ms']} ms, "
                f"p99 {r['p99_ms']} ms")
    results["append_concurrent"] = concurrent


def section_replay(args, results: dict) -> None:
    path = str(load_cohort(args.athletes, args.weeks, args.seed, log=log))
    horizon = dt.datetime.combine(START, dt.time(), tzinfo=dt.timezone.utc) + dt.timedelta(weeks=args.weeks)
    out = {}
    wanted = set(args.replay_parts.split(","))
    for mode, processes in (("fold", 1), ("backtest", 1), ("fold", args.processes), ("backtest", args.processes)):
        if f"{mode}{1 if processes == 1 else 'N'}" not in wanted:
            continue
        r = replay.run(path, mode=mode, processes=processes, horizon=horizon)
        out[f"{mode}_{processes}p"] = r
        log(f"  {mode} x{processes} process(es): {r['events']:,} events in {r['seconds']} s = "
            f"{r['events_per_s']:,} events/s ({r['events_per_cpu_s']:,} per CPU-second)"
            + (f", {r['recommendations']:,} recommendations, digest {r['digest'][:16]}" if r["digest"] else ""))
    try:
        if "engine" not in wanted:
            raise ImportError("not asked for")
        from bench.memory import with_engine_replay
        r = with_engine_replay(path, str(OUT / "engine-replay"), args.processes, horizon)
        out["engine_replay"] = r
        log(f"  engine.replay.replay x{args.processes} workers (parquet outputs): {r['events']:,} events in "
            f"{r['seconds']} s = {r['events_per_s']:,} events/s")
    except ImportError as exc:
        log(f"  engine.replay skipped ({exc})")
    if peer.available() and "peer" in wanted:
        peer_path = Path(path.replace("cohort-", "peer-"))
        done = Path(str(peer_path) + ".done")
        if not done.exists():
            remove_sqlite(peer_path)
            began = time.perf_counter()
            peer.load(str(peer_path), flatten(cohort_submissions(args.athletes, args.weeks, args.seed)))
            done.write_text("ok\n")
            log(f"  peer store loaded in {time.perf_counter() - began:.1f} s")
        athletes = replay.athletes_of(path)
        for processes in sorted({1 if "peer1" in wanted else args.processes, args.processes}):
            r = peer.rebuild(str(peer_path), athletes, processes)
            out[f"peer_rebuild_{processes}p"] = r
            log(f"  peer rebuild (repository.get of every aggregate) x{processes}: {r['events']:,} events in "
                f"{r['seconds']} s = {r['events_per_s']:,} events/s ({r['events_per_cpu_s']:,} per CPU-second)")
        peer_n = out[f"peer_rebuild_{args.processes}p"]["events_per_s"]
        if f"backtest_{args.processes}p" in out:
            out["backtest_vs_peer_rebuild"] = {
                "same_processes": round(out[f"backtest_{args.processes}p"]["events_per_s"] / peer_n, 2)}
        if f"fold_{args.processes}p" in out:
            out["fold_vs_peer_rebuild"] = round(out[f"fold_{args.processes}p"]["events_per_s"] / peer_n, 2)
    results["replay"] = out


def section_live(args, results: dict) -> None:
    from bench import live
    if not live.redis_available():
        log("  Redis not reachable: live pipeline skipped")
        return
    out = {}
    out["latency"] = live.run(OUT, mode="latency", athletes=args.live_athletes, weeks=args.weeks,
                              rate=args.live_rate, duration_s=args.live_seconds, log=log)
    log(f"  live at {args.live_rate} events/s offered: {out['latency']}")
    out["sustained"] = live.run(OUT, mode="sustained", athletes=args.live_athletes, weeks=args.weeks,
                                rate=0, duration_s=args.live_seconds, group_commit=True, log=log)
    log(f"  live sustained: {out['sustained']}")
    results["live"] = out


def section_http(args, results: dict) -> None:
    from bench import http
    per = take_events(flatten(cohort_submissions(min(args.athletes, 400), args.weeks, args.seed)), 20_000)
    out = {"batched": http.batched(OUT, per, batch=100, connections=8)}
    log(f"  HTTP batched (100 events/request, 8 connections): {out['batched']}")
    out["single"] = http.single(OUT, per, rate=args.http_rate, duration_s=args.http_seconds)
    log(f"  HTTP single-event requests at {args.http_rate}/s: {out['single']}")
    from bench import live
    if live.redis_available():
        out["single_redis"] = http.single(OUT, per, rate=args.http_rate, duration_s=args.http_seconds,
                                          redis_url=live.DEFAULT_REDIS)
        log(f"  HTTP single-event requests at {args.http_rate}/s, Redis workers: {out['single_redis']}")
    results["http"] = out


def section_noise(args, results: dict) -> None:
    from bench import noise
    size = argparse.Namespace(athletes=min(args.athletes, 200), weeks=args.weeks, seed=args.seed)
    cohort = list(noise.simulated_cohort(size.athletes, size.weeks, size.seed))
    runs, timing = noise.simulate(size.athletes, size.weeks, size.seed, cohort=cohort)
    out = noise.report(runs, timing | {"simulator": noise.simulator_digest()}, size)
    results["noise"] = out
    compliant, everyone = out["groups"]["compliant"], out["groups"]["all"]
    log(f"  noise ({size.athletes} athletes; `python bench/noise.py` for the detail): compliant recommendations "
        f"per athlete-week median {compliant['issued_per_athlete_week']['median']}, p90 "
        f"{compliant['issued_per_athlete_week']['p90']}; same-day contradictions "
        f"{everyone['same_day_contradictions']['count']}, 48 h flip-flops {everyone['flip_flops_48h']['count']}")


def section_demo(args, results: dict) -> None:
    """The demo's time (and, with --demo-before, that commit's), in interleaved rounds; the median."""
    from bench import demo
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for _ in range(args.demo_rounds):
        for label, ref in (("before", args.demo_before), ("after", None)):
            if label == "before" and not ref:
                continue
            r = demo.run(OUT / "demo", before=ref)
            runs[label].append(r)
            log(f"  demo ({r['code']}, synchronous={r['synchronous']}): {r['athletes']} athletes x {r['weeks']} "
                f"weeks, {r['events']:,} events -> {r['recommendations']:,} recommendations in {r['seconds']} s = "
                f"{r['events_per_s']:,} events/s ({r['events_per_cpu_s']:,} per CPU-second, {r['process_cpu_s']} CPU-s)")
    out = {label: best(rs, "seconds") for label, rs in runs.items() if rs}
    if "before" in out:
        out["speed_up"] = round(out["before"]["seconds"] / out["after"]["seconds"], 2)
        out["cpu_speed_up"] = round(out["before"]["process_cpu_s"] / out["after"]["process_cpu_s"], 2)
        log(f"  demo speed-up: x{out['speed_up']} wall, x{out['cpu_speed_up']} CPU")
    results["demo"] = out


def section_memory(args, results: dict) -> None:
    store = args.memory_store or str(load_cohort(args.athletes, args.weeks, args.seed, log=log))
    cmd = [sys.executable, "-m", "bench.memory", store, str(OUT / "memory-replay"), str(args.processes)]
    line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    r = json.loads(line)
    r["store"] = store
    results["memory"] = r
    log(f"  memory: {r}")


def summary(results: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, ratio to target) rows."""
    rows = []

    def row(name, value, target, unit="", lower_is_better=False):
        if value is None:
            return
        ratio = (target / value if value else float("inf")) if lower_is_better else value / target
        rows.append((name, f"{value:,}{unit}", f"{'<=' if lower_is_better else '>='} {target:,}{unit}",
                     f"{ratio:.2f}"))

    rp = results.get("replay", {})
    for key, r in rp.items():
        if key.startswith("backtest_") and isinstance(r, dict) and "events_per_s" in r and r["processes"] > 1:
            row(f"replay/backtest, {r['processes']} processes (events/s)", r["events_per_s"],
                TARGETS["backtest_events_per_s"])
    if "backtest_vs_peer_rebuild" in rp:
        row("backtest vs peer rebuild, same processes (x)", rp["backtest_vs_peer_rebuild"]["same_processes"],
            TARGETS["backtest_vs_peer_rebuild"])
    if "fold_vs_peer_rebuild" in rp:
        rows.append(("fold-only replay vs peer rebuild, same processes (x)", str(rp["fold_vs_peer_rebuild"]),
                     "-", "-"))
    if "append_single" in results:
        row("single-event durable append vs peer (x)", results["append_single"]["ratio"],
            TARGETS["single_append_vs_peer"])
    for label, r in results.get("append_concurrent", {}).items():
        if label.endswith("group_commit=True"):
            row(f"concurrent durable appends, {label} (events/s)", r["events_per_s"],
                TARGETS["group_commit_events_per_s"])
    if "append_batched" in results:
        row("batched append (events/s)", results["append_batched"]["strideline"]["events_per_s"],
            TARGETS["batched_events_per_s"])
        rows.append(("batched append vs peer (x)", str(results["append_batched"]["ratio"]), "-", "-"))
    live = results.get("live", {})
    if "sustained" in live:
        row("live pipeline sustained (events/s)", live["sustained"]["processed_events_per_s"],
            TARGETS["live_sustained_events_per_s"])
    if "latency" in live:
        row("live append -> recommendation p50 (ms)", live["latency"]["p50_ms"], TARGETS["live_p50_ms"], "",
            True)
        row("live append -> recommendation p99 (ms)", live["latency"]["p99_ms"], TARGETS["live_p99_ms"], "",
            True)
    http = results.get("http", {})
    if "batched" in http:
        row("HTTP ingest, batches (events/s)", http["batched"]["events_per_s"], TARGETS["http_batched_events_per_s"])
    if "single" in http:
        row("HTTP single-event p99, in-process pipeline (ms)", http["single"]["p99_ms"],
            TARGETS["http_single_p99_ms"], "", True)
    if "single_redis" in http:
        row("HTTP single-event p99, Redis workers (ms)", http["single_redis"]["p99_ms"],
            TARGETS["http_single_p99_ms"], "", True)
    if "noise" in results:
        target = results["noise"]["target"]
        row("noise: compliant recommendations per athlete-week, median", target["compliant_median_per_week"],
            TARGETS["noise_compliant_median_per_week"], "", True)
        rows.append(("noise: same-day contradictions", str(target["all_same_day_contradictions"]), "0",
                     "met" if target["all_same_day_contradictions"] == 0 else "-"))
    demo = results.get("demo", {})
    if "speed_up" in demo:
        row("demo speed-up vs --demo-before (x, wall)", demo["speed_up"], 3.0)
    if "memory" in results:
        row("replay peak RSS, largest process (MiB)", max(results["memory"]["peak_rss_mib_main"],
                                                          results["memory"]["peak_rss_mib_largest_worker"]),
            TARGETS["memory_peak_rss_mib"], "", True)
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--athletes", type=int, default=1000, help="cohort size for replay (default 1000)")
    ap.add_argument("--weeks", type=int, default=16, help="simulated weeks (default 16: ~100-600 events each)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=",".join(s for s in SECTIONS if s != "memory"),
                    help=f"comma-separated sections of {','.join(SECTIONS)} (default: all but memory)")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each append benchmark (median kept)")
    ap.add_argument("--single-events", type=int, default=4000)
    ap.add_argument("--concurrent-events", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--live-athletes", type=int, default=300)
    ap.add_argument("--live-rate", type=float, default=500)
    ap.add_argument("--live-seconds", type=float, default=15)
    ap.add_argument("--http-rate", type=float, default=200)
    ap.add_argument("--http-seconds", type=float, default=15)
    ap.add_argument("--memory-store", default=None, help="store to replay for the memory figure")
    ap.add_argument("--demo-before", default=None, metavar="GIT_REF",
                    help="also time the demo on this commit's code, in the same run (e.g. 9f12a12)")
    ap.add_argument("--demo-rounds", type=int, default=1, help="interleaved rounds of the demo (median kept)")
    ap.add_argument("--replay-parts", default="fold1,backtest1,foldN,backtestN,engine,peer,peer1",
                    help="replay figures to measure (N: --processes)")
    args = ap.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    if args.memory_store and "memory" not in sections:
        sections.append("memory")
    OUT.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=Path(__file__).parent).stdout.strip()
    results: dict = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "commit": commit,
                     "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                     "load_before": os.getloadavg(), "args": vars(args)}
    log(f"strideline bench {results['date']} commit {commit}, {results['machine']}, "
        f"load average {results['load_before'][0]:.2f}")
    for name in sections:
        log(f"[{name}]")
        began = time.perf_counter()
        globals()[f"section_{name}"](args, results)
        log(f"  ({time.perf_counter() - began:.0f} s)")
    results["load_after"] = os.getloadavg()
    rows = summary(results)
    results["summary"] = rows
    path = OUT / f"results-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    width = max((len(r[0]) for r in rows), default=10)
    log("")
    log(f"{'figure':<{width}}  {'measured':>14}  {'target':>16}  ratio to target")
    for name, value, target, ratio in rows:
        log(f"{name:<{width}}  {value:>14}  {target:>16}  {ratio}")
    log(f"\nresults: {path}")


if __name__ == "__main__":
    main()
