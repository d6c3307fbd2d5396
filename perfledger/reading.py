"""Reading JSON Lines input: files or standard input, line by line, with where each came from."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from domain.errors import DomainError
from domain.intake import Incoming


def input_lines(paths: list[str]) -> Iterator[Incoming]:
    """Every non-blank line of the files (`-` is standard input), tagged `file:line`."""
    for path in paths:
        if path == "-":
            yield from _lines(sys.stdin.buffer, "stdin")
            continue
        file = Path(path)
        if not file.exists() or file.is_dir():
            raise DomainError(f"FILE: {path} does not exist or is a folder")
        with file.open("rb") as stream:
            yield from _lines(stream, path)


def count_lines(paths: list[str]) -> int | None:
    """How many lines the input has when it is known (files only), for a progress bar."""
    if "-" in paths:
        return None
    count = 0
    for path in paths:
        if Path(path).is_file():
            with Path(path).open("rb") as stream:
                chunks = iter(lambda: stream.read(1 << 20), b"")
                count += sum(chunk.count(b"\n") for chunk in chunks)
    return count


def _lines(stream: object, name: str) -> Iterator[Incoming]:
    for number, line in enumerate(stream, start=1):  # type: ignore[call-overload]
        raw = line.rstrip(b"\r\n")
        if raw.strip():
            yield Incoming(raw, f"{name}:{number}")
