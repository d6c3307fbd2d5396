"""Score-update latency on real Kafka: the worker (`perfledger consume`) in its own process, facts
produced at a steady rate with kafka-python, an independent kafka-python consumer on the
score-updates topic. An event's latency is the arrival of the first score update naming it in
`caused_by` minus the moment it was handed to the producer."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import takewhile
from pathlib import Path
from typing import Any

import orjson

from bench import data
from bench.harness import Config, goal, mib, percentile, run_child, spread

GOAL_P99_MS = 500.0


class UpdateListener(threading.Thread):
    """Reads the score-updates topic from the beginning; first arrival per event id."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        from kafka import KafkaConsumer

        self.consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                      auto_offset_reset="earliest", enable_auto_commit=False,
                                      fetch_max_wait_ms=10)
        self.first_seen: dict[str, float] = {}
        self.updates = 0
        self.last_arrival = 0.0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            polled = self.consumer.poll(timeout_ms=50)
            arrived = time.time()
            for records in polled.values():
                for record in records:
                    self.updates += 1
                    self.last_arrival = arrived
                    for event_id in orjson.loads(record.value).get("caused_by", ()):
                        self.first_seen.setdefault(event_id, arrived)

    def quiet_for(self, seconds: float) -> bool:
        return self.updates > 0 and time.time() - self.last_arrival >= seconds

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
        self.consumer.close()


@contextmanager
def _store(params: dict[str, Any], folder: Path) -> Iterator[str]:
    if params["backend"] == "postgresql":
        with data.postgres_database(params["server_url"]) as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'ledger.db'}"


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "perfledger", *args], env=env, cwd=data.ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"perfledger {' '.join(args)} exited {done.returncode}: {done.stderr}")


def _peak_rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _events(params: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The decisions (roster, targets) to load first, then the facts to stream."""
    from perfledger.simulation import simulate

    wanted = int(params["rate"] * params["seconds"])
    events = list(simulate(data.PERIOD, params["reps"], data.SEED, None))
    opening = events[0]["time"]
    head = list(takewhile(lambda e: e["time"] == opening
                          and e["type"] in ("roster.assigned", "target.set"), events))
    if len(events) - len(head) < wanted:
        events = list(simulate(data.PERIOD, params["reps"], data.SEED, len(head) + wanted))
    return head, events[len(head):len(head) + wanted]


def measure(params: dict[str, Any]) -> dict[str, Any]:
    """One run: fresh store and topics, the worker, warm-up decisions, the steady stream."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient

    from consumers.topics import Topics

    bootstrap = params["bootstrap"]
    topics = Topics(prefix=f"bench{uuid.uuid4().hex[:10]}.")
    decisions, facts = _events(params)
    with tempfile.TemporaryDirectory(prefix="perfledger-bench-") as folder, \
            _store(params, Path(folder)) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLEDGER_")}
        env.update({"PERFLEDGER_DATABASE_URL": url, "PERFLEDGER_KAFKA_BOOTSTRAP": bootstrap,
                    "PERFLEDGER_KAFKA_TOPIC_PREFIX": topics.prefix,
                    "PERFLEDGER_KAFKA_GROUP_ID": f"{topics.prefix}ingest"})
        _cli(env, "topics", "create")
        plan = Path(folder) / "plan.yaml"
        plan.write_text(data.plan_text())
        _cli(env, "plan", "publish", str(plan))
        log = Path(folder) / "worker.log"
        worker = subprocess.Popen([sys.executable, "-m", "perfledger", "consume"], env=env,
                                  cwd=data.ROOT, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
        listener = UpdateListener(bootstrap, topics.score_updates)
        listener.start()
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
        try:
            result = _drive({**params, "url": url}, topics, producer, listener, worker, decisions, facts)
            result["worker_peak_rss_kib"] = _peak_rss_kib(worker.pid)
        except Exception:
            sys.stderr.write(log.read_text()[-4000:])
            raise
        finally:
            producer.close()
            listener.stop()
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            admin = KafkaAdminClient(bootstrap_servers=bootstrap)
            try:
                admin.delete_topics([*topics.inbound, topics.rejects, topics.score_updates])
            except Exception as error:  # a leftover topic is harmless; say so and go on
                data.note(f"could not delete the topics {topics.prefix}*: {error}")
            finally:
                admin.close()
    return result


def _settled(url: str, recorded: int) -> bool:
    """Every decision recorded, no statement waiting to be recomputed, the outbox published."""
    from sqlalchemy import create_engine, func, select

    from projections.tables import facts, projection_positions, score_updates, stale_statements

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if (conn.execute(select(func.count()).select_from(facts)).scalar() or 0) < recorded:
                return False
            stale = conn.execute(select(func.count()).select_from(stale_statements)).scalar()
            outbox = conn.execute(select(func.max(score_updates.c.id))).scalar() or 0
            published = conn.execute(select(projection_positions.c.position).where(
                projection_positions.c.name == "score-updates-published")).scalar() or 0
    except Exception:  # the worker has not created the read models yet
        return False
    finally:
        engine.dispose()
    return stale == 0 and published == outbox


def _send(producer: Any, topics: Any, event: dict[str, Any]) -> None:
    topic = topics.for_type(event["type"])
    assert topic is not None
    producer.send(topic, value=orjson.dumps(event), key=topics.routing_key(event))


def _drive(params: dict[str, Any], topics: Any, producer: Any, listener: UpdateListener,
           worker: subprocess.Popen[bytes], decisions: list[dict[str, Any]],
           facts: list[dict[str, Any]]) -> dict[str, Any]:
    # Warm-up (not measured): the roster and targets, until the worker has recorded them all,
    # recomputed every statement and published every score update.
    for event in decisions:
        _send(producer, topics, event)
    producer.flush()
    deadline = time.time() + params["warmup_timeout"]
    while not (_settled(params["url"], len(decisions)) and listener.quiet_for(1.0)):
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode} during warm-up")
        if time.time() > deadline:
            raise RuntimeError(f"the worker did not settle within {params['warmup_timeout']} s of "
                               f"the {len(decisions)} warm-up decisions ({listener.updates} "
                               "score updates seen)")
        time.sleep(0.5)
    # The steady stream.
    produced: dict[str, float] = {}
    rate = params["rate"]
    started = time.time()
    for number, event in enumerate(facts):
        due = started + number / rate
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        produced[event["id"]] = time.time()
        _send(producer, topics, event)
    producer.flush()
    finished = time.time()
    # Drain: until every event has an update, or the worker has recorded every fact, recomputed
    # every statement and published every update (what is still missing then never comes), or
    # the time is up.
    drain_deadline = finished + params["drain_timeout"]
    recorded = len(decisions) + len(facts)
    ending = "timeout"
    while time.time() < drain_deadline:
        if all(event_id in listener.first_seen for event_id in produced):
            ending = "every event updated"
            break
        if listener.quiet_for(2.0) and _settled(params["url"], recorded):
            ending = "worker settled"
            break
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}")
        time.sleep(1.0)
    latencies = [(listener.first_seen[i] - t) * 1000 for i, t in produced.items()
                 if i in listener.first_seen]
    # After a timeout an event without an update has waited at least until the deadline: count
    # it with that wait, so the percentiles are lower bounds rather than flattering.
    censored = [(drain_deadline - t) * 1000 for i, t in produced.items()
                if i not in listener.first_seen] if ending == "timeout" else []
    sample = latencies + censored
    by_type: dict[str, list[int]] = {}
    for event in facts:
        seen = by_type.setdefault(event["type"], [0, 0])
        seen[0] += 1
        seen[1] += event["id"] in listener.first_seen
    return {
        "produced": len(produced), "updated": len(latencies), "drain_ended": ending,
        "censored": len(censored), "achieved_rate": len(produced) / (finished - started),
        "p50_ms": percentile(sample, 0.50) if sample else None,
        "p99_ms": percentile(sample, 0.99) if sample else None,
        "max_ms": max(sample) if sample else None,
        "updates_received": listener.updates,
        "by_type_produced_updated": by_type,
        "drained_seconds": time.time() - finished,
    }


