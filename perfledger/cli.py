"""The `perfledger` command line. Commands parse arguments, call the system, and print."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from eventsourcing.persistence import PersistenceError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy.exc import DBAPIError

from domain.errors import DomainError
from domain.periods import Period
from domain.plan import parse_plan
from perfledger import audit_cli, kafka_cli, render
from perfledger.audit import issued_statement
from perfledger.options import JsonFlag, KnownAt, console, emit_json, known_at_arg, read_text
from perfledger.reading import count_lines, input_lines
from perfledger.settings import Settings
from perfledger.wiring import System
from projections.attainment import attainment as attainment_figures
from projections.collaboration import collaboration as collaboration_figures
from projections.queries import stored_rejects
from projections.runner import spare_long_lived

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="perfledger: an event-sourced performance ledger for sales teams.")
plan_app = typer.Typer(no_args_is_help=True, help="Publish and adopt commission plans.")
app.add_typer(plan_app, name="plan")
out = console()
err = console(stderr=True)

class State:
    """The lazily wired system for the chosen database."""

    def __init__(self, database_url: str | None) -> None:
        self.settings = Settings(**({"database_url": database_url} if database_url else {}))
        self._system: System | None = None

    @property
    def system(self) -> System:
        if self._system is None:
            self._system = System(self.settings)
        return self._system


def period_arg(text: str) -> Period:
    return Period.parse(text, field="PERIOD")


@app.callback()
def main_options(ctx: typer.Context, db: Annotated[str | None, typer.Option(
        "--db", help="Database URL (default $PERFLEDGER_DATABASE_URL or sqlite:///perfledger.db)."
)] = None) -> None:
    ctx.obj = State(db)


@app.command()
def ingest(ctx: typer.Context, files: Annotated[list[str], typer.Argument(
        help="JSON Lines files of CloudEvents; - for standard input.")], as_json: JsonFlag = False
           ) -> None:
    """Record facts and decisions; duplicates are dropped and rejects kept with their reason."""
    system = ctx.obj.system
    if err.is_terminal and not as_json:
        with Progress(TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(),
                      console=err, transient=True) as progress:
            task = progress.add_task("ingest", total=count_lines(files))
            report = system.ingest(input_lines(files), lambda n: progress.advance(task, n))
    else:
        report = system.ingest(input_lines(files))
    counts = {"accepted": len(report.accepted), "duplicates": report.duplicates,
              "rejected": len(report.rejected)}
    if as_json:
        emit_json(counts)
        return
    out.print(f"accepted {counts['accepted']}, duplicates {counts['duplicates']}, "
              f"rejected {counts['rejected']}")
    for rejected in report.rejected[:10]:
        out.print(f"  rejected {rejected.origin}: {rejected.reason}")
    if len(report.rejected) > 10:
        out.print(f"  … {len(report.rejected) - 10} more: see `perfledger rejects`")


@app.command()
def rejects(ctx: typer.Context, as_json: JsonFlag = False, as_known_at: KnownAt = None) -> None:
    """List rejected input with the reason naming the field."""
    system = ctx.obj.system
    system.runner.catch_up()
    with system.engine.connect() as conn:
        rows = stored_rejects(conn, known_at_arg(as_known_at))
    emit_json(rows) if as_json else render.rejects(out, rows)


@plan_app.command("publish")
def plan_publish(ctx: typer.Context, file: Path, as_json: JsonFlag = False) -> None:
    """Validate and publish a plan version (YAML)."""
    plan = ctx.obj.system.ledger.publish_plan(read_text(file))
    published = {"id": plan.id, "version": plan.version, "sha256": plan.sha256}
    emit_json(published) if as_json else out.print(
        f"published {plan.ref} sha256 {plan.sha256}")


@plan_app.command("adopt")
def plan_adopt(ctx: typer.Context, period: str, plan_ref: Annotated[str, typer.Argument(
        metavar="ID@VERSION")]) -> None:
    """Adopt a published plan version for a period."""
    ctx.obj.system.ledger.adopt_plan(period_arg(period).name, plan_ref)
    out.print(f"{period} now uses {plan_ref}")


@app.command()
def statement(ctx: typer.Context, period: str, rep: Annotated[str, typer.Option(
        help="The rep's id.")], plan: Annotated[Path | None, typer.Option(
        help="Compute a what-if under this unpublished plan; nothing is recorded.")] = None,
              version: Annotated[int | None, typer.Option(min=1, help="An issued version.")] = None,
              as_json: JsonFlag = False, as_known_at: KnownAt = None) -> None:
    """A rep's commission statement with every line's provenance. For a closed period: the
    latest issued version, and whether the live recomputation differs."""
    system, chosen, known_at = ctx.obj.system, period_arg(period), known_at_arg(as_known_at)
    if plan is not None:
        shown = system.statement(chosen, rep, parse_plan(read_text(plan)), known_at).to_json()
        emit_json(shown) if as_json else render.statement(out, shown)
        return
    issued = issued_statement(system, chosen, rep, version, known_at)
    if issued is None:
        shown = (system.statement(chosen, rep, known_at=known_at).to_json() if known_at
                 else system.live_statement(chosen, rep))
        emit_json(shown) if as_json else render.statement(out, shown)
        return
    emit_json(issued) if as_json else render.issued_statement(out, issued)


@app.command()
def attainment(ctx: typer.Context, period: str,
               rep: Annotated[str | None, typer.Option(help="Only this rep.")] = None,
               team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
               as_json: JsonFlag = False, as_known_at: KnownAt = None) -> None:
    """Live attainment, scorecard and commission to date per rep, team and org."""
    system, chosen, known_at = ctx.obj.system, period_arg(period), known_at_arg(as_known_at)
    system.runner.catch_up()
    plan = system.plan_for(chosen, known_at)
    statements = system.period_statements(chosen, known_at=known_at) if known_at else None
    with system.engine.connect() as conn:
        figures = attainment_figures(conn, chosen, plan, rep_id=rep, team_id=team,
                                     known_at=known_at, statements=statements)
    emit_json(figures) if as_json else render.attainment(out, figures)


@app.command()
def collaboration(ctx: typer.Context, period: str, as_json: JsonFlag = False,
                  as_known_at: KnownAt = None) -> None:
    """Collaboration credit per rep and who helped whom."""
    system, chosen = ctx.obj.system, period_arg(period)
    system.runner.catch_up()
    with system.engine.connect() as conn:
        figures = collaboration_figures(conn, chosen, known_at_arg(as_known_at))
    emit_json(figures) if as_json else render.collaboration(out, figures)


@app.command()
def rebuild(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Drop every read model and rebuild it from the event log."""
    applied = ctx.obj.system.runner.rebuild()
    emit_json({"replayed": applied}) if as_json else out.print(f"rebuilt from {applied} events")


