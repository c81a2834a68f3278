"""What a closed-loop evaluator tells a simulated athlete (None in open loop).

The evaluator folds the engine's recommendations for an athlete into one :class:`Advice` and
passes it to ``SimulatedAthlete.day``. The athlete follows it on a day with its own
``follows_advice`` probability; otherwise it keeps its habits. Recognised fields:

* ``phase``: the engine's phase; a following athlete trains in that phase from today.
* ``kinds``: recommendation kinds in force. ``hold``: no self-progression today; ``deload``:
  cut running volume and walk-run level; ``progress``: take the targets below.
* ``targets``: ``walk_run_level`` (1-12), ``weekly_km``, ``long_run_km``.
* ``flags``: drop-off flags the athlete was shown (``drop_off_1`` ... ``drop_off_4``); a
  following athlete gives up that habit for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Advice:
    kinds: frozenset[str] = frozenset()
    phase: str | None = None
    targets: Mapping[str, float | int | str | bool] = field(default_factory=dict)
    flags: frozenset[str] = frozenset()
