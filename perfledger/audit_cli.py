"""Audit commands: period close and list, restate, replay, disputes, explain, verify."""

from __future__ import annotations

import csv
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from domain.errors import DomainError
from domain.periods import Period
from perfledger import audit, inspection
from perfledger.options import JsonFlag, KnownAt, console, emit_json, known_at_arg, read_text

out = console()


def register(app: typer.Typer) -> None:
    """Add the audit commands to the CLI."""
    period_app = typer.Typer(no_args_is_help=True, help="Close periods and list them.")
    dispute_app = typer.Typer(no_args_is_help=True, help="Open, resolve and list disputes.")
    app.add_typer(period_app, name="period")
    app.add_typer(dispute_app, name="dispute")
    period_app.command("close")(period_close)
    period_app.command("list")(period_list)
    dispute_app.command("open")(dispute_open)
    dispute_app.command("resolve")(dispute_resolve)
    dispute_app.command("list")(dispute_list)
    for command in (restate, replay, explain, verify):
        app.command()(command)


def period_close(ctx: typer.Context, period: str, as_json: JsonFlag = False) -> None:
    """Issue version 1 of every rep's statement of the period and lock it."""
    closed = audit.close_period(ctx.obj.system, Period.parse(period, "PERIOD"))
    if as_json:
        emit_json(closed)
    else:
        out.print(f"closed {closed['period']}: issued {closed['statements']} statements, "
                  f"total {closed['total']}")


def period_list(ctx: typer.Context, as_json: JsonFlag = False, as_known_at: KnownAt = None) -> None:
    """Open and closed periods."""
    periods = audit.list_periods(ctx.obj.system, known_at_arg(as_known_at))
    if as_json:
        emit_json(periods)
        return
    table = Table(title="Periods")
    for column in ("period", "status", "closed at", "statements"):
        table.add_column(column)
    for row in periods:
        table.add_row(row["period"], row["status"], row["closed_at"] or "", str(row["statements"]))
    out.print(table)


def restate(ctx: typer.Context, period: str, as_json: JsonFlag = False,
            apply: Annotated[bool, typer.Option(help="Issue the new versions and post the deltas."
                                                )] = False) -> None:
    """Recompute a closed period from everything now known; show or apply the restatement."""
    result = audit.restate(ctx.obj.system, Period.parse(period, "PERIOD"), apply=apply)
    if as_json:
        emit_json(result)
        return
    table = Table(title=f"Restatement of {result['period']}" + (" (applied)" if result["applied"]
                                                               else " (not applied)"))
    for column in ("rep", "issued", "restated", "delta", "causes"):
        table.add_column(column, justify="right" if column in ("issued", "restated", "delta") else "left")
    for row in result["reps"]:
        table.add_row(row["rep_id"], row["issued_total"], row["restated_total"], row["delta"],
                      ", ".join(row["causes"][:4]) + (" …" if len(row["causes"]) > 4 else ""))
    out.print(table if result["reps"] else f"{result['period']}: nothing changed since issue")
    if result["adjustment_period"]:
        out.print(f"deltas posted as adjustments in {result['adjustment_period']}")


def replay(ctx: typer.Context, period: str,
           plan: Annotated[Path, typer.Option(help="The plan (YAML) to replay the period under.")],
           as_json: JsonFlag = False,
           lines: Annotated[bool, typer.Option("--lines", help="Add line-level changes.")] = False,
           apply: Annotated[bool, typer.Option(help="Adopt the plan for the period and restate."
                                               )] = False,
           csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write a CSV.")] = None
           ) -> None:
    """Recompute every rep of a period under another plan; nothing is recorded without --apply."""
    result = audit.replay(ctx.obj.system, Period.parse(period, "PERIOD"), read_text(plan),
                          lines=lines, apply=apply)
    if csv_file is not None:
        _write_csv(csv_file, result)
    if as_json:
        emit_json(result)
        return
    chosen = result["plan"]
    table = Table(title=f"Replay of {result['period']} under {chosen['id']}@{chosen['version']}")
    for column in ("rep", "old total", "new total", "delta"):
        table.add_column(column, justify="left" if column == "rep" else "right")
    for row in result["reps"]:
        table.add_row(row["rep_id"], row["old_total"], row["new_total"], row["delta"])
    totals = result["totals"]
    table.add_row("[bold]total[/bold]", totals["old_total"], totals["new_total"], totals["delta"])
    out.print(table)
    out.print("applied: plan adopted" if result["applied"] else "nothing recorded (use --apply)")


