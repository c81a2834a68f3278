"""The policy interface: a pure object that turns projection state into advice.

``decide(state, decision_time) -> list[Advice]`` must do no I/O, read no clock and use no
randomness: live processing and an analyst's replay then agree exactly. A policy returns the advice
that holds *now*; the decision runner (engine/decisions.py) emits a recommendation only when a
topic's advice changes.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import tomllib
from pathlib import Path
from typing import Any, Protocol

import msgspec

from projections.athlete import AthleteState

KINDS = ("progress", "hold", "deload", "advance_phase", "regress_phase", "flag")
PHASE_TOPIC = "phase"
"""A phase change stays in force until the next one (it is never withdrawn for being absent)."""
Scalar = float | int | str | bool | None


class Advice(msgspec.Struct, frozen=True, kw_only=True):
    topic: str
    """What the advice is about (``strength:squat``, ``run:volume``, ``dropoff:1``, ``phase``)."""
    kind: str
    rule_id: str
    explanation: str
    target: dict[str, float | int | str | bool] = {}
    rationale: dict[str, Scalar] = {}
    new_phase: str | None = None
    """Set on advance_phase / regress_phase: the decision runner records the change."""
    covers: tuple[str, ...] = ()
    """Topic prefixes this advice speaks for: advice on them that disappears at the same decision
    point is withdrawn as ``superseded`` by this one (a phase change covers everything; the bundled
    pain deload covers strength and running targets)."""


class Policy(Protocol):
    name: str
    version: str
    config: msgspec.Struct

    def decide(self, state: AthleteState, decision_time: dt.datetime) -> list[Advice]: ...


class PolicyLoadError(Exception):
    """A policy spec or its config could not be loaded; the message names which and why."""


def load_policy(spec: str, config_path: str | Path | None = None) -> Policy:
    """Load ``module:attr`` (a Policy class or factory taking ``config=``) with an optional config
    file (.toml or .json) decoded strictly into the policy's config type."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise PolicyLoadError(f"policy {spec!r}: expected 'module:attr'")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PolicyLoadError(f"policy {spec!r}: cannot import ({exc})") from exc
    config: Any = None
    if config_path is not None:
        path = Path(config_path)
        try:
            raw = path.read_bytes()
            data = tomllib.loads(raw.decode()) if path.suffix == ".toml" else json.loads(raw)
            config_type = getattr(factory, "config_type", None)
            config = msgspec.convert(data, config_type) if config_type else data
        except (OSError, ValueError, msgspec.ValidationError) as exc:
            raise PolicyLoadError(f"policy {spec!r}: config {path}: {exc}") from exc
    try:
        policy = factory(config=config) if config is not None else factory()
    except Exception as exc:  # a factory's own refusal, reported with the spec
        raise PolicyLoadError(f"policy {spec!r}: {exc}") from exc
    for field in ("name", "version", "decide"):
        if not hasattr(policy, field):
            raise PolicyLoadError(f"policy {spec!r}: object has no {field!r}")
    return policy
