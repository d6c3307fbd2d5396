"""A Markdown summary of results files: `python -m bench.report [FILE…]` (default: the full
results in bench/results/)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from bench.harness import RESULTS, verdict


def _figure(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and "median" in value:
        return f"{value['median']:,} ({value['min']:,}–{value['max']:,})"
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def _rows(result: dict[str, Any]) -> list[str]:
    name, figures = result["benchmark"], result["figures"]
    rows = []
    nested = all(isinstance(v, dict) and "median" not in v for v in figures.values() if v)
    groups = figures.items() if nested else [("", figures)]
    for group, values in groups:
        if not values:
            continue
        for key, value in values.items():
            if isinstance(value, dict) and "median" not in value:
                continue
            label = f"{group} {key}".strip()
            rows.append(f"| {name} | {label} | {_figure(value)} |")
    for checked in result.get("goals", []):
        checked.setdefault("at_most", "≤" in checked["goal"] or "within" in checked["goal"])
        rows.append(f"| {name} | goal: {checked['goal']} | {checked['value']:,} {checked['unit']}"
                    f" → **{verdict(checked)}** |")
    return rows


def summary(paths: Sequence[Path]) -> str:
    """One table: every figure (median, min–max over the repetitions) and every goal."""
    lines = ["| benchmark | figure | median (min–max) |", "| --- | --- | --- |"]
    machine = None
    for path in paths:
        result = orjson.loads(path.read_bytes())
        machine = result["machine"]
        lines += _rows(result)
    if machine:
        lines.append("")
        lines.append(f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
                     f"{machine['ram_gib']} GiB RAM, Python {machine['python']}, {machine['date']}.")
    return "\n".join(lines)


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted(RESULTS.glob("*.json"))
    print(summary(paths))


if __name__ == "__main__":
    main()
