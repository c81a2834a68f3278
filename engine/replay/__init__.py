"""Analysts' replay and backtest: policies over a recorded log, in closed loop, and in sweeps.

    from engine.replay import replay, simulate, sweep, export_log, import_log, PolicySpec

    result = replay("var/strideline.sqlite3", ["engine.policies.baseline:BaselinePolicy",
                                              "bold=engine.policies.baseline:BaselinePolicy@bold.toml"],
                    "out/replay", workers=4)
    result.metrics.to_pandas()               # one row per policy
    result.recommendations("bold")           # a pyarrow Table

See docs/replay.md for the outputs, the metric definitions and the figures.
"""

from engine.replay.backtest import ReplayResult, replay
from engine.replay.errors import PolicyEvaluationError, ReplayError
from engine.replay.logio import export_log, import_log, read_log
from engine.replay.policies import PolicySpec, expand_grid, parse_grid, parse_policy

__all__ = ["PolicyEvaluationError", "PolicySpec", "ReplayError", "ReplayResult", "expand_grid",
           "export_log", "import_log", "parse_grid", "parse_policy", "read_log", "replay", "simulate",
           "sweep"]


def simulate(*args, **kwargs):
    """Closed-loop evaluation (see ``engine.replay.closedloop.simulate``)."""
    from engine.replay.closedloop import simulate as run

    return run(*args, **kwargs)


def sweep(*args, **kwargs):
    """A policy config grid, one row per config (see ``engine.replay.sweep.sweep``)."""
    from engine.replay.sweep import sweep as run

    return run(*args, **kwargs)
