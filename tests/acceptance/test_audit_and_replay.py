"""SPEC §8 through the command line, on every backend: period close, restatement, replay,
disputes, explain, verify and `--as-known-at`, with the SPEC §9 example as the running story."""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from sqlalchemy import create_engine, text

from tests.acceptance.spec_files import ANNUAL_TARGET, REVISION, SPEC_DEALS, events_file, plan_file
from tests.builders import PLAN_YAML, deal, target
from tests.conftest import Cli

pytestmark = pytest.mark.acceptance

REVISION_ID = REVISION["id"]  # t-rep:alice-revenue-2026-08-16
ANNUAL_ID = ANNUAL_TARGET["id"]  # t-rep:alice-revenue-2026-07-01

# bob: a 100,000.00 target from the first day and one 120,000.00 deal he owns alone.
BOB_TARGET = target("rep:bob", "100000.00", "2026-07-01")
BOB_DEAL = deal("D5", "2026-08-20", "120000.00", ("bob", "owner", "1"))


def plan_version(directory: Path, version: int, top_rate: str) -> Path:
    """The SPEC §9 plan as another version whose only change is the rate of the top tier."""
    document = PLAN_YAML.format(proration="time_weighted").replace("version: 1", f"version: {version}")
    document = document.replace('{rate: "0.12"}', f'{{rate: "{top_rate}"}}')
    assert f'rate: "{top_rate}"' in document
    path = directory / f"plan-v{version}.yaml"
    path.write_text(document, encoding="utf-8")
    return path


def utc_moment() -> str:
    """The current UTC time as `--as-known-at` takes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fails(cli: Cli, *args: str) -> str:
    """Run a command that must fail as a user error; return its one-line message."""
    done = cli.run(*args, check=False)
    assert done.returncode == 1, (args, done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("error: "), message
    return message


def run_json(cli: Cli, *args: str, status: int) -> Any:
    """Run a command with --json that exits with `status`; decode its standard output."""
    done = cli.run(*args, "--json", check=False)
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    return orjson.loads(done.stdout)


def adjustments(statement: dict[str, Any]) -> list[tuple[str, str]]:
    """(amount, reference) of each adjustment line."""
    return [(line["amount"], line["reference"]) for line in statement["lines"]
            if line["kind"] == "adjustment"]


def segments(derivation: dict[str, Any]) -> list[tuple[str, str, str, str, int, str]]:
    """(decision, value, from, to, days, reason) of each revenue target segment."""
    return [(s["decision_id"], s["value"], s["from"], s["to"], s["days"], s["reason"])
            for s in derivation["targets"]["revenue"]["segments"]]


def tiers(derivation: dict[str, Any]) -> list[tuple[int, str, str, str | None]]:
    """(tier, rate, from, up_to) of each band, boundaries in money."""
    return [(t["tier"], t["rate"], t["from"], t["up_to"]) for t in derivation["tiers"]]


# --- the event store, edited behind the ledger's back -----------------------------------------


def stored_events_table(url: str) -> tuple[str, str]:
    """The event store's table and its position column, as the eventsourcing library names them."""
    return ("stored_events", "rowid") if url.startswith("sqlite") else ("perfledger_events",
                                                                          "notification_id")


