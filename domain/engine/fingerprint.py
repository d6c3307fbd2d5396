"""The statement fingerprint (SPEC §7 step 11): a hash of everything the statement depends on."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import orjson

from domain.money import decimal_text
from domain.targets import EffectiveTarget


def fingerprint(rep_id: str, period: str, plan_sha256: str,
                targets: dict[str, EffectiveTarget], sources: Sequence[tuple[str, str]]) -> str:
    """sha256 of the canonical JSON of the plan hash, the effective targets with the decisions
    behind them, and the keys and content hashes of every source event used (`sources`: sorted,
    each once, as the statement lists them)."""
    canonical = {
        "rep_id": rep_id,
        "period": period,
        "plan": plan_sha256,
        "targets": {metric: {"value": decimal_text(target.value),
                             "decisions": sorted(set(target.decision_ids))}
                    for metric, target in sorted(targets.items())},
        "events": sources,
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()