MEASURES = {"measure": measure}


def run(config: Config) -> dict[str, Any]:
    bootstrap = data.start_service("kafka.sh")
    backends = ["sqlite", "postgresql"] if config.score_postgres else ["sqlite"]
    params: dict[str, Any] = {
        "bootstrap": bootstrap, "rate": config.score_rate, "seconds": config.score_seconds,
        "reps": config.reps, "warmup_timeout": 60.0 if config.quick else 300.0,
        "drain_timeout": 30.0 if config.quick else 300.0}
    figures: dict[str, Any] = {}
    all_runs: dict[str, Any] = {}
    for backend in backends:
        runs = []
        backend_params = dict(params, backend=backend)
        if backend == "postgresql":
            backend_params["server_url"] = data.start_service("postgres.sh")
        for repetition in range(1, config.repetitions + 1):
            result = run_child("score_latency", "measure", backend_params)
            runs.append(result)
            data.note(f"score-latency {backend} #{repetition}: {result['updated']}/"
                      f"{result['produced']} events updated (drain: {result['drain_ended']}, "
                      f"{result['drained_seconds']:.0f} s), p50 {result['p50_ms'] or 0:.0f} ms, "
                      f"p99 {result['p99_ms'] or 0:.0f} ms, max {result['max_ms'] or 0:.0f} ms")
        measured = [r for r in runs if r["p99_ms"] is not None]
        figures[backend] = {
            "p50_ms": spread([r["p50_ms"] for r in measured]) if measured else None,
            "p99_ms": spread([r["p99_ms"] for r in measured]) if measured else None,
            "max_ms": spread([r["max_ms"] for r in measured]) if measured else None,
            "updated_share": spread([r["updated"] / r["produced"] for r in runs], 4),
            "drain_seconds": spread([r["drained_seconds"] for r in runs]),
            "percentiles_are_lower_bounds": any(r["censored"] for r in runs),
            "achieved_rate": spread([r["achieved_rate"] for r in runs]),
            "worker_peak_rss_mib": spread([mib(r["worker_peak_rss_kib"] or 0) for r in runs]),
        }
        all_runs[backend] = runs
    goals = [goal(f"score-update p99 ≤ {GOAL_P99_MS:g} ms at {config.score_rate:,} events/s "
                  f"({backend})", figures[backend]["p99_ms"]["median"]
                  if figures[backend]["p99_ms"] else float("inf"), GOAL_P99_MS, at_most=True,
                  unit="ms") for backend in backends]
    return {"name": "score-latency",
            "params": {"rate": config.score_rate, "seconds": config.score_seconds,
                       "reps": config.reps, "backends": backends,
                       "drain_timeout_s": params["drain_timeout"]},
            "figures": figures, "goals": goals, "runs": all_runs}
