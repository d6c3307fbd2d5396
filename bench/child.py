"""One measurement in a fresh interpreter: `python -m bench.child MODULE KIND PARAMS_JSON`.

Prints one JSON object on its last line of standard output: the measurement's own figures plus
`maxrss_kib`, this process's peak resident set size (so a figure is never inflated by an
earlier repetition), plus `children_rss_kib` when the measurement reports the peaks of processes
it started (a replay spread over several)."""

from __future__ import annotations

import importlib
import resource
import signal
import sys

import orjson


def _stop(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds, so what the measurement started is stopped


def main() -> None:
    signal.signal(signal.SIGTERM, _stop)
    module, kind, params = sys.argv[1], sys.argv[2], orjson.loads(sys.argv[3])
    measures = importlib.import_module(f"bench.{module}").MEASURES
    # Start as `perfledger` does: its modules loaded and spared the collector's passes.
    import perfledger.cli  # noqa: F401
    from projections.runner import spare_long_lived

    spare_long_lived()
    result = measures[kind](params)
    own_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["maxrss_kib"] = own_kib + result.pop("children_rss_kib", 0)
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
