"""The README's analyst commands and docs/replay.md's notebook example run verbatim on a demo store.

The store is a small `strideline demo` run (8 athletes, 6 weeks) at the path the README uses,
var/demo.sqlite3, in a scratch directory holding the files the commands name (docs/examples)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def analyst_commands() -> list[str]:
    """The bash block of the README's "For analysts" section, one command per entry."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("## For analysts"):]
    section = section[:section.index("\n## ", 5)]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def notebook_example() -> str:
    """The python block after the notebook-example marker in docs/replay.md."""
    text = (REPO / "docs" / "replay.md").read_text()
    after = text[text.index("<!-- notebook example"):]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def run(command: str, cwd: Path, bin_dir: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, analyst_bin) -> Path:
    """A scratch directory with var/demo.sqlite3 (a small demo) and docs/examples."""
    root = tmp_path_factory.mktemp("analyst")
    shutil.copytree(REPO / "docs" / "examples", root / "docs" / "examples")
    done = run("strideline demo --athletes 8 --weeks 6 --timelines 0", root, analyst_bin)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (root / "var" / "demo.sqlite3").is_file()
    return root


def test_every_analyst_command_of_the_readme_runs_verbatim(workdir, analyst_bin):
    """Given the demo store, each command of the README's analyst block exits 0 without a
    traceback, and the replay, closed-loop and sweep reports carry their verdict and charts."""
    commands = analyst_commands()
    assert [c.split()[1] for c in commands] == ["export", "replay", "replay", "simulate", "sweep"]
    for command in commands:
        done = run(command, workdir, analyst_bin)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stdout[-2000:],
                                                                          done.stderr[-2000:])
    for report in ("var/replay/report.html", "var/closed-loop/report.html"):
        html = (workdir / report).read_text()
        assert "id='verdict'" in html and "id='chart-forest'" in html and "&Delta; step20 [95%]" in html, report
    assert "id='chart-heatmap_flare_ups_per_athlete'" in (workdir / "var/sweep/report.html").read_text()


def test_the_notebook_example_of_the_docs_runs(workdir, monkeypatch):
    """Given the demo store, docs/replay.md's notebook example runs as written (in this process)."""
    monkeypatch.chdir(workdir)
    namespace: dict = {}
    exec(compile(notebook_example(), "docs/replay.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert namespace["frame"].height >= 1