def alter_deal_amount(url: str, deal_id: str, old: bytes, new: bytes) -> tuple[int, str, int]:
    """Rewrite a recorded deal's amount in its stored state; return its position, originator id
    and version."""
    table, column = stored_events_table(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(text(f"SELECT {column} AS position, originator_id, "
                                     f"originator_version, topic, state FROM {table}")).all()
            [row] = [r for r in rows if r.topic.endswith(":Deal.Closed")
                     and f'"deal_id":"{deal_id}"'.encode() in bytes(r.state)]
            state = bytes(row.state)
            assert old in state
            conn.execute(text(f"UPDATE {table} SET state = :state WHERE {column} = :position"),
                         {"state": state.replace(old, new), "position": row.position})
    finally:
        engine.dispose()
    return row.position, str(UUID(str(row.originator_id))), row.originator_version


# --- scenarios ----------------------------------------------------------------------------------


def test_restating_the_spec_example_explaining_and_verifying_it(cli: Cli, tmp_path: Path) -> None:
    """SPEC §9: Q3 closed with the revision unknown issues 13,200.00; when the revision arrives
    the restatement issues version 2 at 14,700.00 and posts +1,500.00 to alice's 2026-Q4; the
    explanation, the version history and `verify` account for every number."""
    plan = plan_file(tmp_path)
    plan_sha = hashlib.sha256(plan.read_bytes()).hexdigest()
    cli.json("plan", "publish", str(plan))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, *SPEC_DEALS])))

    # Given Q3 closed before the revision is known: 200,000 target, 13,200.00 (SPEC §9 table).
    assert cli.json("period", "close", "2026-Q3") == {"period": "2026-Q3", "statements": 1,
                                                      "total": "13200.00"}
    before_revision = utc_moment()
    cli.json("ingest", str(events_file(tmp_path, "revision.jsonl", [REVISION])))

    # The issued version stands; the live recomputation (175,000 target) differs.
    issued = cli.json("statement", "2026-Q3", "--rep", "alice")
    assert (issued["version"], issued["total"]) == (1, "13200.00")
    assert (issued["pending_restatement"], issued["live_total"]) == (True, "14700.00")
    assert issued["effective_targets"] == {"revenue": "200000.00"}

    # Restating without --apply shows the difference and records nothing.
    shown = cli.json("restate", "2026-Q3")
    assert (shown["period"], shown["applied"], shown["adjustment_period"]) == ("2026-Q3", False, None)
    [row] = shown["reps"]
    assert (row["rep_id"], row["issued_version"], row["issued_total"], row["restated_total"],
            row["delta"]) == ("alice", 1, "13200.00", "14700.00", "1500.00")
    assert f"target:{REVISION_ID}" in row["causes"]
    assert cli.json("restate", "2026-Q3") == shown

    # Applying issues version 2 and posts the delta (14,700.00 - 13,200.00) to the next quarter.
    applied = cli.json("restate", "2026-Q3", "--apply")
    assert (applied["applied"], applied["adjustment_period"]) == (True, "2026-Q4")
    assert applied["reps"] == shown["reps"]  # still against version 1: the dry runs issued nothing

    version_2 = cli.json("statement", "2026-Q3", "--rep", "alice", "--version", "2")
    assert (version_2["version"], version_2["total"]) == (2, "14700.00")
    assert version_2["effective_targets"] == {"revenue": "175000.00"}
    assert f"target:{REVISION_ID}" in version_2["causes"]
    assert version_2["adjustment_period"] == "2026-Q4"
    version_1 = cli.json("statement", "2026-Q3", "--rep", "alice", "--version", "1")
    assert (version_1["version"], version_1["total"]) == (1, "13200.00")
    assert (version_1["lines"], version_1["fingerprint"]) == (issued["lines"], issued["fingerprint"])
    latest = cli.json("statement", "2026-Q3", "--rep", "alice")
    assert (latest["version"], latest["total"], latest["pending_restatement"],
            latest["live_total"]) == (2, "14700.00", False, "14700.00")

    # Applying again changes nothing: still one adjustment (and, in the explanation below,
    # no version 3).
    again = cli.json("restate", "2026-Q3", "--apply")
    assert (again["applied"], again["adjustment_period"], again["reps"]) == (False, None, [])
    q4 = cli.json("statement", "2026-Q4", "--rep", "alice")
    assert (adjustments(q4), q4["total"]) == ([("1500.00", "2026-Q3 v2")], "1500.00")

    # A new plan published and adopted for Q4 leaves the closed Q3 alone: a closed period
    # changes plan only through a replay that restates it.
    cli.json("plan", "publish", str(plan_version(tmp_path, 2, "0.15")))
    cli.run("plan", "adopt", "2026-Q4", "enterprise-2026@2")
    still = cli.json("statement", "2026-Q3", "--rep", "alice")
    assert (still["version"], still["pending_restatement"], still["live_total"]) == (
        2, False, "14700.00")

    # Explain the latest version: two 46-day segments (200,000 x 46 + 150,000 x 46) / 92 =
    # 175,000.00; band boundaries 0.5 x 175,000 = 87,500.00 and 1.0 x 175,000 = 175,000.00.
    explained = cli.json("explain", "2026-Q3", "--rep", "alice")
    assert (explained["version"], explained["total"]) == (2, "14700.00")
    assert explained["plan"] == {"id": "enterprise-2026", "version": 1, "sha256": plan_sha}
    derivation = explained["derivation"]
    assert derivation["period"] == {"name": "2026-Q3", "first_day": "2026-07-01",
                                    "last_day": "2026-09-30", "days": 92}
    assert derivation["targets"]["revenue"]["value"] == "175000.00"
    assert segments(derivation) == [
        (ANNUAL_ID, "200000.00", "2026-07-01", "2026-08-15", 46, "annual plan"),
        (REVISION_ID, "150000.00", "2026-08-16", "2026-09-30", 46, "annual plan")]
    assert tiers(derivation) == [(1, "0.04", "0.00", "87500.00"), (2, "0.08", "87500.00", "175000.00"),
                                 (3, "0.12", "175000.00", None)]
    assert [(n["number"], n["deal_id"], n["tier"], n["amount"]) for n in explained["lines"]] == [
        (1, "D1", 1, "3200.00"), (2, "D2", 1, "300.00"), (3, "D2", 2, "4200.00"),
        (4, "D3", 2, "2800.00"), (5, "D3", 3, "4200.00")]
    recorded = set()
    for line in explained["lines"]:
        deal_id, source = line["deal_id"], line["source_event"]
        raw = next(d for d in SPEC_DEALS if d["data"]["deal_id"] == deal_id)
        assert (source["type"], source["id"], source["source"], source["time"]) == (
            "deal.closed", raw["id"], "crm", raw["time"])
        assert source["recorded_at"] < before_revision.replace("Z", "+00:00")
        recorded.add(source["recorded_at"])
    assert len(recorded) == 1  # the three deals came in one ingest
    assert [(v["version"], v["total"], v["causes"], v["delta"], v["adjustment_period"])
            for v in explained["versions"]] == [
        (1, "13200.00", [], None, None),
        (2, "14700.00", version_2["causes"], "1500.00", "2026-Q4")]
    assert explained["disputes"] == []

    # Version 1 is explained as it was issued: one 92-day segment, bands at 100,000 and 200,000.
    first = cli.json("explain", "2026-Q3", "--rep", "alice", "--version", "1")
    assert (first["version"], first["total"]) == (1, "13200.00")
    assert segments(first["derivation"]) == [
        (ANNUAL_ID, "200000.00", "2026-07-01", "2026-09-30", 92, "annual plan")]
    assert tiers(first["derivation"]) == [(1, "0.04", "0.00", "100000.00"),
                                          (2, "0.08", "100000.00", "200000.00"),
                                          (3, "0.12", "200000.00", None)]
    # As known before the revision, only version 1 existed.
    known_then = cli.json("explain", "2026-Q3", "--rep", "alice", "--as-known-at", before_revision)
    assert (known_then["version"], known_then["total"]) == (1, "13200.00")
    assert [v["version"] for v in known_then["versions"]] == [1]

    # verify: every issued version recomputes to what was issued, and the chain is intact.
    verified = run_json(cli, "verify", status=0)
    assert (verified["ok"], verified["statements_checked"], verified["mismatches"],
            verified["chain_breaks"]) == (True, 2, [], [])

    # An amount edited in the store behind the ledger's back is named, and verify fails.
    position, originator, version = alter_deal_amount(cli.database_url, "D2", b'"60000.00"',
                                                      b'"66000.00"')
    tampered = run_json(cli, "verify", status=1)
    assert tampered["ok"] is False
    assert tampered["chain_breaks"] == [
        f"event #{position} (originator {originator}, version {version}) was altered (state)"]


