"""How the CLI shows statements, attainment, collaboration and rejects to people (rich tables)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from domain.engine import Statement


def statement(console: Console, shown: Statement) -> None:
    """A statement with its targets, attainment and each line's provenance."""
    data = shown.to_json()
    plan = data["plan"]
    console.print(f"[bold]Statement {data['period']} — {data['rep_id']}[/bold]"
                  f"  team {data['team_id'] or '—'}  plan {plan['id']}@{plan['version']}"
                  f" ({plan['sha256'][:12]})")
    for metric, value in data["effective_targets"].items():
        reached = data["attainment"].get(metric, "—")
        console.print(f"  target {metric}: {value}   attainment {reached}")
    console.print(f"  credited revenue: {data['credited_revenue']}"
                  f"   scorecard score: {data['scorecard']['score'] or '—'}")
    table = Table(show_lines=False)
    for column in ("#", "kind", "deal", "event", "time", "tier", "rate", "base", "amount"):
        table.add_column(column, justify="right" if column in ("amount", "base") else "left")
    for number, line in enumerate(data["lines"], start=1):
        table.add_row(str(number), line["kind"], line["deal_id"] or "", line["event_id"] or "",
                      (line["time"] or "")[:10], str(line["tier"] or ""), line["rate"],
                      line["base"], line["amount"])
    console.print(table)
    console.print(f"  [bold]total {data['total']}[/bold]   fingerprint {data['fingerprint']}")
    for warning in data["warnings"]:
        console.print(f"  [yellow]warning: {warning}[/yellow]")


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
