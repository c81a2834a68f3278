"""The replay report: verdict, forest plot of paired differences, key metrics with deltas, charts,
and one page per athlete (phase timeline and recommendations under each policy)."""

from __future__ import annotations

import html
from pathlib import Path

from engine.replay.athlete_pages import write_athlete_pages
from engine.replay.compare import REPLAY_MEASURES, verdict_html
from engine.replay.report import (
    METRIC_NOTES, forest_plot, html_table, metric_bars, phase_timelines, time_to_phase, write_report,
)
from engine.replay.report import _fmt as fmt

CAVEAT = ("<p class='caveat'><b>Open-loop replay: outcomes are counterfactual.</b> The log was produced "
          "by athletes following <i>other</i> advice (whatever was live when they logged). Each policy here "
          "decides on that same history; nobody reacted to its advice. Phases, recommendations and flags "
          "are what the policy <i>would have</i> said; pain, runs and re-injuries are what actually "
          "happened under the live advice. To see how athletes respond to a policy, use the closed loop "
          "(<code>strideline simulate</code>).</p>")

KEY_METRICS = [
    ("athletes", "athletes"), ("recommendations_per_athlete", "recommendations per athlete"),
    ("reached_strength", "share reaching strength"), ("reached_return_to_run", "share reaching return to run"),
    ("reached_integration", "share reaching integration"),
    ("median_days_to_return_to_run", "median days to return to run"),
    ("mean_days_to_strength", "days to strength phase (those who got there)"),
    ("regressions_per_athlete", "phase regressions per athlete"),
    ("flare_ups_per_athlete", "flare-ups per athlete"), ("spikes_allowed_per_100_runs", "spikes allowed per 100 runs"),
    ("adherence", "strength adherence (share of weeks)"), ("dropoff_flags_per_athlete", "drop-off flags per athlete"),
    ("dropped_off_at_end", "share still dropping off at the end"),
]


def delta_table(summaries: list[dict], comparison: list[dict], reference: str, metrics: list[tuple[str, str]],
                share_keys: set[str]) -> str:
    """Rows = metrics; the reference's value, then per other policy its value and its difference
    (with the 95% interval where the metric is compared), cells shaded by the finding."""
    by_label = {s["policy"]: s for s in summaries}
    others = [label for label in by_label if label != reference]
    found = {(r["policy"], r["metric"]): r for r in comparison}
    head = f"<th>metric</th><th>{html.escape(reference)} (reference)</th>" + "".join(
        f"<th>{html.escape(o)}</th><th>&Delta; {html.escape(o)} [95%]</th>" for o in others)
    body = []
    for key, title in metrics:
        ref = by_label[reference].get(key)
        cells = [f"<th>{html.escape(title)}</th><td>{fmt(ref)}</td>"]
        for other in others:
            value = by_label[other].get(key)
            row = found.get((other, key))
            if row is not None and row["difference"] is not None:
                scale = 100 if key in share_keys else 1
                unit = " pts" if key in share_keys else ""
                delta = (f"{row['difference'] * scale:+.3g}{unit} [{fmt(_times(row['low'], scale))}, "
                         f"{fmt(_times(row['high'], scale))}]")
                klass = {"better": "better", "worse": "worse"}.get(row["finding"], "")
                cells.append(f"<td>{fmt(value)}</td><td class='delta {klass}'>{html.escape(delta)}</td>")
            else:
                delta = "&ndash;" if value is None or ref is None else f"{value - ref:+.3g}"
                cells.append(f"<td>{fmt(value)}</td><td class='delta'>{delta}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='deltas'><tr>{head}</tr>{''.join(body)}</table>"


def _times(value, scale):
    return None if value is None else value * scale


def replay_report(result, source: str) -> dict[str, Path]:
    rows = result.athlete_metrics.to_pylist()
    labels = result.labels
    reference = result.comparison[0]["reference"] if result.comparison else labels[0]
    by_policy: dict[str, list[dict]] = {label: [] for label in labels}
    for row in rows:
        by_policy[row["policy"]].append(row)
    summaries = result.metrics.to_pylist()
    intro = (f"<p>Source <code>{html.escape(source)}</code>, as of <b>{result.horizon.isoformat()}</b>: "
             f"{result.athletes:,} athletes, {result.events:,} events, replayed in {result.seconds:,.1f} s "
             f"({html.escape(result.engine)} engine). Reference policy: <b>{html.escape(reference)}</b>.</p>"
             + CAVEAT)
    policies = [{"label": p["label"], "spec": p["spec"], "config": p["config"] or "",
                 "overrides": ", ".join(f"{k}={v}" for k, v in p["overrides"].items()),
                 "name": p["name"], "version": p["version"]} for p in result.policies]
    charts = [("phase_timelines", "Phase occupancy by day since the first event", phase_timelines(by_policy)),
              ("time_to_phase", "Share of athletes that reached each phase, by day (one line style per policy)",
               time_to_phase(by_policy)),
              ("metrics", "Outcome metrics by policy", metric_bars(summaries))]
    sections = [("Verdict", verdict_html(result.comparison, REPLAY_MEASURES))]
    if result.comparison:
        charts.insert(0, ("forest", f"Paired differences to {reference} with 95% bootstrap intervals over athletes",
                          forest_plot(result.comparison, REPLAY_MEASURES)))
        sections.append(("Differences to the reference", "<!--chart:forest-->"))
    shares = {m.key for m in REPLAY_MEASURES if m.share} | {"reached_strength", "dropped_off_at_end"}
    sections += [
        ("Key metrics", delta_table(summaries, result.comparison, reference, KEY_METRICS, shares)
         + "<p>Every metric, per policy: <code>metrics.csv</code>; per athlete: "
           "<code>athlete_metrics.csv</code>.</p>"),
        ("Athletes", write_athlete_pages(result, by_policy)),
        ("Policies", html_table(policies)),
        ("Definitions", METRIC_NOTES + "<p>Differences: the other policy minus the reference, on the same "
         "athletes; 95% percentile-bootstrap intervals from 2,000 resamples of athletes. Shares are in "
         "percentage points.</p>"),
    ]
    return write_report(result.out_dir, "Strideline replay", intro, sections, charts)
