"""Options and output helpers shared by the commands."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console

from domain.errors import DomainError

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
KnownAt = Annotated[str | None, typer.Option(
    "--as-known-at", help="Answer from the events recorded up to this time (ISO 8601, UTC).")]


def emit_json(document: Any) -> None:
    """Write JSON to standard output."""
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")


def known_at_arg(text: str | None) -> datetime | None:
    """The `--as-known-at` moment in UTC, or None for 'everything recorded'."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(f"--as-known-at: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise DomainError("--as-known-at: give a UTC time, e.g. 2026-10-01T00:00:00Z")
    return moment.astimezone(UTC)


def read_text(path: Path) -> str:
    """A text file's content, or a user error naming the file."""
    if not path.is_file():
        raise DomainError(f"FILE: {path} does not exist or is not a file")
    return path.read_text(encoding="utf-8")


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide enough for statements when the output is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 140)
