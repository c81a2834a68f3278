"""The reports render in a real browser (Debian's headless chromium) with their answer on the page."""

from __future__ import annotations

import struct
import subprocess

from engine.replay import PolicySpec, replay

BASELINE = "engine.policies.baseline:BaselinePolicy"
BOLD = PolicySpec(BASELINE, overrides=(("run.weekly_step", 0.3), ("phases.settle_days", 3)), label="bold")


def chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


def png_size(path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_the_replay_report_renders_with_forest_plot_deltas_and_verdict(chromium_path, live_cohort, tmp_path):
    """Given a replay of two policies, chromium loads report.html: its DOM holds the verdict, the
    forest plot image (decoded inline PNG) and the delta cells, and a screenshot is drawn."""
    path, _ = live_cohort
    replay(path, [BASELINE, BOLD], tmp_path / "out")
    url = (tmp_path / "out" / "report.html").as_uri()
    dom = chromium(chromium_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = dom.stdout
    assert "<div id=\"verdict\">" in page and "bold" in page[page.index("id=\"verdict\""):][:2000]
    assert "alt=\"Paired differences to baseline with 95% bootstrap intervals over athletes\"" in page
    assert page.count("class=\"delta") >= 10 and "Δ bold [95%]" in page
    assert "outcomes are counterfactual" in page
    shot = tmp_path / "report.png"
    drawn = chromium(chromium_path, "--window-size=1280,1600", f"--screenshot={shot}", url)
    assert drawn.returncode == 0 and png_size(shot) == (1280, 1600) and shot.stat().st_size > 50_000