def _write_csv(path: Path, result: dict[str, object]) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["period", "rep_id", "old_total", "new_total", "delta"])
        for row in result["reps"]:  # type: ignore[attr-defined]
            writer.writerow([result["period"], row["rep_id"], row["old_total"], row["new_total"],
                             row["delta"]])


def dispute_open(ctx: typer.Context, period: str,
                 rep: Annotated[str, typer.Option(help="The rep whose statement is disputed.")],
                 reason: Annotated[str, typer.Option(help="What is disputed and why.")],
                 line: Annotated[int | None, typer.Option(min=1, help="The disputed line number."
                                                          )] = None,
                 as_json: JsonFlag = False) -> None:
    """Open a dispute on a statement (optionally one line)."""
    dispute_id = ctx.obj.system.ledger.open_dispute(Period.parse(period, "PERIOD").name, rep,
                                                    line, reason)
    emit_json({"id": dispute_id}) if as_json else out.print(f"opened dispute {dispute_id}")


def dispute_resolve(ctx: typer.Context, dispute_id: Annotated[str, typer.Argument(metavar="ID")],
                    note: Annotated[str, typer.Option(help="Finance's note.")],
                    accept: Annotated[bool, typer.Option("--accept", help="Accept it.")] = False,
                    reject: Annotated[bool, typer.Option("--reject", help="Reject it.")] = False,
                    amount: Annotated[str | None, typer.Option(
                        help="With --accept: the adjustment amount, e.g. 250.00 or -100.00.")] = None
                    ) -> None:
    """Accept a dispute (posting an adjustment in the next open period) or reject it."""
    if accept == reject:
        raise typer.BadParameter("give exactly one of --accept and --reject")
    value = None
    if accept:
        try:
            value = Decimal(amount or "")
        except InvalidOperation:
            raise DomainError("--amount: give a decimal amount with --accept, e.g. 250.00") from None
    target = ctx.obj.system.ledger.resolve_dispute(dispute_id, accepted=accept, amount=value,
                                                   note=note)
    out.print(f"accepted {dispute_id}: adjustment of {value} posted in {target.name}"
              if target else f"rejected {dispute_id}")


def dispute_list(ctx: typer.Context, open_only: Annotated[bool, typer.Option(
        "--open", help="Only disputes not yet resolved.")] = False, as_json: JsonFlag = False) -> None:
    """Disputes with their outcome."""
    rows = audit.list_disputes(ctx.obj.system, open_only=open_only)
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Disputes")
    for column in ("id", "rep", "period", "line", "reason", "outcome", "amount", "note"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["dispute_id"], row["rep_id"], row["period"], str(row["line"] or ""),
                      row["reason"], row["outcome"] or "open", row["amount"] or "", row["note"] or "")
    out.print(table)


def explain(ctx: typer.Context, period: str, rep: Annotated[str, typer.Option(help="The rep.")],
            version: Annotated[int | None, typer.Option(min=1, help="An issued version.")] = None,
            as_json: JsonFlag = False, as_known_at: KnownAt = None) -> None:
    """How every number of a statement was derived, with sources, versions and disputes."""
    shown = inspection.explain(ctx.obj.system, Period.parse(period, "PERIOD"), rep, version,
                               known_at_arg(as_known_at))
    if as_json:
        emit_json(shown)
        return
    from perfledger.render import explanation

    explanation(out, shown)


def verify(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Recompute every issued statement as known at its issue and check the event hash chain."""
    result = inspection.verify(ctx.obj.system)
    if as_json:
        emit_json(result)
    else:
        out.print(f"checked {result['statements_checked']} issued statements")
        for mismatch in result["mismatches"]:
            out.print(f"MISMATCH {mismatch['rep_id']} {mismatch['period']} v{mismatch['version']}: "
                      f"issued {mismatch['issued_total']}, recomputed {mismatch['recomputed_total']}")
        for broken in result["chain_breaks"]:
            out.print(f"TAMPERED {broken}")
        out.print("verified: everything matches" if result["ok"] else "verification FAILED")
    if not result["ok"]:
        sys.exit(1)
