"""The notebook-facing API: real signatures, progress on request, DataFrames in one call, and a
missing optional dependency named in one line."""

from __future__ import annotations

import inspect
import subprocess
import sys

import polars as pl
import pytest

from engine.replay import PolicySpec, export, replay, simulate, sweep
from engine.replay.errors import ReplayError

BASELINE = "engine.policies.baseline:BaselinePolicy"


@pytest.mark.parametrize("function, parameters", [
    (replay, {"source", "policies", "out_dir", "horizon", "workers", "reference", "engine", "ray_address", "progress"}),
    (simulate, {"policies", "athletes", "seeds", "weeks", "first_seed", "out_dir", "engine", "progress"}),
    (sweep, {"base", "grid", "out_dir", "source", "closed_loop", "objective", "engine", "progress"}),
    (export, {"store", "out", "fmt", "progress"}),
])
def test_the_api_functions_show_their_parameters_and_say_what_they_do(function, parameters):
    """No (*args, **kwargs): every parameter is in the signature, and the docstring explains it."""
    signature = inspect.signature(function)
    assert parameters <= set(signature.parameters)
    assert not any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values())
    assert len(inspect.getdoc(function)) > 200


def test_progress_true_draws_bars_and_results_convert_to_polars(live_cohort, tmp_path, capfd):
    """Given progress=True, bars go to stderr; each result converts to a polars DataFrame in one call."""
    path, _ = live_cohort
    bold = PolicySpec(BASELINE, overrides=(("run.weekly_step", 0.3),), label="bold")
    result = replay(path, [BASELINE, bold], tmp_path / "out", report=False, progress=True)
    assert "replaying" in capfd.readouterr().err
    metrics = result.to_polars()
    assert isinstance(metrics, pl.DataFrame) and metrics["policy"].to_list() == ["baseline", "bold"]
    assert result.to_polars("comparison")["reference"].unique().to_list() == ["baseline"]
    assert result.to_polars("recommendations:bold").height == result.recommendations("bold").num_rows
    loop = simulate([BASELINE], athletes=2, seeds=2, weeks=2)
    assert loop.to_polars().height == len(loop.intervals)
    assert export(str(path), str(tmp_path / "log.jsonl")) >= result.events
    assert (tmp_path / "log.jsonl").stat().st_size > 0


def test_ray_missing_is_one_sentence_naming_the_extra(live_cohort, tmp_path, monkeypatch):
    """Given no ray module, engine='ray' raises ReplayError naming pip install -e ".[ray]"."""
    monkeypatch.setitem(sys.modules, "ray", None)
    path, _ = live_cohort
    with pytest.raises(ReplayError, match=r'Ray is not installed: pip install -e "\.\[ray\]"'):
        replay(path, [BASELINE], tmp_path / "out", engine="ray", report=False)


def test_a_missing_default_dependency_is_a_one_line_error_not_a_traceback(live_cohort, tmp_path):
    """Given pyarrow unimportable, `strideline export` exits 1 with one line naming the install command."""
    path, _ = live_cohort
    code = ("import sys; sys.modules['pyarrow'] = None; sys.argv = ['strideline', 'export', '--store', sys.argv[1],"
            " '--out', sys.argv[2]]; from engine.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "log.parquet")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert lines == ["error: pyarrow is not installed: run pip install -e . (or bash scripts/demo.sh) to install "
                     "Strideline with its default dependencies"]
