"""The baseline progression policy: every rule of RULES.md, each number a named config field.

``engine.policies.baseline:BaselinePolicy`` is the spec analysts and the runtime load. Rule ids name
the rule that fired (docs/policy.md lists them with their defaults and sources). The policy is pure:
it reads the projection state and the decision time, nothing else.
"""

from engine.policies.baseline.config import (
    BaselineConfig,
    DropOffConfig,
    ModifierConfig,
    RunConfig,
    StrengthConfig,
)
from engine.policies.baseline.policy import BaselinePolicy

__all__ = ["BaselineConfig", "BaselinePolicy", "DropOffConfig", "ModifierConfig", "RunConfig", "StrengthConfig"]
