"""The sweep report: a heatmap per outcome over the grid (small multiples beyond two fields) and the
configs ranked on the objective."""

from __future__ import annotations

import html
import itertools
import json
import math
from pathlib import Path

from engine.replay.report import _png, html_table, plt, write_report


def _cell(value):
    return value if isinstance(value, (int, float, str, bool)) else json.dumps(value)


def _grid_value(rows_by_key: dict, key: tuple, metric: str, scale: float) -> float:
    row = rows_by_key.get(key)
    value = None if row is None else row.get(metric)
    return math.nan if value is None else value * scale


def _heatmap(ax, fig, values: list[list[float]], xs: list, ys: list, better: int, xlabel: str, ylabel: str,
             title: str, limits: tuple[float, float] | None) -> None:
    cmap = plt.get_cmap("RdYlGn" if better > 0 else "RdYlGn_r").with_extremes(bad="#dddddd")
    vmin, vmax = limits or (None, None)
    image = ax.imshow(values, cmap=cmap, aspect="auto", vmin=vmin, vmax=vmax)
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            ax.text(j, i, "n/a" if math.isnan(value) else f"{value:.3g}", ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(xs)), [str(x) for x in xs], fontsize=8)
    ax.set_yticks(range(len(ys)), [str(y) for y in ys], fontsize=8)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.8)


def heatmaps(result) -> list[tuple[str, str, bytes]]:
    """One chart per outcome: rows = the first grid field, columns = the second (if any); with more
    fields, one small heatmap per combination of the others."""
    paths = [p for p, _ in result.grid]
    axes_values = [[_cell(v) for v in values] for _, values in result.grid]
    rows_by_key = {tuple(r[f"config.{p}"] for p in paths): r for r in result.rows}
    ys = axes_values[0]
    xs = axes_values[1] if len(paths) > 1 else [""]
    facets = list(itertools.product(*axes_values[2:])) or [()]
    charts = []
    for measure in result.measures:
        scale = 100.0 if measure.share else 1.0
        cols = min(3, len(facets))
        n_rows = math.ceil(len(facets) / cols)
        fig, grid_axes = plt.subplots(n_rows, cols, figsize=(4.2 * cols + 1, 0.45 * len(ys) * n_rows + 1.6 * n_rows),
                                      squeeze=False)
        panels = [[[_grid_value(rows_by_key, (y,) + ((x,) if len(paths) > 1 else ()) + facet, measure.key, scale)
                    for x in xs] for y in ys] for facet in facets]
        known = [v for panel in panels for row in panel for v in row if not math.isnan(v)]
        limits = (min(known), max(known)) if known and min(known) < max(known) else None  # one scale for all
        for ax, facet, values in zip(grid_axes.flat, facets, panels):
            title = ", ".join(f"{p}={v}" for p, v in zip(paths[2:], facet))
            _heatmap(ax, fig, values, xs, ys, measure.better, paths[1] if len(paths) > 1 else "", paths[0], title,
                     limits)
        for ax in list(grid_axes.flat)[len(facets):]:
            ax.axis("off")
        unit = " (%)" if measure.share else ""
        direction = "higher is better" if measure.better > 0 else "lower is better"
        fig.suptitle(f"{measure.title}{unit}: {direction}", fontsize=10)
        fig.tight_layout()
        charts.append((f"heatmap_{measure.key}", f"{measure.title}{unit} over the grid ({direction}; green is better)",
                       _png(fig)))
    return charts


def sweep_report(result, out: Path) -> dict[str, Path]:
    paths = [p for p, _ in result.grid]
    keys = ["rank", "config"] + [f"config.{p}" for p in paths] + [m.key for m in result.measures]
    ranking = [{k: r.get(k) for k in keys} for r in result.ranked()]
    best = ranking[0] if ranking and ranking[0]["rank"] is not None else None
    objective = next(m for m in result.measures if m.key == result.objective)
    lead = "no config has a value for it" if best is None else (
        f"best: <b>{html.escape(best['config'])}</b> ("
        + ", ".join(f"{html.escape(p)} = {html.escape(str(best[f'config.{p}']))}" for p in paths)
        + f"), {html.escape(objective.title)} = {best[result.objective]:.3g}")
    intro = (f"<p>{len(result.rows)} configs over {html.escape(', '.join(paths))}. Objective: "
             f"<b>{html.escape(objective.title)}</b> ({'higher' if objective.better > 0 else 'lower'} is "
             f"better); {lead}.</p>")
    charts = heatmaps(result)
    sections = [("Ranking", html_table(ranking)),
                ("Heatmaps", "".join(f"<!--chart:{name}-->" for name, _, _ in charts))]
    return write_report(out, "Strideline sweep", intro, sections, charts)
