"""Which policies a replay runs: ``label=module:attr@config`` specs, config overrides and grids.

A :class:`PolicySpec` is a plain, picklable description; every worker process loads its own policy
objects from it (policies are pure, so each copy decides the same). Overrides set fields of the
policy's typed config by dotted path (``run.weekly_step=0.2``); a grid is the cartesian product of
such overrides, one policy per combination.
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from engine.policies.base import Policy, PolicyLoadError, load_policy

_SPEC = re.compile(r"^(?:(?P<label>[^=@]+)=)?(?P<spec>[A-Za-z_][\w.]*:[A-Za-z_]\w*)(?:@(?P<config>.+))?$")


@dataclass(frozen=True)
class PolicySpec:
    """One policy to replay: ``module:attr``, an optional config file and config overrides."""

    spec: str
    config: str | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    label: str | None = None

    def load(self) -> Policy:
        """Load the policy (PolicyLoadError names the spec, the config file or the bad field)."""
        policy = load_policy(self.spec, self.config)
        if not self.overrides:
            return policy
        module_name, _, attr = self.spec.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
        config_type = getattr(factory, "config_type", None) or type(getattr(policy, "config", None))
        if not isinstance(getattr(policy, "config", None), msgspec.Struct):
            raise PolicyLoadError(f"policy {self.describe()!r}: overrides need a msgspec Struct config")
        data = msgspec.to_builtins(policy.config)
        for path, value in self.overrides:
            _set_path(data, path, value, self)
        try:
            config = msgspec.convert(data, config_type)
        except msgspec.ValidationError as exc:
            raise PolicyLoadError(f"policy {self.describe()!r}: override gives an invalid config: {exc}") from exc
        try:
            return factory(config=config)
        except Exception as exc:
            raise PolicyLoadError(f"policy {self.describe()!r}: {exc}") from exc

    def describe(self) -> str:
        text = self.spec + (f"@{self.config}" if self.config else "")
        if self.overrides:
            text += "[" + ",".join(f"{k}={v}" for k, v in self.overrides) + "]"
        return text


def _set_path(data: dict, path: str, value: Any, spec: PolicySpec) -> None:
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise PolicyLoadError(f"policy {spec.describe()!r}: config has no field {path!r}")
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node:
        raise PolicyLoadError(f"policy {spec.describe()!r}: config has no field {path!r}")
    node[parts[-1]] = value


def parse_value(text: str) -> Any:
    """A grid or override value: JSON when it parses (numbers, booleans, lists), else the string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_policy(text: str, config: str | None = None) -> PolicySpec:
    """``[label=]module:attr[@config-file]`` -> PolicySpec."""
    match = _SPEC.match(text.strip())
    if match is None:
        raise PolicyLoadError(f"policy {text!r}: expected '[label=]module:attr[@config.toml]'")
    return PolicySpec(spec=match["spec"], config=match["config"] or config, label=match["label"])


def parse_override(text: str) -> tuple[str, Any]:
    path, sep, value = text.partition("=")
    if not sep or not path.strip():
        raise ValueError(f"override {text!r}: expected field.path=value")
    return path.strip(), parse_value(value.strip())


def parse_grid(items: Iterable[str]) -> list[tuple[str, list[Any]]]:
    """``["run.weekly_step=0.05,0.1", ...]`` -> [(path, [values])] (values split on commas)."""
    grid = []
    for text in items:
        path, sep, values = text.partition("=")
        if not sep or not path.strip() or not values.strip():
            raise ValueError(f"grid {text!r}: expected field.path=v1,v2,...")
        grid.append((path.strip(), [parse_value(v.strip()) for v in values.split(",")]))
    return grid


def expand_grid(base: PolicySpec, grid: Sequence[tuple[str, list[Any]]]) -> list[PolicySpec]:
    """One spec per combination of grid values, in order (the last field varies fastest)."""
    if not grid:
        return [base]
    paths = [p for p, _ in grid]
    out = []
    for values in itertools.product(*(v for _, v in grid)):
        overrides = base.overrides + tuple(zip(paths, values))
        out.append(PolicySpec(base.spec, base.config, overrides, None))
    return out


@dataclass(frozen=True)
class LoadedPolicy:
    label: str
    spec: PolicySpec
    policy: Policy = field(compare=False)


def load_all(specs: Sequence[PolicySpec]) -> list[LoadedPolicy]:
    """Load every spec and give each a unique, readable label."""
    if not specs:
        raise PolicyLoadError("no policy given")
    loaded = [(s, s.load()) for s in specs]
    labels = [s.label or _default_label(s, p) for s, p in loaded]
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        unique.append(label if labels.count(label) == 1 else f"{label}#{seen[label]}")
    return [LoadedPolicy(label, s, p) for label, (s, p) in zip(unique, loaded)]


def _default_label(spec: PolicySpec, policy: Policy) -> str:
    label = str(getattr(policy, "name", spec.spec))
    extras = []
    if spec.config:
        extras.append(spec.config.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    extras += [f"{k}={v}" for k, v in spec.overrides]
    return f"{label}[{','.join(extras)}]" if extras else label


def slug(label: str) -> str:
    """A file-name-safe form of a label."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "_", label).strip("_") or "policy"
