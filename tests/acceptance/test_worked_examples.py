"""SPEC §9 worked examples, through the command line, on every backend."""

from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.acceptance.spec_files import (
    ANNUAL_TARGET,
    MONEY,
    RATIO,
    REVISION,
    SPEC_DEALS,
    commission_lines,
    events_file,
    plan_file,
)
from tests.builders import deal, target
from tests.conftest import Cli

pytestmark = pytest.mark.acceptance

STATEMENT_FIELDS = {"rep_id", "period", "plan", "effective_targets", "attainment",
                    "credited_revenue", "lines", "total", "warnings", "fingerprint"}
LINE_FIELDS = {"kind", "amount", "deal_id", "event_id", "tier", "rate", "base"}

# (deal, event id, tier, rate, base, amount), worked out by hand from SPEC §9's table.
TIME_WEIGHTED_LINES = [
    ("D1", "crm-D1", 1, Decimal("0.04"), Decimal(80000), "3200.00"),
    ("D2", "crm-D2", 1, Decimal("0.04"), Decimal(7500), "300.00"),
    ("D2", "crm-D2", 2, Decimal("0.08"), Decimal(52500), "4200.00"),
    ("D3", "crm-D3", 2, Decimal("0.08"), Decimal(35000), "2800.00"),
    ("D3", "crm-D3", 3, Decimal("0.12"), Decimal(35000), "4200.00"),
]
REPLACE_LINES = [
    ("D1", "crm-D1", 1, Decimal("0.04"), Decimal(75000), "3000.00"),
    ("D1", "crm-D1", 2, Decimal("0.08"), Decimal(5000), "400.00"),
    ("D2", "crm-D2", 2, Decimal("0.08"), Decimal(60000), "4800.00"),
    ("D3", "crm-D3", 2, Decimal("0.08"), Decimal(10000), "800.00"),
    ("D3", "crm-D3", 3, Decimal("0.12"), Decimal(60000), "7200.00"),
]
BEFORE_REVISION_LINES = [
    ("D1", "crm-D1", 1, Decimal("0.04"), Decimal(80000), "3200.00"),
    ("D2", "crm-D2", 1, Decimal("0.04"), Decimal(20000), "800.00"),
    ("D2", "crm-D2", 2, Decimal("0.08"), Decimal(40000), "3200.00"),
    ("D3", "crm-D3", 2, Decimal("0.08"), Decimal(60000), "4800.00"),
    ("D3", "crm-D3", 3, Decimal("0.12"), Decimal(10000), "1200.00"),
]
DEAL_AMOUNTS = {"D1": Decimal(80000), "D2": Decimal(60000), "D3": Decimal(70000)}


def assert_statement_shape(shown: dict[str, Any]) -> None:
    """The fields the CLI promises, money as strings with two decimals, ratios with four."""
    assert shown.keys() >= STATEMENT_FIELDS
    assert set(shown["plan"]) == {"id", "version", "sha256"}
    for value in [shown["credited_revenue"], shown["total"],
                  *shown["effective_targets"].values(), *(line["amount"] for line in shown["lines"])]:
        assert isinstance(value, str)
        assert MONEY.match(value), value
    assert all(RATIO.match(value) for value in shown["attainment"].values())
    assert all(line.keys() >= LINE_FIELDS for line in shown["lines"])
    assert isinstance(shown["warnings"], list)
    assert len(shown["fingerprint"]) == 64
    int(shown["fingerprint"], 16)


def assert_lines_add_up(shown: dict[str, Any], credited: dict[str, Decimal]) -> None:
    """Each line is base x rate rounded half-up to cents, a deal's bases cover its credited
    amount, the total is the sum of the rounded lines, and lines run in (time, event id, tier)."""
    for line in shown["lines"]:
        expected = (Decimal(line["base"]) * Decimal(line["rate"])).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert Decimal(line["amount"]) == expected, line
    covered: dict[str, Decimal] = {}
    for line in shown["lines"]:
        covered[line["deal_id"]] = covered.get(line["deal_id"], Decimal(0)) + Decimal(line["base"])
    assert covered == credited
    assert Decimal(shown["total"]) == sum(Decimal(line["amount"]) for line in shown["lines"])
    order = [(line["time"], line["event_id"], line["tier"]) for line in shown["lines"]]
    assert order == sorted(order)


@pytest.mark.parametrize(("proration", "effective_target", "lines", "total", "attainment"), [
    ("time_weighted", "175000.00", TIME_WEIGHTED_LINES, "14700.00", "1.2000"),
    ("replace", "150000.00", REPLACE_LINES, "16200.00", "1.4000"),
])
def test_revised_target(cli: Cli, tmp_path: Path, proration: str, effective_target: str,
                        lines: list[Any], total: str, attainment: str) -> None:
    """Given alice's target 200,000 revised to 150,000 on 2026-08-16 and D1-D3 (210,000),
    the statement follows the plan's proration."""
    plan = plan_file(tmp_path, proration)
    published = cli.json("plan", "publish", str(plan))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, REVISION, *SPEC_DEALS])))

    shown = cli.json("statement", "2026-Q3", "--rep", "alice")

    assert_statement_shape(shown)
    assert (shown["rep_id"], shown["period"]) == ("alice", "2026-Q3")
    assert shown["plan"] == {"id": "enterprise-2026", "version": 1,
                             "sha256": hashlib.sha256(plan.read_bytes()).hexdigest()}
    assert shown["plan"] == published
    assert shown["effective_targets"]["revenue"] == effective_target
    assert shown["credited_revenue"] == "210000.00"
    assert shown["attainment"]["revenue"] == attainment
    assert {line["kind"] for line in shown["lines"]} == {"commission"}
    assert commission_lines(shown) == lines
    assert shown["total"] == total
    assert shown["warnings"] == []
    assert_lines_add_up(shown, DEAL_AMOUNTS)


