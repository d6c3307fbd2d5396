"""How the CLI shows statements, attainment, collaboration and rejects to people (rich tables)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def statement(console: Console, data: dict[str, Any]) -> None:
    """A statement with its targets, attainment and each line's provenance."""
    plan = data["plan"]
    console.print(f"[bold]Statement {data['period']} — {data['rep_id']}[/bold]"
                  f"  team {data['team_id'] or '—'}  plan {plan['id']}@{plan['version']}"
                  f" ({plan['sha256'][:12]})")
    for metric, value in data["effective_targets"].items():
        reached = data["attainment"].get(metric, "—")
        console.print(f"  target {metric}: {value}   attainment {reached}")
    console.print(f"  credited revenue: {data['credited_revenue']}"
                  f"   scorecard score: {data['scorecard']['score'] or '—'}")
    _lines(console, data["lines"])
    console.print(f"  [bold]total {data['total']}[/bold]   fingerprint {data['fingerprint']}")
    for warning in data["warnings"]:
        console.print(f"  [yellow]warning: {warning}[/yellow]")


def _lines(console: Console, lines: list[dict[str, Any]]) -> None:
    table = Table(show_lines=False)
    for column in ("#", "kind", "deal", "event", "time", "tier", "rate", "base", "amount"):
        table.add_column(column, justify="right" if column in ("amount", "base") else "left")
    for number, line in enumerate(lines, start=1):
        table.add_row(str(number), line["kind"], line["deal_id"] or line.get("reference") or "",
                      line["event_id"] or "", (line["time"] or "")[:10], str(line["tier"] or ""),
                      line["rate"], line["base"], line["amount"])
    console.print(table)


def attainment(console: Console, figures: dict[str, Any], limit: int | None = None) -> None:
    """Reps, then teams and the org, with credited revenue, target, attainment and commission."""
    table = Table(title=f"Attainment {figures['period']}")
    for column in ("rep", "team", "credited", "target", "attainment", "score", "commission"):
        table.add_column(column, justify="left" if column in ("rep", "team") else "right")
    reps = figures["reps"] if limit is None else figures["reps"][:limit]
    for rep in reps:
        table.add_row(rep["rep_id"], rep["team_id"] or "—", rep["credited_revenue"],
                      rep["revenue_target"] or "—", rep["attainment"] or "—",
                      rep["score"] or "—", rep["commission"])
    if limit is not None and len(figures["reps"]) > limit:
        table.add_row(f"… {len(figures['reps']) - limit} more", "", "", "", "", "", "")
    for scope in [*figures["teams"], *([figures["org"]] if figures["org"] else [])]:
        table.add_row(f"[bold]{scope['scope']}[/bold]", f"{scope['reps']} reps",
                      scope["credited_revenue"], scope["revenue_target"] or "—",
                      scope["attainment"] or "—", "", scope["commission"])
    console.print(table)


def collaboration(console: Console, figures: dict[str, Any], limit: int | None = None) -> None:
    """Reps ranked by credit earned on deals others own, then the strongest edges."""
    reps = Table(title=f"Collaboration credit {figures['period']}")
    for column in ("rep", "credit on others' deals", "deals helped", "deals shared"):
        reps.add_column(column, justify="left" if column == "rep" else "right")
    for rep in figures["reps"][:limit]:
        reps.add_row(rep["rep_id"], rep["credit_on_others_deals"], str(rep["deals_helped"]),
                     str(rep["deals_shared"]))
    console.print(reps)
    edges = Table(title="Who helped whom")
    for column in ("helper", "owner", "deals", "credited"):
        edges.add_column(column, justify="left" if column in ("helper", "owner") else "right")
    for edge in figures["edges"][:limit]:
        edges.add_row(edge["helper_id"], edge["owner_id"], str(edge["deals"]), edge["credited"])
    console.print(edges)


