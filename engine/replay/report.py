"""Self-contained HTML reports with charts (matplotlib, Agg), also saved as PNG files."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from engine.replay.outcomes import LATER_PHASES  # noqa: E402
from projections.phase import PHASES  # noqa: E402

PHASE_COLOURS = {"settle": "#9ecae1", "strength": "#3182bd", "plyometric": "#fdae6b",
                 "return_to_run": "#e6550d", "integration": "#31a354"}
COMPARED = [
    ("flare_ups_per_athlete", "flare-ups per athlete"),
    ("dropoff_flags_per_athlete", "drop-off flags per athlete"),
    ("adherence", "strength adherence (share of weeks)"),
    ("spikes_allowed_per_100_runs", "spikes allowed per 100 runs"),
    ("regressions_per_athlete", "phase regressions per athlete"),
    ("reached_integration", "share reaching integration"),
]
METRIC_NOTES = """
<ul>
<li><b>days to a phase</b>: local days from the athlete's first event to the first time the policy moved them
into that phase; <b>reached</b>: the share of athletes who got there by the horizon.</li>
<li><b>flare-ups</b>: distinct days with red pain (score &ge; 6) within 7 days after a progression (a
<code>progress</code> or <code>advance_phase</code> recommendation).</li>
<li><b>drop-off flags</b>: <code>flag</code> recommendations per drop-off point (1-4; "silent" = no logs for days).</li>
<li><b>adherence</b>: share of complete weeks after the athlete left <i>settle</i> (under that policy) with &ge; 2
strength sessions.</li>
<li><b>spikes allowed</b>: runs longer than the policy's long-run cap while that cap was in force;
<b>spike flags</b>: single-run spike flags issued.</li>
</ul>"""


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _occupancy(rows: list[dict], days: int) -> dict[str, list[float]]:
    """Share of the athletes observed on each day since their first event, by phase."""
    counts = {p: [0] * (days + 1) for p in PHASES}
    for row in rows:
        span = min(days, row["observed_days"])
        changes = json.loads(row["phase_changes"])
        for (start, phase), nxt in zip(changes, changes[1:] + [[span + 1, None]]):
            for d in range(max(0, start), min(span + 1, nxt[0])):
                counts[phase][d] += 1
    totals = [sum(counts[p][d] for p in PHASES) for d in range(days + 1)]
    shown = max((d for d, t in enumerate(totals) if t >= max(1, 0.1 * len(rows))), default=0) + 1
    return {p: [c / t if t else 0.0 for c, t in zip(counts[p][:shown], totals)] for p in PHASES}


def phase_timelines(by_policy: dict[str, list[dict]]) -> bytes:
    days = max((r["observed_days"] for rows in by_policy.values() for r in rows), default=0)
    n = len(by_policy)
    fig, axes = plt.subplots(n, 1, figsize=(9, 2.4 * n + 0.6), sharex=True, squeeze=False)
    for ax, (label, rows) in zip(axes[:, 0], by_policy.items()):
        shares = _occupancy(rows, days)  # up to the last day at least 10% of athletes reached
        ax.stackplot(range(len(shares["settle"])), *[shares[p] for p in PHASES], labels=PHASES,
                     colors=[PHASE_COLOURS[p] for p in PHASES])
        ax.set_ylim(0, 1)
        ax.set_ylabel("share")
        ax.set_title(f"{label}: phase by day since first event", fontsize=10, loc="left")
    axes[-1, 0].set_xlabel("days since the athlete's first event")
    axes[0, 0].legend(loc="upper center", bbox_to_anchor=(0.5, 1.45), ncol=5, fontsize=8, frameon=False)
    return _png(fig)


LINE_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def line_style(i: int) -> dict:
    """Policy ``i``'s line: its own dash pattern, marker and width (the first drawn widest), so a
    policy whose curve equals another's stays visible on top of it."""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {"color": colours[i % len(colours)], "linestyle": LINE_STYLES[i % len(LINE_STYLES)],
            "linewidth": max(1.0, 3.2 - 0.7 * i), "marker": MARKERS[i % len(MARKERS)], "markevery": 0.1,
            "markersize": 4}


def time_to_phase(by_policy: dict[str, list[dict]]) -> bytes:
    days = max((r["observed_days"] for rows in by_policy.values() for r in rows), default=0)
    fig, axes = plt.subplots(1, len(LATER_PHASES), figsize=(12, 3.2), sharey=True)
    for ax, phase in zip(axes, LATER_PHASES):
        for n, (label, rows) in enumerate(by_policy.items()):
            reached = sorted(r[f"days_to_{phase}"] for r in rows if r[f"days_to_{phase}"] is not None)
            xs = list(range(days + 1))
            ys, i = [], 0
            for x in xs:
                while i < len(reached) and reached[i] <= x:
                    i += 1
                ys.append(i / len(rows) if rows else 0.0)
            ax.step(xs, ys, where="post", label=label, **line_style(n))
        ax.set_title(f"reached {phase}", fontsize=10)
        ax.set_xlabel("days since first event")
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("share of athletes")
    axes[-1].legend(fontsize=8)
    return _png(fig)


