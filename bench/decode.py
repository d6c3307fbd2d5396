"""Decoding and validating input on the hot path: the product's `decode_event` on the bytes of
the 100k quarter's first lines, next to the ways its validation step could be done — pydantic's
`model_validate` on a dict parsed by orjson (what the product does) and `model_validate_json`
on the bytes — and to the limit, `orjson.loads` alone. Also checks that each way names the same
field for the same bad input, since a faster way is only usable if its errors stay the same."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import data
from bench.harness import Config, run_child, spread

WAYS = ("decode_event", "validate_dict", "validate_json", "loads")
BAD_INPUTS: tuple[bytes, ...] = (
    b"{not json",
    b"[1, 2]",
    b'{"specversion": "1.0", "id": "e1", "source": "crm", "type": "deal.closed", '
    b'"time": "2026-07-01T10:00:00Z", "data": {"deal_id": "d1"}}',
    b'{"specversion": "1.0", "id": "e1", "source": "crm", "type": "nope", '
    b'"time": "2026-07-01T10:00:00Z", "data": {}}',
    b'{"specversion": "1.0", "source": "crm", "type": "deal.closed", '
    b'"time": "2026-07-01T10:00:00Z", "data": {}}',
    b'{"specversion": "1.0", "id": "e1", "source": "crm", "type": "deal.closed", '
    b'"time": "2026-07-01T10:00:00", "data": {}}',
    b'{"specversion": "1.0", "id": "e1", "source": "crm", "type": "deal.closed", '
    b'"time": "2026-07-01T10:00:00Z", "data": {"deal_id": "d1", "customer_id": "c1", '
    b'"amount": "10.00", "currency": "EUR", "product_line": "enterprise", '
    b'"credits": [{"rep_id": "r1", "role": "owner", "split": "0.9"}]}}',
)


def _ways() -> dict[str, Callable[[bytes], Any]]:
    """Each way raises the product's InvalidInput, naming the field as `decode_event` would."""
    import orjson
    from pydantic import ValidationError

    from domain.envelope import PAYLOAD_TYPES, CloudEvent, _first_error, decode_event
    from domain.errors import InvalidInput

    def payload_of(event: CloudEvent) -> Any:
        try:
            return PAYLOAD_TYPES[event.type].model_validate(event.data)
        except ValidationError as error:
            raise _first_error(error, "data") from None

    def validate_dict(raw: bytes) -> Any:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InvalidInput("json", f"not valid JSON ({error})") from None
        try:
            event = CloudEvent.model_validate(document)
        except ValidationError as error:
            raise _first_error(error, "") from None
        return payload_of(event)

    def validate_json(raw: bytes) -> Any:
        try:
            event = CloudEvent.model_validate_json(raw)
        except ValidationError as error:
            if error.errors()[0]["type"] == "json_invalid":
                raise InvalidInput("json", str(error.errors()[0]["msg"])) from None
            raise _first_error(error, "") from None
        return payload_of(event)

    return {"decode_event": decode_event, "validate_dict": validate_dict,
            "validate_json": validate_json, "loads": orjson.loads}


def _error_of(way: Callable[[bytes], Any], raw: bytes) -> str:
    """The field the way's error names, or what it raised instead."""
    from domain.errors import InvalidInput

    try:
        way(raw)
    except InvalidInput as error:
        return error.field
    except Exception as error:
        return type(error).__name__
    return "accepted"


def measure(params: dict[str, Any]) -> dict[str, Any]:
    lines = data.events_file(params["events"], params["reps"]).read_bytes().splitlines()
    lines = lines[:params["lines"]]
    ways = _ways()
    result: dict[str, Any] = {"lines": len(lines)}
    for name in WAYS:
        way = ways[name]
        started = time.perf_counter()
        for raw in lines:
            way(raw)
        result[f"{name}_events_per_s"] = len(lines) / (time.perf_counter() - started)
    expected = [_error_of(ways["decode_event"], raw) for raw in BAD_INPUTS]
    for name in ("validate_dict", "validate_json"):
        named = [_error_of(ways[name], raw) for raw in BAD_INPUTS]
        result[f"{name}_same_fields"] = sum(a == b for a, b in zip(named, expected, strict=True))
        result[f"{name}_fields"] = named
    result["decode_event_fields"] = expected
    return result


MEASURES = {"measure": measure}


def run(config: Config) -> dict[str, Any]:
    params = {"events": config.ingest_events, "reps": config.reps, "lines": config.decode_lines}
    runs = []
    for repetition in range(1, config.repetitions + 1):
        result = run_child("decode", "measure", params)
        runs.append(result)
        data.note(f"decode #{repetition}: " + ", ".join(
            f"{name} {result[f'{name}_events_per_s']:,.0f}/s" for name in WAYS))
    figures: dict[str, Any] = {"lines": runs[0]["lines"], "bad_inputs": len(BAD_INPUTS)}
    for name in WAYS:
        figures[f"{name}_events_per_s"] = spread([r[f"{name}_events_per_s"] for r in runs])
    figures["validate_json_over_validate_dict"] = spread(
        [r["validate_json_events_per_s"] / r["validate_dict_events_per_s"] for r in runs], 2)
    for name in ("validate_dict", "validate_json"):
        figures[f"{name}_same_error_fields"] = f"{runs[0][f'{name}_same_fields']}/{len(BAD_INPUTS)}"
    figures["error_fields"] = {name: runs[0][f"{name}_fields"]
                               for name in ("decode_event", "validate_dict", "validate_json")}
    return {"name": "decode", "params": params, "figures": figures, "goals": [], "runs": runs}
