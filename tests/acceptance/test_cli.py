"""The command line as a user drives it: ingest, plans, statements, attainment, errors, tools.

Scenarios whose outcome depends on the store run on every backend (`cli`); those decided before
the store is reached, or by code the backends share, run on a SQLite file only (`sqlite_cli`)
to keep the suite quick.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import orjson
import pytest

from tests.acceptance.spec_files import (
    ANNUAL_TARGET,
    REVISION,
    SPEC_DEALS,
    assigned,
    events_file,
    plan_file,
    richer_plan_file,
)
from tests.builders import PLAN_YAML, deal, target
from tests.conftest import Cli

pytestmark = pytest.mark.acceptance

SPEC_EVENTS = [ANNUAL_TARGET, REVISION, *SPEC_DEALS]


@pytest.fixture
def sqlite_cli(sqlite_url: str, tmp_path: Path) -> Cli:
    """The CLI on a SQLite file, for behaviour that does not depend on the store."""
    return Cli(sqlite_url, tmp_path)


def assert_user_error(done: subprocess.CompletedProcess[str], *names: str) -> None:
    """Exit 1 or 2, nothing on stdout, one line on stderr naming what is wrong, no traceback."""
    assert done.returncode in (1, 2), done.stderr
    message = done.stderr.strip()
    assert "Traceback" not in message
    assert "\n" not in message, message
    assert message.startswith("error: ")
    for name in names:
        assert name in message
    assert done.stdout == ""


# --- ingest ---------------------------------------------------------------------------------


def test_ingest_counts_accepted_duplicates_and_rejected(cli: Cli, tmp_path: Path) -> None:
    """Each line is accepted, dropped as a duplicate, or rejected with a reason naming the field."""
    conflict = deal("D2", "2026-08-05", "61000.00")  # crm-D2 again, with another amount
    negative = deal("D9", "2026-08-06", "-5.00")
    lines = [orjson.dumps(e) for e in (ANNUAL_TARGET, SPEC_DEALS[0], SPEC_DEALS[1], SPEC_DEALS[0],
                                       conflict)]
    lines += [b'{"specversion": "1.0", "id": ', orjson.dumps(negative)]
    events = tmp_path / "mixed.jsonl"
    events.write_bytes(b"\n".join(lines) + b"\n")

    counts = cli.json("ingest", str(events))
    rejected = {row["line"]: row for row in cli.json("rejects")}

    assert counts == {"accepted": 3, "duplicates": 1, "rejected": 3}
    assert set(rejected) == {f"{events}:5", f"{events}:6", f"{events}:7"}
    assert rejected[f"{events}:5"]["reason"].startswith("id: ")
    assert rejected[f"{events}:6"]["reason"].startswith("json: ")
    assert rejected[f"{events}:7"]["reason"].startswith("data.amount: ")
    for number in (5, 6, 7):
        assert rejected[f"{events}:{number}"]["raw"].encode() == lines[number - 1]


def test_ingesting_the_same_file_twice_changes_nothing(cli: Cli, tmp_path: Path) -> None:
    """The second time every line is a duplicate and the statement is the same, byte for byte."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    events = events_file(tmp_path, "q3.jsonl", SPEC_EVENTS)

    first = cli.json("ingest", str(events))
    statement = cli.run("statement", "2026-Q3", "--rep", "alice", "--json").stdout
    second = cli.json("ingest", str(events))
    again = cli.run("statement", "2026-Q3", "--rep", "alice", "--json").stdout

    assert first == {"accepted": 5, "duplicates": 0, "rejected": 0}
    assert second == {"accepted": 0, "duplicates": 5, "rejected": 0}
    assert again == statement
    assert orjson.loads(statement)["total"] == "14700.00"


def test_ingest_reads_standard_input_for_dash(sqlite_cli: Cli, tmp_path: Path) -> None:
    """`-` reads standard input, alongside files."""
    sqlite_cli.json("plan", "publish", str(plan_file(tmp_path)))
    stdin = b"".join(orjson.dumps(e) + b"\n" for e in (ANNUAL_TARGET, REVISION)).decode()
    deals = events_file(tmp_path, "deals.jsonl", SPEC_DEALS)

    counts = sqlite_cli.json("ingest", "-", str(deals), stdin=stdin)
    shown = sqlite_cli.json("statement", "2026-Q3", "--rep", "alice")

    assert counts == {"accepted": 5, "duplicates": 0, "rejected": 0}
    assert (shown["effective_targets"]["revenue"], shown["total"]) == ("175000.00", "14700.00")


