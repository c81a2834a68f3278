"""Per-policy summaries of outcome rows, and confidence intervals across seeds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from engine.replay.outcomes import LATER_PHASES

# Student's t, two-sided 95% (0.975 quantile), by degrees of freedom 1..30.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042)


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t (df > 30: 1.96 + 2.5/df, within 0.002 of the exact value)."""
    if df < 1:
        return math.nan
    return _T975[df - 1] if df <= 30 else 1.96 + 2.5 / df


def interval(values: Sequence[float]) -> dict:
    """Mean with a 95% t-interval (mean +- t * sd / sqrt(n)); None where undefined
    (bounds need 2+ values; missing values are left out, ``n`` counts the rest)."""
    xs = [v for v in values if v is not None and not math.isnan(v)]
    if not xs:
        return {"mean": None, "sd": None, "low": None, "high": None, "n": 0}
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return {"mean": mean, "sd": None, "low": None, "high": None, "n": len(xs)}
    sd = statistics.stdev(xs)
    half = t975(len(xs) - 1) * sd / math.sqrt(len(xs))
    return {"mean": mean, "sd": sd, "low": mean - half, "high": mean + half, "n": len(xs)}


def _share(rows: list[dict], test) -> float | None:
    return sum(1 for r in rows if test(r)) / len(rows) if rows else None


def _mean(values: list) -> float | None:
    xs = [v for v in values if v is not None]
    return statistics.fmean(xs) if xs else None


def _median(values: list) -> float | None:
    xs = [v for v in values if v is not None]
    return float(statistics.median(xs)) if xs else None


def summarise(label: str, rows: list[dict]) -> dict:
    """One policy's outcome rows (one per athlete) -> one summary row."""
    n = len(rows)
    total = lambda key: sum(r[key] for r in rows)  # noqa: E731
    per = lambda key: total(key) / n if n else None  # noqa: E731
    out: dict = {"policy": label, "athletes": n, "events": total("events"),
                 "recommendations": total("recommendations"),
                 "recommendations_per_athlete": per("recommendations")}
    for phase in LATER_PHASES:
        key = f"days_to_{phase}"
        out[f"reached_{phase}"] = _share(rows, lambda r: r[key] is not None)
        out[f"median_days_to_{phase}"] = _median([r[key] for r in rows])
        out[f"mean_days_to_{phase}"] = _mean([r[key] for r in rows])
    weeks = total("strength_weeks")
    out |= {
        "regressions_per_athlete": per("regressions"),
        "progressions_per_athlete": per("progressions"),
        "flare_ups": total("flare_ups"),
        "flare_ups_per_athlete": per("flare_ups"),
        "flare_up_athletes": _share(rows, lambda r: r["flare_ups"] > 0),
        "red_pain_days_per_athlete": per("red_pain_days"),
        **{f"dropoff_{k}": total(f"dropoff_{k}") for k in ("1", "2", "3", "4", "silent")},
        "dropoff_flags_per_athlete": per("dropoff_flags"),
        "dropoff_athletes": _share(rows, lambda r: r["dropoff_flags"] > 0),
        "dropped_off_at_end": _share(rows, lambda r: r["dropped_off_at_end"]),
        "strength_weeks": weeks,
        "adherence": total("strength_weeks_met") / weeks if weeks else None,
        "runs": total("runs"),
        "spikes_allowed": total("spikes_allowed"),
        "spikes_allowed_per_100_runs": 100 * total("spikes_allowed") / total("runs") if total("runs") else None,
        "spike_flags": total("spike_flags"),
        "reinjury_rate": _share(rows, lambda r: r["reinjuries"] > 0),
        "reached_pre_injury_volume": _share(rows, lambda r: r["weeks_to_pre_injury_volume"] is not None),
        "mean_weeks_to_pre_injury_volume": _mean([r["weeks_to_pre_injury_volume"] for r in rows]),
    }
    return out
