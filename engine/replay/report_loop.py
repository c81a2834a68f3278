"""The closed-loop report: verdict, forest plot of paired bootstrap differences, outcomes per policy
with deltas to the reference, and each policy's mean across seeds with its 95% interval."""

from __future__ import annotations

import html
from pathlib import Path

from engine.replay.closedloop import CLOSED_LOOP_METRICS
from engine.replay.compare import CLOSED_LOOP_MEASURES, cohort_values, verdict_html
from engine.replay.report import forest_plot, html_table, metric_bars, write_report
from engine.replay.report_replay import delta_table

MODEL_NOTE = ("<p class='caveat'><b>Simulated athletes.</b> Outcomes come from the simulator's model of "
              "tissue capacity, pain and compliance (<code>engine/simulation/</code>), not from real "
              "people: they compare policies under that model. Each simulated athlete is the same person "
              "under every policy, so differences are paired.</p>")


def closed_loop_report(result) -> dict[str, Path]:
    labels = result.labels
    reference = result.comparison[0]["reference"] if result.comparison else labels[0]
    means, errors = [], {}
    for label in labels:
        rows = {r["metric"]: r for r in result.intervals if r["policy"] == label and not r["comparison"]}
        means.append({"policy": label} | {m: rows[m]["mean"] for m, _ in CLOSED_LOOP_METRICS})
        errors[label] = {m: (rows[m]["low"], rows[m]["high"]) for m, _ in CLOSED_LOOP_METRICS}
    per_policy = [{"policy": r["policy"], "metric": r["metric"], "mean": r["mean"], "95% low": r["low"],
                   "95% high": r["high"], "seeds": r["seeds"]} for r in result.intervals if not r["comparison"]]
    intro = (f"<p>{result.athletes} simulated athletes x {len(result.seeds)} seeds "
             f"({html.escape(', '.join(map(str, result.seeds)))}), {result.weeks} weeks, run in "
             f"{result.seconds:,.1f} s ({html.escape(result.engine)} engine). Reference policy: "
             f"<b>{html.escape(reference)}</b>.</p>" + MODEL_NOTE)
    summaries = [{"policy": m["policy"]} | {k: v for k, v in m.items() if k != "policy"} for m in means]
    for summary, measure_row in zip(summaries, _pooled(result)):
        summary |= measure_row
    charts = [("closed_loop", "Each policy's mean across seeds with its 95% t-interval (shares clipped to [0, 1])",
               metric_bars(means, CLOSED_LOOP_METRICS, errors))]
    sections = [("Verdict", verdict_html(result.comparison, CLOSED_LOOP_MEASURES))]
    if result.comparison:
        charts.insert(0, ("forest", f"Paired differences to {reference}: 95% bootstrap intervals over athletes "
                                    "resampled within each seed", forest_plot(result.comparison, CLOSED_LOOP_MEASURES)))
        sections.append(("Differences to the reference", "<!--chart:forest-->"))
    shares = {m.key for m in CLOSED_LOOP_MEASURES if m.share}
    metrics = [(m.key, m.title) for m in CLOSED_LOOP_MEASURES] + [("dropoff_flags_per_athlete",
                                                                   "drop-off flags per athlete")]
    sections += [
        ("Outcomes (all seeds pooled)", delta_table(summaries, result.comparison, reference, metrics, shares)),
        ("Each policy across seeds", "<!--chart:closed_loop-->" + html_table(per_policy)),
        ("Athletes", _pages(result)),
        ("Policies", html_table([dict(p) for p in result.policies])),
        ("Method", "<p>Per-policy intervals: mean &plusmn; t<sub>0.975, K-1</sub> &middot; sd / &radic;K over "
         "the K seeds' cohort metrics (rates clipped to [0, 1]). Differences: the other policy minus the "
         "reference on the same simulated athletes, 95% percentile-bootstrap intervals from 2,000 resamples "
         "of athletes within each seed; shares in percentage points. The per-seed paired t-intervals are in "
         "<code>closed_loop.csv</code> (rows with a <code>comparison</code>).</p>"),
    ]
    return write_report(result.out_dir, "Strideline closed-loop evaluation", intro, sections, charts)


def _pages(result) -> str:
    """One page per simulated athlete of the first seed (the first ``PAGES``): timeline and advice."""
    from engine.replay.athlete_pages import write_pages
    from engine.replay.loopresults import page_key

    keys = {key for _, key in result.logs}
    rows_of: dict[str, dict[str, dict]] = {}
    for row in result.athlete_rows:
        key = page_key(row)
        if key in keys:
            rows_of.setdefault(key, {})[row["policy"]] = row
    recs = {(label, key): items for (label, key), items in result.logs.items()}
    return write_pages(result.out_dir, result.labels, rows_of, recs, None, result.files,
                       day_zero="the simulated athlete's first event", total=result.athletes * len(result.seeds))


def _pooled(result) -> list[dict]:
    """Each policy's metrics over all seeds' athletes pooled (what the differences compare)."""
    return [cohort_values([r for r in result.athlete_rows if r["policy"] == label], CLOSED_LOOP_MEASURES)
            for label in result.labels]
