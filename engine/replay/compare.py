"""Is policy B better than the reference? Paired differences with 95% bootstrap intervals, and a verdict.

Every policy is run on the same athletes (the same log in a replay, the same simulated people in
closed loop), so differences are paired by athlete: each bootstrap resample draws athletes with
replacement (within each seed, in closed loop) and recomputes both policies' cohort metric on the
same draw. The 2.5th and 97.5th percentiles of the resampled differences are the 95% interval
(percentile bootstrap, 2,000 resamples, a fixed seed: the same inputs always give the same
interval). A metric is a ratio of per-athlete sums (a share, a mean per athlete, or pooled, like
adherence = strength weeks met / strength weeks), so resampling athletes resamples it correctly.

The verdict reads only the intervals: an aspect (speed, safety, engagement) is "faster"/"safer"/
"more engaged" when some of its metrics improve with an interval excluding zero and none worsen so,
the opposite when they worsen, "mixed" when both happen, and otherwise there is no detectable
difference.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 2000
SEED = 20260105
_CELLS = 4_000_000  # resampled athlete draws held at once (memory stays ~32 MB whatever the cohort)


@dataclass(frozen=True)
class Measure:
    """A cohort metric = scale * sum(num) / sum(den) over the athletes; ``better``: +1 higher, -1 lower."""

    key: str
    title: str
    aspect: str
    better: int
    num: Callable[[dict], float]
    den: Callable[[dict], float] = lambda r: 1.0
    scale: float = 1.0
    share: bool = False


def _reached(key: str) -> Callable[[dict], float]:
    return lambda r: 1.0 if r[key] is not None else 0.0


def _value(key: str) -> Callable[[dict], float]:
    return lambda r: float(r[key]) if r[key] is not None else 0.0


REPLAY_MEASURES = (
    Measure("reached_return_to_run", "share reaching return to run", "speed", +1,
            _reached("days_to_return_to_run"), share=True),
    Measure("reached_integration", "share reaching integration", "speed", +1,
            _reached("days_to_integration"), share=True),
    Measure("mean_days_to_strength", "days to strength phase (those who got there)", "speed", -1,
            _value("days_to_strength"), _reached("days_to_strength")),
    Measure("flare_ups_per_athlete", "flare-ups per athlete", "safety", -1, _value("flare_ups")),
    Measure("spikes_allowed_per_100_runs", "spikes allowed per 100 runs", "safety", -1,
            _value("spikes_allowed"), _value("runs"), scale=100.0),
    Measure("adherence", "strength adherence (share of weeks)", "engagement", +1,
            _value("strength_weeks_met"), _value("strength_weeks"), share=True),
    Measure("dropoff_flags_per_athlete", "drop-off flags per athlete", "engagement", -1, _value("dropoff_flags")),
)

CLOSED_LOOP_MEASURES = (
    Measure("reached_pre_injury_volume", "share back to pre-injury volume", "speed", +1,
            _reached("weeks_to_pre_injury_volume"), share=True),
    Measure("mean_weeks_to_pre_injury_volume", "weeks to pre-injury volume (those who got there)", "speed", -1,
            _value("weeks_to_pre_injury_volume"), _reached("weeks_to_pre_injury_volume")),
    Measure("reached_integration", "share reaching integration", "speed", +1,
            _reached("days_to_integration"), share=True),
    Measure("reinjury_rate", "re-injury rate", "safety", -1, lambda r: 1.0 if r["reinjuries"] > 0 else 0.0,
            share=True),
    Measure("flare_ups_per_athlete", "flare-ups per athlete", "safety", -1, _value("flare_ups")),
    Measure("adherence", "strength adherence (share of weeks)", "engagement", +1,
            _value("strength_weeks_met"), _value("strength_weeks"), share=True),
    Measure("dropoff_athletes", "share flagged for a drop-off", "engagement", -1,
            lambda r: 1.0 if r["dropoff_flags"] > 0 else 0.0, share=True),
    Measure("dropped_off_at_end", "share still dropping off at the end", "engagement", -1,
            lambda r: 1.0 if r["dropped_off_at_end"] else 0.0, share=True),
)

ASPECT_WORDS = {"speed": ("faster", "slower"), "safety": ("safer", "less safe"),
                "engagement": ("more engaged", "less engaged")}


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _draws(strata: np.ndarray, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` resamples of athlete indices, each drawn with replacement within its stratum."""
    columns = []
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        columns.append(members[rng.integers(0, len(members), size=(count, len(members)))])
    return np.concatenate(columns, axis=1)