def rejects(console: Console, rows: list[dict[str, Any]]) -> None:
    """Each rejected line with where it came from and why."""
    table = Table(title=f"Rejected input ({len(rows)})")
    for column in ("origin", "reason", "raw"):
        table.add_column(column, overflow="fold")
    for row in rows:
        raw = row["raw"] if len(row["raw"]) <= 120 else row["raw"][:117] + "…"
        table.add_row(row["line"], row["reason"], raw)
    console.print(table)


def issued_statement(console: Console, shown: dict[str, Any]) -> None:
    """An issued version: its lines, total, fingerprint, causes, and pending restatement."""
    plan = shown["plan"]
    console.print(f"[bold]Statement {shown['period']} — {shown['rep_id']} — issued version "
                  f"{shown['version']}[/bold]  plan {plan['id']}@{plan['version']}  "
                  f"issued {shown['issued_at']} (as known at {shown['known_at']})")
    if shown.get("causes"):
        console.print(f"  restated because of: {', '.join(shown['causes'])}")
    _lines(console, shown["lines"])
    console.print(f"  [bold]total {shown['total']}[/bold]   fingerprint {shown['fingerprint']}")
    if shown.get("pending_restatement"):
        console.print(f"  [yellow]pending restatement: the ledger now computes "
                      f"{shown['live_total']} (see `perfledger restate {shown['period']}`)[/yellow]")


def explanation(console: Console, shown: dict[str, Any]) -> None:
    """How each number of a statement was derived."""
    derivation = shown["derivation"]
    plan = shown["plan"]
    version = f"version {shown['version']}" if shown["version"] else "live"
    console.print(f"[bold]Explain {shown['period']} — {shown['rep_id']} ({version})[/bold]  plan "
                  f"{plan['id']}@{plan['version']} sha256 {plan['sha256']}")
    console.print(f"period {derivation['period']['first_day']} … {derivation['period']['last_day']}"
                  f" ({derivation['period']['days']} days), proration {derivation['proration']}")
    for metric, target in derivation["targets"].items():
        console.print(f"  target {metric} = {target['value']}")
        for s in target["segments"]:
            console.print(f"    {s['value']} × {s['days']} days ({s['from']} … {s['to']}) — "
                          f"decision {s['decision_id']}: {s['reason']} (approved by "
                          f"{s['approved_by']})")
    for tier in derivation["tiers"]:
        console.print(f"  tier {tier['tier']}: {tier['from']} … {tier['up_to'] or '∞'} at "
                      f"{tier['rate']}")
    table = Table(title="Lines and their sources")
    for column in ("#", "kind", "amount", "inputs", "source event", "business time", "recorded"):
        table.add_column(column, overflow="fold")
    for line in shown["lines"]:
        source = line["source_event"] or {}
        inputs = f"{line['base']} × {line['rate']}" + (f" tier {line['tier']}" if line["tier"] else "")
        table.add_row(str(line["number"]), line["kind"], line["amount"], inputs,
                      f"{source.get('type', line.get('reference') or '')} "
                      f"{source.get('source', '')}/{source.get('id', line['event_id'] or '')}",
                      source.get("time", ""), source.get("recorded_at", ""))
    console.print(table)
    console.print(f"  total {shown['total']}   fingerprint {shown['fingerprint']}")
    for version_row in shown["versions"]:
        console.print(f"  v{version_row['version']} issued {version_row['issued_at']}: total "
                      f"{version_row['total']}" + (f", delta {version_row['delta']} → "
                                                   f"{version_row['adjustment_period']}; causes "
                                                   f"{', '.join(version_row['causes'])}"
                                                   if version_row["delta"] else ""))
    for dispute in shown["disputes"]:
        console.print(f"  dispute {dispute['dispute_id']} (line {dispute['line'] or '—'}): "
                      f"{dispute['reason']} → {dispute['outcome'] or 'open'} "
                      f"{dispute['amount'] or ''} {dispute['note'] or ''}")
