"""Kafka commands: the worker (`consume`), topic admin, publishing files, tailing score updates."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer

from consumers.topics import Topics
from perfledger.options import JsonFlag
from perfledger.reading import input_lines


def register(app: typer.Typer) -> None:
    """Add the Kafka commands to the CLI."""
    topics_app = typer.Typer(no_args_is_help=True, help="Kafka topic administration.")
    app.add_typer(topics_app, name="topics")
    topics_app.command("create")(topics_create)
    app.command()(consume)
    app.command()(publish)
    app.command()(tail)


def topics_create(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Create the fact, rejects and (compacted) score-update topics."""
    from consumers.admin import create_topics

    settings = ctx.obj.settings
    outcome = create_topics(settings.kafka_bootstrap, Topics(settings.kafka_topic_prefix),
                            settings.kafka_partitions)
    if as_json:
        typer.echo(orjson.dumps(outcome).decode())
        return
    for name, result in outcome.items():
        typer.echo(f"{name}: {result}")


def consume(ctx: typer.Context, metrics_port: Annotated[int | None, typer.Option(
        help="Serve Prometheus metrics on this port.")] = None) -> None:
    """Run the ingest worker: Kafka facts in, score updates out, until SIGTERM or Ctrl-C."""
    import asyncio

    from consumers.logs import configure
    from consumers.metrics import WorkerMetrics
    from consumers.worker import Worker

    log = configure()
    metrics = WorkerMetrics()
    if metrics_port:
        metrics.serve(metrics_port)
    worker = Worker(ctx.obj.system, ctx.obj.settings, metrics, log)
    asyncio.run(worker.app.run())


def publish(ctx: typer.Context, files: Annotated[list[str], typer.Argument(
        help="JSON Lines files of CloudEvents; - for standard input.")], as_json: JsonFlag = False
            ) -> None:
    """Send CloudEvents to the topics for their types, for the worker to consume."""
    from consumers.admin import publish_events

    settings = ctx.obj.settings
    lines = (item.raw if isinstance(item.raw, bytes) else item.raw.encode()
             for item in input_lines(files))
    counts = publish_events(settings.kafka_bootstrap, Topics(settings.kafka_topic_prefix), lines)
    if as_json:
        typer.echo(orjson.dumps(counts).decode())
        return
    for topic, count in sorted(counts.items()):
        typer.echo(f"{topic}: {count}")


def tail(ctx: typer.Context,
         from_beginning: Annotated[bool, typer.Option(help="Start at the oldest update.")] = False,
         rep: Annotated[str | None, typer.Option(help="Only this rep's updates.")] = None,
         idle_exit: Annotated[float | None, typer.Option(
             help="Exit after this many seconds without an update.")] = None) -> None:
    """Print score updates as they arrive, one JSON object per line."""
    from consumers.admin import tail_scores

    settings = ctx.obj.settings
    for update in tail_scores(settings.kafka_bootstrap, Topics(settings.kafka_topic_prefix),
                              from_beginning=from_beginning, rep_id=rep, idle_seconds=idle_exit):
        sys.stdout.write(orjson.dumps(update).decode() + "\n")
        sys.stdout.flush()