def paired_differences(reference: Sequence[dict], other: Sequence[dict], measures: Sequence[Measure],
                       strata: Sequence | None = None) -> list[dict]:
    """For each measure: reference value, other value, difference (other - reference) and its
    95% bootstrap interval. ``reference[i]`` and ``other[i]`` are the same athlete."""
    if len(reference) != len(other):
        raise ValueError("paired rows must be the same athletes")
    n = len(reference)
    keys = np.asarray(list(strata) if strata is not None else [0] * n)
    arrays = []
    for m in measures:
        arrays.append([np.array([f(r) for r in rows], dtype=float)
                       for rows in (reference, other) for f in (m.num, m.den)])
    rng = np.random.default_rng(SEED)
    per_chunk = max(1, min(RESAMPLES, _CELLS // max(1, n)))
    diffs: list[list[np.ndarray]] = [[] for _ in measures]
    done = 0
    while n and done < RESAMPLES:
        count = min(per_chunk, RESAMPLES - done)
        idx = _draws(keys, rng, count)
        for i, (rn, rd, on, od) in enumerate(arrays):
            diffs[i].append(_ratio(on[idx].sum(1), od[idx].sum(1)) - _ratio(rn[idx].sum(1), rd[idx].sum(1)))
        done += count
    out = []
    for m, (rn, rd, on, od), chunks in zip(measures, arrays, diffs):
        ref = _scalar(_ratio(np.array([rn.sum()]), np.array([rd.sum()]))[0]) if n else None
        val = _scalar(_ratio(np.array([on.sum()]), np.array([od.sum()]))[0]) if n else None
        sample = np.concatenate(chunks) if chunks else np.array([])
        sample = sample[~np.isnan(sample)]
        low = high = None
        if len(sample) >= RESAMPLES // 2:
            low, high = (float(x) * m.scale for x in np.percentile(sample, [2.5, 97.5]))
        ref = None if ref is None else ref * m.scale
        val = None if val is None else val * m.scale
        diff = None if ref is None or val is None else val - ref
        out.append({"metric": m.key, "title": m.title, "aspect": m.aspect, "better": m.better,
                    "reference_value": ref, "value": val, "difference": diff, "low": low, "high": high,
                    "athletes": n, "finding": finding(diff, low, high, m.better)})
    return out


def cohort_values(rows: Sequence[dict], measures: Sequence[Measure]) -> dict[str, float | None]:
    """Each measure over ``rows`` (one cohort, no resampling)."""
    out = {}
    for m in measures:
        den = sum(m.den(r) for r in rows)
        out[m.key] = m.scale * sum(m.num(r) for r in rows) / den if den else None
    return out


def _scalar(x) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def finding(diff, low, high, better: int) -> str:
    """``better``, ``worse`` (the interval excludes zero) or ``no difference``."""
    if diff is None or low is None or high is None:
        return "no difference"
    if low > 0 or high < 0:
        return "better" if (diff > 0) == (better > 0) else "worse"
    return "no difference"


def compare(rows_by_policy: dict[str, list[dict]], labels: Sequence[str], reference: str,
            measures: Sequence[Measure], unit: Callable[[dict], tuple], stratum: Callable[[dict], object]
            ) -> list[dict]:
    """Every policy but ``reference`` against it, athletes paired by ``unit(row)``."""
    ref_rows = {unit(r): r for r in rows_by_policy.get(reference, [])}
    out = []
    for label in labels:
        if label == reference:
            continue
        mine = {unit(r): r for r in rows_by_policy.get(label, [])}
        common = sorted(set(ref_rows) & set(mine))
        stats = paired_differences([ref_rows[k] for k in common], [mine[k] for k in common], measures,
                                   [stratum(ref_rows[k]) for k in common])
        out += [{"policy": label, "reference": reference} | s for s in stats]
    return out


def _by_policy(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in rows:
        out.setdefault(row["policy"], []).append(row)
    return out


def compare_replay(athlete_rows: list[dict], labels: Sequence[str], reference: str) -> list[dict]:
    """Replay: paired by athlete id, one stratum."""
    return compare(_by_policy(athlete_rows), labels, reference, REPLAY_MEASURES,
                   lambda r: (r["athlete_id"],), lambda r: 0)


def compare_closed_loop(athlete_rows: list[dict], labels: Sequence[str], reference: str) -> list[dict]:
    """Closed loop: paired by (seed, simulated athlete), resampled within each seed."""
    return compare(_by_policy(athlete_rows), labels, reference, CLOSED_LOOP_MEASURES,
                   lambda r: (r["seed"], r["index"]), lambda r: r["seed"])


def _fmt(value: float | None, share: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value * 100:+.1f} pts" if share else f"{value:+.3g}"


def verdict(comparison: Sequence[dict], measures: Sequence[Measure]) -> list[tuple[str, str]]:
    """(policy, sentence) per compared policy, from the intervals alone."""
    shares = {m.key: m.share for m in measures}
    out = []
    for label in dict.fromkeys(r["policy"] for r in comparison):
        rows = [r for r in comparison if r["policy"] == label]
        reference = rows[0]["reference"]
        if all(r["difference"] in (0, None) and r["low"] in (0, None) and r["high"] in (0, None) for r in rows):
            out.append((label, f"{label} gave the same outcomes as {reference} on every compared metric."))
            continue
        said, quiet = [], []
        for aspect, (good, bad) in ASPECT_WORDS.items():
            mine = [r for r in rows if r["aspect"] == aspect]
            up = [r for r in mine if r["finding"] == "better"]
            down = [r for r in mine if r["finding"] == "worse"]
            evidence = "; ".join(f"{r['title']} {_fmt(r['difference'], shares.get(r['metric'], False))} "
                                 f"[{_fmt(r['low'], shares.get(r['metric'], False))}, "
                                 f"{_fmt(r['high'], shares.get(r['metric'], False))}]" for r in up + down)
            if up and down:
                said.append(f"mixed on {aspect} ({evidence})")
            elif up:
                said.append(f"{good} ({evidence})")
            elif down:
                said.append(f"{bad} ({evidence})")
            else:
                quiet.append(aspect)
        n = rows[0]["athletes"]
        if not said:
            out.append((label, f"{label}: no detectable difference from {reference} ({n} paired athletes; "
                               f"every 95% interval includes zero)."))
            continue
        text = f"{label} is " + ", ".join(said) + f" than {reference}"
        if quiet:
            text += f"; no detectable difference in {' or '.join(quiet)}"
        out.append((label, text + f" ({n} paired athletes, 95% bootstrap intervals)."))
    return out


def verdict_html(comparison: Sequence[dict], measures: Sequence[Measure]) -> str:
    if not comparison:
        return "<p id='verdict'>Only one policy: nothing to compare.</p>"
    items = "".join(f"<li>{html.escape(text)}</li>" for _, text in verdict(comparison, measures))
    return f"<div id='verdict'><ul>{items}</ul></div>"