@app.command()
def simulate(period: Annotated[str, typer.Option(help="YYYY-Qn or YYYY-MM.")],
             reps: Annotated[int, typer.Option(min=1, help="Number of reps.")],
             seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
             events: Annotated[int | None, typer.Option(min=1, help="Exact event count.")] = None
             ) -> None:
    """Write a seeded, realistic period of CloudEvents as JSON Lines on standard output."""
    from perfledger.simulation import simulate as generate

    period_arg(period)
    write = sys.stdout.buffer.write
    try:
        for generated in generate(period, reps, seed, events):
            write(orjson.dumps(generated) + b"\n")
    except ValueError as error:
        raise DomainError(str(error)) from None


@app.command()
def demo() -> None:
    """Run the tour in a temporary store: a plan, a simulated quarter, a revision, the results."""
    from perfledger.demo import run_demo

    run_demo(out)


kafka_cli.register(app)
audit_cli.register(app)


def main() -> None:
    """Entry point: user mistakes end with a one-line message and exit status 1."""
    spare_long_lived()
    try:
        app()
    except (DomainError, OSError, ConnectionError) as error:
        _fail(str(error))
    except (DBAPIError, PersistenceError) as error:
        _fail(f"database: {str(error).splitlines()[0] if str(error) else type(error).__name__}")


def _fail(message: str) -> None:
    # Plain text on one line: a wrapped or styled message is harder for scripts to read.
    sys.stderr.write("error: " + " ".join(message.split()) + "\n")
    sys.exit(1)
