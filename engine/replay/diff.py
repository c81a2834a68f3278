"""Where policies disagree: recommendations aligned by (athlete, decision time, topic).

Decision points come from the log and the calendar, never from the policy, so every policy is asked
at the same instants and alignment is exact. Two policies agree at a key when they emitted the same
kind, rule and target there (explanations and rationale numbers are not compared); a key where one
emitted and another did not is a disagreement too (the other's advice did not change there).
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.clock import to_micros
from events.codec import encode_json
from events.vocabulary import RecommendationIssued


def _content(rec: RecommendationIssued) -> tuple[str, str, bytes]:
    return rec.kind, rec.rule_id, encode_json(dict(sorted(rec.target.items())))


def disagreements(athlete_id: str, labels: Sequence[str],
                  per_policy: Sequence[Sequence[RecommendationIssued]]) -> list[tuple]:
    """Diff-table rows for one athlete (see ``tables.diff_schema``), in (time, topic) order."""
    n = len(per_policy)
    keys: dict[tuple[int, str], list] = {}
    for i, recs in enumerate(per_policy):
        for rec in recs:
            slots = keys.setdefault((to_micros(rec.decision_time), rec.topic), [None] * n)
            slots[i] = (slots[i] or ()) + (rec,)
    rows = []
    for key in sorted(keys):
        slots = keys[key]
        contents = [None if s is None else tuple(_content(r) for r in s) for s in slots]
        if all(c == contents[0] for c in contents[1:]):
            continue
        row: list = [athlete_id, key[0], key[1], ",".join(l for l, s in zip(labels, slots) if s is not None)]
        for recs in slots:
            if recs is None:
                row += [None, None, None, None]
            else:
                row += [";".join(r.kind for r in recs), ";".join(r.rule_id for r in recs),
                        ";".join(encode_json(r.target).decode() for r in recs),
                        ";".join(str(r.recommendation_id) for r in recs)]
        rows.append(tuple(row))
    return rows