def metric_bars(summaries: Sequence[dict], metrics=COMPARED, errors: dict | None = None) -> bytes:
    """One small bar chart per metric, a bar per policy, each with its own hatch. With error bars
    the values are left to the table (labels would collide with the bars); bounds come clipped."""
    labels = [s["policy"] for s in summaries]
    cols = 3
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(12, 3.1 * rows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (key, title) in zip(axes.flat, metrics):
        values = [s.get(key, math.nan) for s in summaries]
        values = [math.nan if v is None else v for v in values]
        yerr = None
        if errors:
            bounds = [tuple(math.nan if b is None else b for b in errors[lab][key]) for lab in labels]
            yerr = [[max(0.0, v - lo) for v, (lo, _) in zip(values, bounds)],
                    [max(0.0, hi - v) for v, (_, hi) in zip(values, bounds)]]
            yerr = [[0.0 if math.isnan(e) else e for e in side] for side in yerr]
        bars = ax.bar(range(len(labels)), values, color=[colours[i % len(colours)] for i in range(len(labels))],
                      yerr=yerr, capsize=4, edgecolor="#333")
        for i, bar in enumerate(bars):
            bar.set_hatch(HATCHES[i % len(HATCHES)])
        if yerr is None:
            ax.bar_label(bars, labels=["n/a" if math.isnan(v) else f"{v:.3g}" for v in values], fontsize=8)
        ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


HATCHES = ("", "//", "..", "xx", "\\\\", "oo")


def forest_plot(comparison: Sequence[dict], measures: Sequence) -> bytes:
    """Paired differences to the reference with 95% intervals: one panel per metric (each on its
    own scale), a marker per policy, a line at zero; green where better, red where worse."""
    titles = {m.key: m.title for m in measures}
    shares = {m.key for m in measures if m.share}
    metrics = [m.key for m in measures if any(r["metric"] == m.key for r in comparison)]
    labels = list(dict.fromkeys(r["policy"] for r in comparison))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(9, (0.28 * len(labels) + 0.75) * len(metrics) + 0.3),
                             squeeze=False)
    colour = {"better": "#1a9850", "worse": "#d73027", "no difference": "#555555"}
    for ax, key in zip(axes[:, 0], metrics):
        rows = {r["policy"]: r for r in comparison if r["metric"] == key}
        scale = 100.0 if key in shares else 1.0
        if all(r["difference"] is None for r in rows.values()):
            ax.text(0.5, 0.5, "not defined (no athlete got there)", transform=ax.transAxes, ha="center",
                    va="center", fontsize=8, color="#777")
            ax.set_xticks([])
        for y, label in enumerate(labels):
            r = rows.get(label)
            if r is None or r["difference"] is None:
                continue
            d = r["difference"] * scale
            lo = d if r["low"] is None else r["low"] * scale
            hi = d if r["high"] is None else r["high"] * scale
            ax.errorbar([d], [y], xerr=[[d - lo], [hi - d]], fmt=MARKERS[y % len(MARKERS)], capsize=4,
                        color=colour[r["finding"]], markersize=7)
        ax.axvline(0, color="#888", linewidth=1)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylim(-0.6, len(labels) - 0.4)
        ax.invert_yaxis()
        unit = " (percentage points)" if key in shares else ""
        ax.set_title(f"{titles[key]}{unit}: difference to the reference", fontsize=9, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    return _png(fig)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    return html.escape(f"{value:,}" if isinstance(value, int) else str(value))


def html_table(rows: Sequence[dict], transpose: bool = False) -> str:
    if not rows:
        return "<p>(none)</p>"
    keys = list(rows[0])
    if transpose:
        head = "".join(f"<th>{html.escape(str(r[keys[0]]))}</th>" for r in rows)
        body = "".join(f"<tr><th>{html.escape(k)}</th>" + "".join(f"<td>{_fmt(r.get(k))}</td>" for r in rows)
                       + "</tr>" for k in keys[1:])
        return f"<table><tr><th></th>{head}</tr>{body}</table>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(k))}</td>" for k in keys) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_report(out: Path, title: str, intro: str, sections: Sequence[tuple[str, str]],
                 charts: Sequence[tuple[str, str, bytes]]) -> dict[str, Path]:
    """report.html with every chart embedded (base64 PNG), and charts/<name>.png beside it."""
    chart_dir = out / "charts"
    chart_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    figures = []
    for name, caption, png in charts:
        path = chart_dir / f"{name}.png"
        path.write_bytes(png)
        files[f"chart:{name}"] = path
        data = base64.b64encode(png).decode()
        figures.append(f"<figure id='chart-{name}'><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                       f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    placed = {}
    for (name, _, _), figure in zip(charts, figures):
        placed[f"<!--chart:{name}-->"] = figure
    parts = []
    for heading, content in sections:
        for marker, figure in list(placed.items()):
            if marker in content:
                content = content.replace(marker, figure)
                del placed[marker]
        parts.append(f"<h2>{html.escape(heading)}</h2>{content}")
    body = "".join(parts)
    rest = "".join(placed.values())
    figures = [f"<h2>Charts</h2>{rest}"] if rest else []
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}}
table{{border-collapse:collapse;margin:1em 0;font-size:13px}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
th{{background:#f3f3f3}}figure{{margin:1.5em 0}}img{{max-width:100%}}figcaption{{color:#555;font-size:13px}}
.caveat{{background:#fff4e5;border-left:4px solid #f0a030;padding:.5em 1em}}
#verdict{{background:#eef6ee;border-left:4px solid #1a9850;padding:.3em 1em;font-size:15px}}
td.better{{background:#e3f4e3}}td.worse{{background:#fbe3e1}}</style>
</head><body><h1>{html.escape(title)}</h1>{intro}{body}{''.join(figures)}</body></html>"""
    path = out / "report.html"
    path.write_text(page)
    files["report"] = path
    return files
