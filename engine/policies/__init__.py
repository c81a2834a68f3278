"""Coaching policies: the interface, the loader, and the baseline policy of RULES.md."""