def test_explaining_an_open_period_follows_the_live_statement(cli: Cli, tmp_path: Path) -> None:
    """An open period is explained as its statement is served, and moves with it: the revision
    re-derives the target, the bands and every line, each traced to its source event."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, *SPEC_DEALS])))
    for total, revenue_target, revised in (("13200.00", "200000.00", False),
                                           ("14700.00", "175000.00", True)):
        if revised:
            cli.json("ingest", str(events_file(tmp_path, "revision.jsonl", [REVISION])))
        statement = cli.json("statement", "2026-Q3", "--rep", "alice")
        explained = cli.json("explain", "2026-Q3", "--rep", "alice")
        assert (explained["version"], explained["total"]) == (None, total)
        assert explained["fingerprint"] == statement["fingerprint"]
        assert [{k: v for k, v in line.items() if k not in ("number", "source_event")}
                for line in explained["lines"]] == statement["lines"]
        assert explained["derivation"]["targets"]["revenue"]["value"] == revenue_target
        assert len(segments(explained["derivation"])) == (2 if revised else 1)
        assert tiers(explained["derivation"])[1][3] == revenue_target
        for line in explained["lines"]:
            raw = next(d for d in SPEC_DEALS if d["data"]["deal_id"] == line["deal_id"])
            source = line["source_event"]
            assert (source["id"], source["data"]["amount"]) == (raw["id"], raw["data"]["amount"])


def test_as_known_at_before_and_after_the_revision(cli: Cli, tmp_path: Path) -> None:
    """An open Q3 asked as known between the two ingests has the 200,000 target (13,200.00,
    1.0500); as known after the revision, 175,000 (14,700.00, 1.2000) — SPEC §9 table."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, *SPEC_DEALS])))
    between = utc_moment()
    cli.json("ingest", str(events_file(tmp_path, "revision.jsonl", [REVISION])))
    after = utc_moment()

    then = cli.json("statement", "2026-Q3", "--rep", "alice", "--as-known-at", between)
    now = cli.json("statement", "2026-Q3", "--rep", "alice", "--as-known-at", after)
    standing_then = cli.json("attainment", "2026-Q3", "--rep", "alice", "--as-known-at", between)
    standing_now = cli.json("attainment", "2026-Q3", "--rep", "alice", "--as-known-at", after)

    assert (then["effective_targets"], then["attainment"], then["total"]) == (
        {"revenue": "200000.00"}, {"revenue": "1.0500"}, "13200.00")
    assert (now["effective_targets"], now["attainment"], now["total"]) == (
        {"revenue": "175000.00"}, {"revenue": "1.2000"}, "14700.00")
    assert [(r["rep_id"], r["attainment"], r["commission"]) for r in standing_then["reps"]] == [
        ("alice", "1.0500", "13200.00")]
    assert [(r["rep_id"], r["attainment"], r["commission"]) for r in standing_now["reps"]] == [
        ("alice", "1.2000", "14700.00")]