# --- plans ----------------------------------------------------------------------------------


def test_plan_publish_reports_id_version_and_the_sha256_of_the_file(cli: Cli, tmp_path: Path
                                                                     ) -> None:
    """Publishing returns the plan's id, version and the sha256 of the file's bytes; the same
    document again is a no-op; another document under a published version is refused."""
    plan = plan_file(tmp_path)
    changed = tmp_path / "changed.yaml"
    changed.write_text(PLAN_YAML.format(proration="replace"), encoding="utf-8")

    published = cli.json("plan", "publish", str(plan))
    again = cli.json("plan", "publish", str(plan))
    refused = cli.run("plan", "publish", str(changed), check=False)

    assert published == {"id": "enterprise-2026", "version": 1,
                         "sha256": hashlib.sha256(plan.read_bytes()).hexdigest()}
    assert again == published
    assert_user_error(refused, "version", "enterprise-2026@1")


def test_plan_adopt_switches_the_plan_a_period_uses(cli: Cli, tmp_path: Path) -> None:
    """Without adoption a period uses the latest published plan; `plan adopt` pins one version
    for one period, in statements and in live attainment, and leaves other periods alone."""
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("plan", "publish", str(richer_plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", SPEC_EVENTS)))

    latest = cli.json("statement", "2026-Q3", "--rep", "alice")
    cli.run("plan", "adopt", "2026-Q3", "enterprise-2026@1")
    adopted = cli.json("statement", "2026-Q3", "--rep", "alice")
    live = cli.json("attainment", "2026-Q3", "--rep", "alice")
    next_quarter = cli.json("statement", "2026-Q4", "--rep", "alice")

    # Version 2 pays 5% / 10% / 15%: D1 4,000.00; D2 375.00 + 5,250.00; D3 3,500.00 + 5,250.00.
    assert (latest["plan"]["version"], latest["total"]) == (2, "18375.00")
    assert (adopted["plan"]["version"], adopted["total"]) == (1, "14700.00")
    assert live["plan"]["version"] == 1
    assert [(r["rep_id"], r["commission"]) for r in live["reps"]] == [("alice", "14700.00")]
    assert next_quarter["plan"]["version"] == 2


def test_statement_with_a_what_if_plan_records_nothing(cli: Cli, tmp_path: Path) -> None:
    """`statement --plan FILE` computes under an unpublished plan; the ledger is unchanged,
    and the plan cannot be adopted since it was never published."""
    what_if = richer_plan_file(tmp_path)
    cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", SPEC_EVENTS)))

    before = cli.run("statement", "2026-Q3", "--rep", "alice", "--json").stdout
    tried = cli.json("statement", "2026-Q3", "--rep", "alice", "--plan", str(what_if))
    after = cli.run("statement", "2026-Q3", "--rep", "alice", "--json").stdout
    adopt = cli.run("plan", "adopt", "2026-Q3", "enterprise-2026@2", check=False)

    assert tried["plan"] == {"id": "enterprise-2026", "version": 2,
                             "sha256": hashlib.sha256(what_if.read_bytes()).hexdigest()}
    assert tried["total"] == "18375.00"
    assert after == before
    assert orjson.loads(after)["plan"]["version"] == 1
    assert_user_error(adopt, "enterprise-2026@2", "not published")


# --- attainment -----------------------------------------------------------------------------

# alice and bob in team east (no team target: the sum of theirs), carol in west (own target).
TEAM_EVENTS = [
    assigned("alice", "east"), assigned("bob", "east"), assigned("carol", "west"),
    target("rep:alice", "200000.00"), target("rep:bob", "40000.00"),
    target("rep:carol", "5000.00"), target("team:west", "20000.00"), target("org", "300000.00"),
    deal("D4", "2026-07-20", "100000.00", ("alice", "owner", "0.6"), ("bob", "presales", "0.3"),
         ("carol", "aftersales", "0.1")),
    deal("D6", "2026-08-01", "50000.00", ("bob", "owner", "1")),
]
# Worked by hand: bob 30,000 on D4 (800.00 + 800.00) then 50,000 on D6 (800.00 + 4,800.00).
REPS = {
    "alice": {"rep_id": "alice", "team_id": "east", "credited_revenue": "60000.00",
              "revenue_target": "200000.00", "attainment": "0.3000", "score": None,
              "commission": "2400.00"},
    "bob": {"rep_id": "bob", "team_id": "east", "credited_revenue": "80000.00",
            "revenue_target": "40000.00", "attainment": "2.0000", "score": None,
            "commission": "7200.00"},
    "carol": {"rep_id": "carol", "team_id": "west", "credited_revenue": "10000.00",
              "revenue_target": "5000.00", "attainment": "2.0000", "score": None,
              "commission": "900.00"},
}
EAST = {"scope": "team:east", "reps": 2, "credited_revenue": "140000.00",
        "revenue_target": "240000.00", "attainment": "0.5833", "commission": "9600.00"}
WEST = {"scope": "team:west", "reps": 1, "credited_revenue": "10000.00",
        "revenue_target": "20000.00", "attainment": "0.5000", "commission": "900.00"}
ORG = {"scope": "org", "reps": 3, "credited_revenue": "150000.00", "revenue_target": "300000.00",
       "attainment": "0.5000", "commission": "10500.00"}


def test_attainment_per_rep_team_and_org_with_filters(cli: Cli, tmp_path: Path) -> None:
    """Reps, then teams (own target, else the members' sum), then the org; `--rep` and `--team`
    narrow the reps and leave out the levels above."""
    published = cli.json("plan", "publish", str(plan_file(tmp_path)))
    cli.json("ingest", str(events_file(tmp_path, "teams.jsonl", TEAM_EVENTS)))

    everyone = cli.json("attainment", "2026-Q3")
    bob = cli.json("attainment", "2026-Q3", "--rep", "bob")
    east = cli.json("attainment", "2026-Q3", "--team", "east")

    assert (everyone["period"], everyone["plan"]) == ("2026-Q3", published)
    assert everyone["reps"] == [REPS["alice"], REPS["bob"], REPS["carol"]]
    assert everyone["teams"] == [EAST, WEST]
    assert everyone["org"] == ORG
    assert (bob["reps"], bob["teams"], bob["org"]) == ([REPS["bob"]], [], None)
    assert (east["reps"], east["teams"], east["org"]) == ([REPS["alice"], REPS["bob"]], [EAST], None)


# --- user errors ----------------------------------------------------------------------------

INVALID_PLANS = {
    "commission.tiers.0.rate": PLAN_YAML.format(proration="time_weighted").replace(
        'rate: "0.04"', 'rate: "1.5"'),
    "commission": "id: broken\nversion: 1\ncurrency: USD\n",
    "commission.tiers": PLAN_YAML.format(proration="time_weighted").replace(
        'up_to: "1.0"', 'up_to: "0.4"'),
    "target_proration": PLAN_YAML.format(proration="pro_rata"),
}


@pytest.mark.parametrize("key", sorted(INVALID_PLANS))
def test_an_invalid_plan_is_refused_naming_the_key(sqlite_cli: Cli, tmp_path: Path, key: str
                                                   ) -> None:
    """Publishing, or trying, an invalid plan is a user error naming the offending key."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(INVALID_PLANS[key], encoding="utf-8")

    refused = sqlite_cli.run("plan", "publish", "plan.yaml", check=False)

    assert_user_error(refused, f"{key}: ")


@pytest.mark.parametrize("args", [
    ("statement", "2026-Q5", "--rep", "alice"),
    ("attainment", "2026-13"),
    ("collaboration", "Q3-2026"),
    ("plan", "adopt", "26-Q3", "enterprise-2026@1"),
], ids=["statement", "attainment", "collaboration", "adopt"])
def test_a_bad_period_is_a_user_error(sqlite_cli: Cli, args: tuple[str, ...]) -> None:
    """A period that is neither YYYY-Qn nor YYYY-MM is refused, naming it."""
    refused = sqlite_cli.run(*args, check=False)

    assert_user_error(refused, "is not a period")


@pytest.mark.parametrize("args", [
    ("ingest", "missing.jsonl"),
    ("plan", "publish", "missing.yaml"),
    ("statement", "2026-Q3", "--rep", "alice", "--plan", "missing.yaml"),
], ids=["ingest", "publish", "what-if"])
def test_a_missing_file_is_a_user_error(sqlite_cli: Cli, args: tuple[str, ...]) -> None:
    """A file that does not exist is refused, naming it."""
    refused = sqlite_cli.run(*args, check=False)

    assert_user_error(refused, "missing.")


def test_a_long_error_message_stays_on_one_line(sqlite_cli: Cli, tmp_path: Path) -> None:
    """However long the path, the error is one line."""
    missing = tmp_path / ("a-rather-long-folder-name-" * 3) / "missing.jsonl"

    refused = sqlite_cli.run("ingest", str(missing), check=False)

    assert_user_error(refused, str(missing))


def test_a_missing_option_is_a_usage_error_without_traceback(sqlite_cli: Cli) -> None:
    """Leaving out `--rep` exits 2 with usage help, not a traceback."""
    refused = sqlite_cli.run("statement", "2026-Q3", check=False)

    assert refused.returncode == 2
    assert "--rep" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("url", ["not a url", "sqlite://", "mysql://ledger@localhost/ledger"])
def test_an_unusable_database_url_is_a_user_error(tmp_path: Path, url: str) -> None:
    """A database URL that cannot work is refused, naming the setting."""
    refused = Cli(url, tmp_path).run("statement", "2026-Q3", "--rep", "alice", check=False)

    assert_user_error(refused, "database_url")


def test_no_plan_published_is_a_user_error(cli: Cli) -> None:
    """Before any plan is published there is nothing to compute commission with."""
    statement = cli.run("statement", "2026-Q3", "--rep", "alice", check=False)
    attainment = cli.run("attainment", "2026-Q3", check=False)

    assert_user_error(statement, "plan", "publish")
    assert_user_error(attainment, "plan", "publish")


def test_an_unknown_rep_gets_an_empty_statement_with_a_warning(sqlite_cli: Cli, tmp_path: Path
                                                              ) -> None:
    """A rep the ledger has never heard of is not an error: nothing earned, and a warning."""
    sqlite_cli.json("plan", "publish", str(plan_file(tmp_path)))
    sqlite_cli.json("ingest", str(events_file(tmp_path, "q3.jsonl", SPEC_EVENTS)))

    shown = sqlite_cli.json("statement", "2026-Q3", "--rep", "nobody")

    assert (shown["rep_id"], shown["period"]) == ("nobody", "2026-Q3")
    assert shown["lines"] == []
    assert (shown["credited_revenue"], shown["total"]) == ("0.00", "0.00")
    assert shown["effective_targets"] == {}
    assert shown["attainment"] == {}
    assert "no revenue target" in shown["warnings"]


# --- simulate and demo ----------------------------------------------------------------------


def test_simulate_is_deterministic(sqlite_cli: Cli) -> None:
    """The same seed gives the same bytes; another seed gives other events; `--events` is exact."""
    args = ("simulate", "--period", "2026-Q3", "--reps", "4", "--seed", "11")

    first = sqlite_cli.run(*args).stdout
    second = sqlite_cli.run(*args).stdout
    other = sqlite_cli.run(*args[:-1], "12").stdout
    exact = sqlite_cli.run(*args, "--events", "150").stdout

    assert first == second
    assert first != other
    assert len(first.splitlines()) > 100
    assert len(exact.splitlines()) == 150


def test_simulated_events_ingest_without_rejects(sqlite_cli: Cli, tmp_path: Path) -> None:
    """Everything the simulator writes is valid input."""
    simulated = tmp_path / "simulated.jsonl"
    simulated.write_text(sqlite_cli.run("simulate", "--period", "2026-Q3", "--reps", "6", "--seed", "5"
                                 ).stdout, encoding="utf-8")
    lines = len(simulated.read_text(encoding="utf-8").splitlines())

    counts = sqlite_cli.json("ingest", str(simulated))

    assert counts == {"accepted": lines, "duplicates": 0, "rejected": 0}
    assert sqlite_cli.json("rejects") == []


@pytest.mark.slow
def test_demo_runs_and_shows_attainment_and_a_statement(sqlite_cli: Cli) -> None:
    """The tour runs in its own temporary store and prints what a user would look at."""
    done = sqlite_cli.run("demo")

    assert done.returncode == 0
    assert "Traceback" not in done.stderr
    assert "Attainment 2026-Q3" in done.stdout
    assert "Statement 2026-Q3" in done.stdout
    assert "total" in done.stdout
    assert "Collaboration credit 2026-Q3" in done.stdout
