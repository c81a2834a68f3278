"""One HTML page per athlete: the phase timeline and the recommendations under each policy.

Pages are plain HTML (no chart images: a page per athlete must stay cheap), written under
``athletes/`` beside report.html with an index; athletes where the policies disagreed most come
first in the report's list. Only the first ``MAX_PAGES`` athletes (in that order) get a page, so a
report of a huge log stays a report; every athlete's rows remain in the tables.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from engine.replay.policies import slug
from engine.replay.report import PHASE_COLOURS
from engine.replay.report import _fmt as fmt

MAX_PAGES = 500
LISTED = 20
STYLE = ("<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}"
         "table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;"
         "padding:2px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
         ".bar{display:flex;height:22px;margin:4px 0 2px;border:1px solid #999}.bar div{font-size:10px;"
         "overflow:hidden;white-space:nowrap;padding-left:2px;color:#111}</style>")


def _disagreements(result) -> Counter:
    counts: Counter = Counter()
    table = result.diff()
    if table is not None:
        counts.update(table.column("athlete_id").to_pylist())
    return counts


def _timeline(row: dict) -> str:
    days = max(1, row["observed_days"])
    changes = json.loads(row["phase_changes"])
    cells = []
    for (start, phase), nxt in zip(changes, changes[1:] + [[days, None]]):
        width = max(0.0, (min(nxt[0], days) - max(0, start)) / days * 100)
        if width:
            cells.append(f"<div title='{phase} from day {start}' style='width:{width:.2f}%;"
                         f"background:{PHASE_COLOURS.get(phase, '#ccc')}'>{html.escape(phase)}</div>")
    return f"<div class='bar'>{''.join(cells)}</div>"


def _recommendations(result, athletes: list[str]) -> dict[tuple[str, str], list[dict]]:
    import pyarrow.parquet as pq

    out: dict[tuple[str, str], list[dict]] = {}
    columns = ["athlete_id", "decision_time", "kind", "topic", "rule_id", "target", "explanation"]
    for label in result.labels:
        table = pq.read_table(result.files[f"recommendations:{label}"], columns=columns,
                              filters=[("athlete_id", "in", athletes)])
        for rec in table.to_pylist():
            out.setdefault((label, rec["athlete_id"]), []).append(rec)
    return out


def _page(athlete: str, labels: list[str], rows: dict[str, dict], recs: dict, disagreements: int | None,
          day_zero: str) -> str:
    said = "" if disagreements is None else f"{disagreements} disagreement(s) between the policies. "
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(athlete)}</title>{STYLE}"
             f"</head><body><p><a href='../report.html'>&larr; report</a> &middot; <a href='index.html'>all "
             f"athletes</a></p><h1>{html.escape(athlete)}</h1><p>{said}Day 0 is {day_zero}.</p>"
             "<h2>Phase timeline</h2>"]
    for label in labels:
        row = rows.get(label)
        if row is None:
            continue
        parts.append(f"<p><b>{html.escape(label)}</b>: final phase {html.escape(row['final_phase'])}, "
                     f"{row['recommendations']} recommendation(s), {row['flare_ups']} flare-up(s), "
                     f"{row['dropoff_flags']} drop-off flag(s)</p>{_timeline(row)}")
    for label in labels:
        items = recs.get((label, athlete), [])
        parts.append(f"<h2>Recommendations under {html.escape(label)} ({len(items)})</h2>")
        body = "".join(
            f"<tr><td>{html.escape(r['decision_time'].isoformat())}</td><td>{html.escape(r['kind'])}</td>"
            f"<td>{html.escape(r['topic'])}</td><td>{html.escape(r['rule_id'])}</td>"
            f"<td>{html.escape(r['target'])}</td><td>{html.escape(r['explanation'])}</td></tr>" for r in items)
        parts.append("<table><tr><th>decision time</th><th>kind</th><th>topic</th><th>rule</th><th>target</th>"
                     f"<th>explanation</th></tr>{body}</table>")
    return "".join(parts) + "</body></html>"


def write_pages(out_dir: Path, labels: list[str], rows_of: dict[str, dict[str, dict]], recs: dict,
                counts: dict[str, int] | None, files: dict, day_zero: str = "the athlete's first event",
                total: int | None = None) -> str:
    """Write ``athletes/<athlete>.html`` (in ``rows_of`` order) and ``athletes/index.html``; return
    the report's section. ``counts``: disagreements per athlete (None: not counted)."""
    order = list(rows_of)
    folder = Path(out_dir) / "athletes"
    folder.mkdir(parents=True, exist_ok=True)
    links = {}
    for athlete in order:
        name = f"{slug(athlete)}.html"
        count = None if counts is None else counts.get(athlete, 0)
        (folder / name).write_text(_page(athlete, labels, rows_of[athlete], recs, count, day_zero))
        links[athlete] = f"athletes/{name}"
        files[f"athlete:{athlete}"] = folder / name
    count_head = "" if counts is None else "<th>disagreements</th>"
    index_rows = "".join(
        f"<tr><td><a href='{html.escape(Path(links[a]).name)}'>{html.escape(a)}</a></td>"
        + ("" if counts is None else f"<td>{counts.get(a, 0)}</td>")
        + "".join(f"<td>{html.escape(rows_of[a][label]['final_phase']) if label in rows_of[a] else ''}</td>"
                  for label in labels) + "</tr>" for a in order)
    head = "".join(f"<th>final phase: {html.escape(label)}</th>" for label in labels)
    (folder / "index.html").write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Athletes</title>{STYLE}</head><body>"
        f"<p><a href='../report.html'>&larr; report</a></p><h1>Athletes ({len(order)} pages)</h1><table><tr>"
        f"<th>athlete</th>{count_head}{head}</tr>{index_rows}</table></body></html>")
    files["athletes"] = folder / "index.html"
    listed = ", ".join(f"<a href='{html.escape(links[a])}'>{html.escape(a)}</a>"
                       + ("" if counts is None else f" ({counts.get(a, 0)})") for a in order[:LISTED])
    capped = (f" Pages were written for {len(order):,} of {total:,} athletes."
              if total is not None and total > len(order) else "")
    first = "Most disagreements first" if counts is not None else "First athletes"
    return (f"<p>One page per athlete: phase timeline and recommendations under each policy. "
            f"<a href='athletes/index.html'>All athletes</a>.{capped}</p>"
            f"<p>{first}: {listed or fmt(None)}</p>")


def write_athlete_pages(result, by_policy: dict[str, list[dict]]) -> str:
    """A replay's pages: the athletes where the policies disagreed most first (at most MAX_PAGES)."""
    rows_of: dict[str, dict[str, dict]] = {}
    for label, rows in by_policy.items():
        for row in rows:
            rows_of.setdefault(row["athlete_id"], {})[label] = row
    counts = _disagreements(result)
    order = sorted(rows_of, key=lambda a: (-counts.get(a, 0), a))[:MAX_PAGES]
    recs = _recommendations(result, order) if order else {}
    return write_pages(result.out_dir, result.labels, {a: rows_of[a] for a in order}, recs, counts, result.files,
                       total=len(rows_of))