def test_replay_changes_nothing_until_applied(cli: Cli, tmp_path: Path) -> None:
    """Replaying Q3 under a plan whose top tier pays 15% instead of 12% reports per rep and in
    total, writes a CSV, and records nothing; --apply on the open period adopts the plan; on the
    closed period it issues a new version and posts the delta as an adjustment."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, *SPEC_DEALS,
                                                                BOB_TARGET, BOB_DEAL])))
    before = cli.json("statement", "2026-Q3", "--rep", "alice")
    periods = cli.json("period", "list")
    assert before["plan"]["version"] == 1

    # By hand, only the 12% band moves to 15%:
    # alice (SPEC §9, before the revision): band 3 holds 10,000 of D3 → 1,200.00 becomes
    #   1,500.00; 13,200.00 → 13,500.00 (+300.00).
    # bob (target 100,000, one 120,000 deal): 50,000 x 4% = 2,000.00, 50,000 x 8% = 4,000.00,
    #   20,000 x 12% = 2,400.00 → 8,400.00; at 15% band 3 is 3,000.00 → 9,000.00 (+600.00).
    v2 = plan_version(tmp_path, 2, "0.15")
    report = tmp_path / "replay.csv"
    replayed = cli.json("replay", "2026-Q3", "--plan", str(v2), "--lines", "--csv", str(report))
    assert (replayed["period"], replayed["closed"], replayed["applied"]) == ("2026-Q3", False, False)
    assert replayed["plan"] == {"id": "enterprise-2026", "version": 2,
                                "sha256": hashlib.sha256(v2.read_bytes()).hexdigest()}
    assert [(r["rep_id"], r["old_total"], r["new_total"], r["delta"]) for r in replayed["reps"]] == [
        ("alice", "13200.00", "13500.00", "300.00"), ("bob", "8400.00", "9000.00", "600.00")]
    assert replayed["totals"] == {"old_total": "21600.00", "new_total": "22500.00", "delta": "900.00"}
    assert [r["lines"] for r in replayed["reps"]] == [
        [{"kind": "commission", "event_id": "crm-D3", "deal_id": "D3", "tier": 3,
          "old": "1200.00", "new": "1500.00", "delta": "300.00"}],
        [{"kind": "commission", "event_id": "crm-D5", "deal_id": "D5", "tier": 3,
          "old": "2400.00", "new": "3000.00", "delta": "600.00"}]]
    with report.open(newline="", encoding="utf-8") as stream:
        assert list(csv.reader(stream)) == [
            ["period", "rep_id", "old_total", "new_total", "delta"],
            ["2026-Q3", "alice", "13200.00", "13500.00", "300.00"],
            ["2026-Q3", "bob", "8400.00", "9000.00", "600.00"]]

    # Nothing was recorded: same statement under plan v1, same periods.
    assert cli.json("statement", "2026-Q3", "--rep", "alice") == before
    assert cli.json("period", "list") == periods

    # --apply on the open period adopts v2.
    adopted = cli.json("replay", "2026-Q3", "--plan", str(v2), "--apply")
    assert (adopted["applied"], adopted["closed"]) == (True, False)
    assert "restatement" not in adopted
    now = cli.json("statement", "2026-Q3", "--rep", "alice")
    assert (now["plan"], now["total"]) == (replayed["plan"], "13500.00")

    # Closed under v2 (13,500.00 + 9,000.00), then replayed under v3 with a 20% top tier:
    # alice 10,000 x 20% = 2,000.00 → 14,000.00 (+500.00); bob 20,000 x 20% = 4,000.00 →
    # 10,000.00 (+1,000.00).
    assert cli.json("period", "close", "2026-Q3")["total"] == "22500.00"
    v3 = plan_version(tmp_path, 3, "0.20")
    restated = cli.json("replay", "2026-Q3", "--plan", str(v3), "--apply")
    assert (restated["applied"], restated["closed"]) == (True, True)
    assert [(r["rep_id"], r["old_total"], r["new_total"], r["delta"]) for r in restated["reps"]] == [
        ("alice", "13500.00", "14000.00", "500.00"), ("bob", "9000.00", "10000.00", "1000.00")]
    restatement = restated["restatement"]
    assert (restatement["applied"], restatement["adjustment_period"]) == (True, "2026-Q4")
    assert [(r["rep_id"], r["issued_version"], r["delta"]) for r in restatement["reps"]] == [
        ("alice", 1, "500.00"), ("bob", 1, "1000.00")]
    assert all("plan:enterprise-2026@3" in r["causes"] for r in restatement["reps"])
    latest = cli.json("statement", "2026-Q3", "--rep", "alice")
    assert (latest["version"], latest["total"], latest["plan"]["version"],
            latest["pending_restatement"]) == (2, "14000.00", 3, False)
    assert adjustments(cli.json("statement", "2026-Q4", "--rep", "alice")) == [("500.00", "2026-Q3 v2")]


def test_disputes_and_user_errors_on_a_closed_period(cli: Cli, tmp_path: Path) -> None:
    """A dispute on a line of alice's closed Q3 statement, accepted with 250.00, posts an
    adjustment to Q4 naming the dispute; a rejected one posts nothing; both keep finance's note.
    Mistakes (resolving twice, closing twice, restating an open period, adopting a plan for a
    closed one, a time without a zone, a version never issued, a line the statement does not
    have) exit 1 with one line naming the argument."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", [ANNUAL_TARGET, *SPEC_DEALS])))
    cli.json("period", "close", "2026-Q3")  # version 1: 13,200.00 in five lines

    first = cli.json("dispute", "open", "2026-Q3", "--rep", "alice", "--line", "5",
                     "--reason", "D3's top tier ignores the August target cut")["id"]
    [pending] = cli.json("dispute", "list", "--open")
    assert (pending["dispute_id"], pending["rep_id"], pending["period"], pending["line"],
            pending["statement_version"], pending["outcome"]) == (
        first, "alice", "2026-Q3", 5, 1, None)
    assert pending["reason"] == "D3's top tier ignores the August target cut"

    before_resolution = cli.json("dispute", "list")[0]["opened_at"]
    accepted = cli.run("dispute", "resolve", first, "--accept", "--amount", "250.00",
                       "--note", "goodwill for the late revision")
    assert first in accepted.stdout
    assert "2026-Q4" in accepted.stdout
    explained = cli.json("explain", "2026-Q3", "--rep", "alice")
    [shown] = explained["disputes"]
    assert (shown["dispute_id"], shown["line"], shown["outcome"], shown["amount"], shown["note"],
            shown["adjustment_period"]) == (first, 5, "accepted", "250.00",
                                            "goodwill for the late revision", "2026-Q4")
    # As known when it was opened, the dispute is still open; before that, there was none.
    [then] = cli.json("explain", "2026-Q3", "--rep", "alice", "--as-known-at",
                      before_resolution)["disputes"]
    assert (then["dispute_id"], then["outcome"], then["amount"]) == (first, None, None)
    earlier = next(p["closed_at"] for p in cli.json("period", "list") if p["period"] == "2026-Q3")
    assert cli.json("explain", "2026-Q3", "--rep", "alice", "--as-known-at",
                    earlier)["disputes"] == []

    second = cli.json("dispute", "open", "2026-Q3", "--rep", "alice",
                      "--reason", "D1 should count as new business")["id"]
    assert second != first
    cli.run("dispute", "resolve", second, "--reject", "--note", "D1 was paid per plan")
    listed = {row["dispute_id"]: row for row in cli.json("dispute", "list")}
    assert set(listed) == {first, second}
    assert (listed[second]["outcome"], listed[second]["note"], listed[second]["amount"],
            listed[second]["line"], listed[second]["adjustment_period"]) == (
        "rejected", "D1 was paid per plan", None, None, None)
    assert (listed[first]["outcome"], listed[first]["amount"]) == ("accepted", "250.00")
    # Only the accepted dispute posted an adjustment.
    q4 = cli.json("statement", "2026-Q4", "--rep", "alice")
    assert (adjustments(q4), q4["total"]) == ([("250.00", f"dispute {first} on 2026-Q3")], "250.00")

    resolved_twice = fails(cli, "dispute", "resolve", first, "--reject", "--note", "again")
    assert first in resolved_twice
    assert "already accepted" in resolved_twice
    assert "--line" in fails(cli, "dispute", "open", "2026-Q3", "--rep", "alice", "--line", "6",
                             "--reason", "no such line")
    closed_twice = fails(cli, "period", "close", "2026-Q3")
    assert "PERIOD" in closed_twice
    assert "already closed" in closed_twice
    open_restated = fails(cli, "restate", "2026-Q4")
    assert "PERIOD" in open_restated
    assert "2026-Q4 is open" in open_restated
    adopted = fails(cli, "plan", "adopt", "2026-Q3", "enterprise-2026@1")
    assert "PERIOD" in adopted
    assert "closed" in adopted
    assert "--as-known-at" in fails(cli, "statement", "2026-Q3", "--rep", "alice",
                                    "--as-known-at", "2026-10-01T00:00:00")
    assert "--version" in fails(cli, "statement", "2026-Q3", "--rep", "alice", "--version", "9")
