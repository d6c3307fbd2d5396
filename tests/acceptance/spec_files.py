"""The SPEC §9 scenario as the files a user feeds the CLI: plans (YAML) and events (JSON Lines)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.builders import PLAN_YAML, deal, event, target
from tests.conftest import write_jsonl

ANNUAL_TARGET = target("rep:alice", "200000.00", "2026-07-01")
REVISION = target("rep:alice", "150000.00", "2026-08-16")
SPEC_DEALS = [deal("D1", "2026-07-10", "80000.00"), deal("D2", "2026-08-05", "60000.00"),
              deal("D3", "2026-09-20", "70000.00")]

# The same tiers at 5%, 10% and 15%: a second version to adopt or try as a what-if.
RICHER_PLAN_YAML = """\
id: enterprise-2026
version: 2
currency: USD
target_proration: time_weighted
commission:
  tiers:
    - {up_to: "0.5", rate: "0.05"}
    - {up_to: "1.0", rate: "0.10"}
    - {rate: "0.15"}
"""

MONEY = re.compile(r"^-?\d+\.\d{2}$")
RATIO = re.compile(r"^\d+\.\d{4}$")


def assigned(rep_id: str, team_id: str, effective_from: str = "2026-07-01") -> dict[str, Any]:
    """A roster.assigned decision: the rep belongs to the team from `effective_from`."""
    return event("roster.assigned", f"roster-{rep_id}-{effective_from}", f"{effective_from}T00:00:00Z",
                 {"rep_id": rep_id, "team_id": team_id, "effective_from": effective_from},
                 source="salesops")


def plan_file(directory: Path, proration: str = "time_weighted") -> Path:
    """The SPEC §9 plan (4% to 50%, 8% to 100%, 12% above) as a YAML file."""
    path = directory / f"plan-{proration}.yaml"
    path.write_text(PLAN_YAML.format(proration=proration), encoding="utf-8")
    return path


def richer_plan_file(directory: Path) -> Path:
    """Version 2 of the plan, tiers at 5%, 10% and 15%."""
    path = directory / "plan-v2.yaml"
    path.write_text(RICHER_PLAN_YAML, encoding="utf-8")
    return path


def events_file(directory: Path, name: str, events: list[dict[str, Any]]) -> Path:
    """Events as a JSON Lines file."""
    return write_jsonl(directory / name, events)


def commission_lines(statement: dict[str, Any]) -> list[tuple[str, str, int, Decimal, Decimal, str]]:
    """(deal, event id, tier, rate, base, amount) of each commission line, in statement order."""
    return [(line["deal_id"], line["event_id"], line["tier"], Decimal(line["rate"]),
             Decimal(line["base"]), line["amount"])
            for line in statement["lines"] if line["kind"] == "commission"]