def test_before_the_revision_and_when_it_arrives(cli: Cli, tmp_path: Path) -> None:
    """Without the revision the target is 200,000 and the total 13,200.00; once the revision
    is recorded the live figures move to 175,000, 14,700.00 and 1.2000."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, *SPEC_DEALS])))

    before = cli.json("statement", "2026-Q3", "--rep", "alice")
    live_before = cli.json("attainment", "2026-Q3", "--rep", "alice")["reps"]

    assert_statement_shape(before)
    assert before["effective_targets"]["revenue"] == "200000.00"
    assert before["attainment"]["revenue"] == "1.0500"
    assert commission_lines(before) == BEFORE_REVISION_LINES
    assert before["total"] == "13200.00"
    assert_lines_add_up(before, DEAL_AMOUNTS)
    assert [(r["rep_id"], r["revenue_target"], r["attainment"], r["commission"])
            for r in live_before] == [("alice", "200000.00", "1.0500", "13200.00")]

    cli.json("ingest", str(events_file(tmp_path, "revision.jsonl", [REVISION])))
    after = cli.json("statement", "2026-Q3", "--rep", "alice")
    live_after = cli.json("attainment", "2026-Q3", "--rep", "alice")["reps"]

    assert after["total"] == "14700.00"
    assert commission_lines(after) == TIME_WEIGHTED_LINES
    assert after["fingerprint"] != before["fingerprint"]
    assert [(r["rep_id"], r["revenue_target"], r["attainment"], r["commission"])
            for r in live_after] == [("alice", "175000.00", "1.2000", "14700.00")]


SPLIT_DEAL = deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.6"),
                  ("bob", "presales", "0.3"), ("carol", "aftersales", "0.1"))
SPLIT_SHORT_OF_ONE = deal("D5", "2026-07-22", "50000.00", ("alice", "owner", "0.6"),
                          ("bob", "presales", "0.3"))
# Each rep's own target puts the same deal in different tiers.
SPLIT_TARGETS = [target("rep:alice", "200000.00"), target("rep:bob", "40000.00"),
                 target("rep:carol", "5000.00")]


# rep: (credited, effective target, attainment, commission lines, total), worked out by hand.
SPLIT_STATEMENTS = {
    "alice": ("60000.00", "200000.00", "0.3000",
              [("D4", "crm-D4", 1, Decimal("0.04"), Decimal(60000), "2400.00")], "2400.00"),
    "bob": ("30000.00", "40000.00", "0.7500",
            [("D4", "crm-D4", 1, Decimal("0.04"), Decimal(20000), "800.00"),
             ("D4", "crm-D4", 2, Decimal("0.08"), Decimal(10000), "800.00")], "1600.00"),
    "carol": ("10000.00", "5000.00", "2.0000",
              [("D4", "crm-D4", 1, Decimal("0.04"), Decimal(2500), "100.00"),
               ("D4", "crm-D4", 2, Decimal("0.08"), Decimal(2500), "200.00"),
               ("D4", "crm-D4", 3, Decimal("0.12"), Decimal(5000), "600.00")], "900.00"),
}


def test_split_credit(cli: Cli, tmp_path: Path) -> None:
    """D4 (100,000) credited alice 0.6 / bob 0.3 / carol 0.1 gives 60,000 / 30,000 / 10,000,
    each commissioned on the rep's own target; bob's and carol's credit is collaboration credit
    on a deal alice owns; a split list summing to 0.9 is rejected with a reason naming
    `credits` and kept verbatim."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    events = events_file(tmp_path, "split.jsonl", [*SPLIT_TARGETS, SPLIT_DEAL, SPLIT_SHORT_OF_ONE])

    counts = cli.json("ingest", str(events))
    figures = cli.json("collaboration", "2026-Q3")
    rejected = cli.json("rejects")
    statements = {rep: cli.json("statement", "2026-Q3", "--rep", rep) for rep in SPLIT_STATEMENTS}

    assert counts == {"accepted": 4, "duplicates": 0, "rejected": 1}
    for rep, (credited, effective_target, attainment, lines, total) in SPLIT_STATEMENTS.items():
        shown = statements[rep]
        assert_statement_shape(shown)
        assert shown["credited_revenue"] == credited, rep
        assert shown["effective_targets"]["revenue"] == effective_target, rep
        assert shown["attainment"]["revenue"] == attainment, rep
        assert commission_lines(shown) == lines, rep
        assert shown["total"] == total, rep
        assert_lines_add_up(shown, {"D4": Decimal(credited)})
    assert figures["period"] == "2026-Q3"
    assert figures["reps"] == [
        {"rep_id": "bob", "credit_on_others_deals": "30000.00", "deals_helped": 1, "deals_shared": 1},
        {"rep_id": "carol", "credit_on_others_deals": "10000.00", "deals_helped": 1,
         "deals_shared": 1},
        {"rep_id": "alice", "credit_on_others_deals": "0.00", "deals_helped": 0, "deals_shared": 1},
    ]
    assert figures["edges"] == [
        {"helper_id": "bob", "owner_id": "alice", "deals": 1, "credited": "30000.00"},
        {"helper_id": "carol", "owner_id": "alice", "deals": 1, "credited": "10000.00"},
    ]
    assert len(rejected) == 1
    assert "credits" in rejected[0]["reason"]
    assert "0.9" in rejected[0]["reason"]
    assert rejected[0]["raw"] == orjson.dumps(SPLIT_SHORT_OF_ONE).decode()
    assert rejected[0]["line"] == f"{events}:5"
