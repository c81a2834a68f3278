"""Reports that answer "which policy is better?": verdict, forest plot, deltas, caveats, athlete pages."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
from typer.testing import CliRunner

from engine.cli import _register, app
from engine.replay import PolicySpec, replay, simulate, sweep
from engine.replay.report import line_style

BASELINE = "engine.policies.baseline:BaselinePolicy"
BOLD = PolicySpec(BASELINE, overrides=(("run.weekly_step", 0.3), ("phases.settle_days", 3)), label="bold")


def test_a_replay_report_compares_every_policy_with_the_reference(live_cohort, tmp_path):
    """Given three policies (one a twin of the reference), the report has the counterfactual
    caveat, a verdict per other policy, the forest plot, and delta columns for each other policy."""
    path, _ = live_cohort
    result = replay(path, [BASELINE, BOLD, PolicySpec(BASELINE, label="twin")], tmp_path / "out", workers=2)
    html = (tmp_path / "out" / "report.html").read_text()
    assert "outcomes are counterfactual" in html
    verdict = html[html.index("id='verdict'"):html.index("</div>", html.index("id='verdict'"))]
    assert "bold" in verdict and "twin gave the same outcomes as baseline" in verdict
    assert "Paired differences to baseline with 95% bootstrap intervals" in html
    assert "&Delta; bold [95%]" in html and "&Delta; twin [95%]" in html
    assert (tmp_path / "out" / "charts" / "forest.png").stat().st_size > 5000
    assert {r["policy"] for r in result.comparison} == {"bold", "twin"}


def test_the_reference_can_be_any_policy(live_cohort, tmp_path):
    """Given reference='bold', the differences are to bold, and an unknown label is refused."""
    path, _ = live_cohort
    result = replay(path, [BASELINE, BOLD], tmp_path / "out", reference="bold", report=False)
    assert {(r["policy"], r["reference"]) for r in result.comparison} == {("baseline", "bold")}
    try:
        replay(path, [BASELINE, BOLD], tmp_path / "other", reference="nobody", report=False)
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        assert type(exc).__name__ == "ReplayError" and "'nobody'" in str(exc)
    else:
        raise AssertionError("an unknown reference was accepted")


def test_every_athlete_has_a_page_with_timelines_and_recommendations_per_policy(live_cohort, tmp_path):
    """Given a replay of 8 athletes, the report links athletes/index.html, which links one page per
    athlete showing each policy's phase timeline and its recommendations."""
    path, _ = live_cohort
    result = replay(path, [BASELINE, BOLD], tmp_path / "out")
    out = tmp_path / "out"
    assert "href='athletes/index.html'" in (out / "report.html").read_text()
    index = (out / "athletes" / "index.html").read_text()
    pages = re.findall(r"href='([^']+\.html)'", index)
    assert len([p for p in pages if p.startswith("ath-")]) == result.athletes
    athlete = "ath-0001"
    page = (out / "athletes" / f"{athlete}.html").read_text()
    assert page.count("class='bar'") == 2
    for label in ("baseline", "bold"):
        recs = pq.read_table(out / f"recommendations_{label}.parquet").to_pylist()
        mine = [r for r in recs if r["athlete_id"] == athlete]
        assert f"Recommendations under {label} ({len(mine)})" in page


def test_policies_get_distinct_line_styles():
    """Each of the first six policies gets its own dash pattern and marker, so a twin stays visible."""
    styles = [line_style(i) for i in range(6)]
    assert len({str(s["linestyle"]) for s in styles}) == 6 and len({s["marker"] for s in styles}) == 6
    assert styles[0]["linewidth"] > styles[1]["linewidth"]


def test_closed_loop_report_has_verdict_forest_and_rates_within_0_and_1(tmp_path):
    """Given a small closed loop of two policies, rate intervals lie within [0, 1], no bound is
    negative, and the report has the verdict, the forest plot and the deltas."""
    result = simulate([BASELINE, BOLD], athletes=4, seeds=2, weeks=4, out_dir=tmp_path / "loop")
    for row in result.intervals:
        for bound in (row["low"], row["high"]):
            if bound is not None and not row["comparison"]:
                assert bound >= 0
                if row["metric"] in ("reinjury_rate", "adherence", "dropoff_athletes", "reached_integration"):
                    assert bound <= 1
    html = (tmp_path / "loop" / "report.html").read_text()
    assert "id='verdict'" in html and "&Delta; bold [95%]" in html
    assert "Paired differences to baseline: 95% bootstrap intervals" in html
    assert (tmp_path / "loop" / "comparison.parquet").is_file()


def test_closed_loop_athletes_of_the_first_seed_have_pages(tmp_path):
    """Given a closed loop of 3 athletes x 2 seeds, the first seed's athletes get a page each, linked
    from the report, with each policy's timeline and its recommendations (as many as it issued)."""
    result = simulate([BASELINE, BOLD], athletes=3, seeds=2, weeks=3, out_dir=tmp_path / "loop")
    folder = tmp_path / "loop" / "athletes"
    assert "href='athletes/index.html'" in (tmp_path / "loop" / "report.html").read_text()
    pages = sorted(p.name for p in folder.glob("seed1-*.html"))
    assert len(pages) == 3 and not list(folder.glob("seed2-*.html"))
    first = next(r for r in result.athlete_rows if r["policy"] == "bold" and r["seed"] == 1 and r["index"] == 0)
    page = (folder / f"seed1-{first['athlete_id']}.html").read_text()
    assert page.count("class='bar'") == 2
    assert f"Recommendations under bold ({first['recommendations']})" in page
    assert "recommendation_log" not in first


def test_a_sweep_report_has_a_heatmap_per_outcome_and_the_ranking(live_cohort, tmp_path):
    """Given a 2 x 2 x 2 grid, the sweep writes report.html with a heatmap per outcome (small
    multiples over the third field) and ranks configs on the objective, best first."""
    path, _ = live_cohort
    result = sweep(BASELINE, ["run.weekly_step=0.1,0.2", "phases.settle_days=3,7", "strength.load_step=0.05,0.1"],
                   tmp_path / "sw", source=path, objective="mean_days_to_strength")
    html = (tmp_path / "sw" / "report.html").read_text()
    charts = sorted(p.name for p in (tmp_path / "sw" / "charts").iterdir())
    assert charts == sorted(f"heatmap_{m.key}.png" for m in result.measures)
    assert "Ranking" in html and "days to strength phase (those who got there)" in html
    ranked = [r["mean_days_to_strength"] for r in result.ranked()]
    assert ranked == sorted(ranked) and [r["rank"] for r in result.ranked()] == list(range(1, 9))


def test_the_sweep_summary_fits_100_columns(live_cohort, tmp_path):
    """Given a wide terminal, the command's summary still fits 100 columns and names the objective."""
    path, _ = live_cohort
    if not any(getattr(c, "name", None) == "replay" for c in app.registered_commands):
        _register()
    result = CliRunner().invoke(app, ["sweep", "--store", str(path), "--grid", "run.weekly_step=0.05,0.1,0.15,0.2",
                                      "--grid", "phases.settle_days=3,7", "--out", str(tmp_path / "sw")],
                                env={"COLUMNS": "240"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = result.output[result.output.index("Sweep: 8 configs"):]
    assert max(len(line) for line in summary.splitlines()) <= 100
    assert "best 8 on reached_return_to_run (higher is better)" in summary
