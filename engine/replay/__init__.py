"""Analysts' replay and backtest: policies over a recorded log, in closed loop, and in sweeps.

    from engine.replay import replay, simulate, sweep, export

    result = replay("var/demo.sqlite3", ["engine.policies.baseline:BaselinePolicy",
                                         "step20=engine.policies.baseline:BaselinePolicy@docs/examples/step20.toml"],
                    "out/replay", workers=2, progress=True)
    result.to_polars()                       # one row of outcome metrics per policy (a polars DataFrame)
    result.to_polars("comparison")           # paired differences to the reference, 95% intervals
    result.recommendations("step20")         # a pyarrow Table

See docs/replay.md for the outputs, the metric definitions and the figures.
"""

from engine.replay.backtest import ReplayResult, replay
from engine.replay.engines import Engine
from engine.replay.errors import PolicyEvaluationError, ReplayError
from engine.replay.logio import export_log, import_log, read_log
from engine.replay.loopresults import ClosedLoopResult, simulate
from engine.replay.policies import PolicySpec, expand_grid, parse_grid, parse_policy
from engine.replay.sweep import SweepResult, sweep

__all__ = ["ClosedLoopResult", "Engine", "PolicyEvaluationError", "PolicySpec", "ReplayError", "ReplayResult",
           "SweepResult", "expand_grid", "export", "export_log", "import_log", "parse_grid", "parse_policy",
           "read_log", "replay", "simulate", "sweep"]


def export(store: str, out: str, fmt: str | None = None, *, progress: bool = False) -> int:
    """Export the whole log of ``store`` (a store URL or SQLite path) to ``out``.

    The format is ``fmt`` (``"jsonl"`` or ``"parquet"``) or the suffix of ``out``; events are
    written in position order with bounded memory. Returns the number of events.
    ``progress=True`` shows a progress bar on stderr."""
    from engine.replay.progress import progress_sink
    from engine.store.factory import open_store, resolve_url

    opened = open_store(resolve_url(store))
    try:
        with progress_sink(progress) as sink:
            sink.start("exporting", opened.last_position())
            return export_log(opened, out, fmt, progress=sink.advance)
    finally:
        opened.close()
