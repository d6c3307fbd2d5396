"""Shared fixtures: a fresh store per test on every backend, and the CLI as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """A running PostgreSQL: the one PERFLEDGER_DATABASE_URL names when it is a PostgreSQL URL,
    else one started by deploy/local/postgres.sh (which installs Debian's package when missing).
    Each test then gets a database of its own on it."""
    url = os.environ.get("PERFLEDGER_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return url
    started = subprocess.run([str(ROOT / "deploy/local/postgres.sh"), "start"], check=True,
                             capture_output=True, text=True)
    return started.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A running Kafka broker: the one PERFLEDGER_KAFKA_BOOTSTRAP names, else a single-node KRaft
    broker started by deploy/local/kafka.sh (which fetches the official jars with Maven) on 9092,
    or on a free port when another process holds 9092; a broker started here is stopped after
    the session."""
    bootstrap = os.environ.get("PERFLEDGER_KAFKA_BOOTSTRAP")
    if bootstrap:
        yield bootstrap
        return
    script = str(ROOT / "deploy/local/kafka.sh")
    port = _kafka_port(script)
    already = subprocess.run([script, "status", port], capture_output=True,
                             check=False).returncode == 0
    started = subprocess.run([script, "start", port], check=True, capture_output=True, text=True)
    yield started.stdout.strip().splitlines()[-1]
    if not already:
        subprocess.run([script, "stop", port], capture_output=True, check=False)


def _kafka_port(script: str) -> str:
    """9092 when this state's broker runs there or it is free (with its controller port, +1000),
    else the first free such pair from 19092."""
    if subprocess.run([script, "status", "9092"], capture_output=True,
                      check=False).returncode == 0:
        return "9092"
    for port in (9092, *range(19092, 19192)):
        if not (_in_use(port) or _in_use(port + 1000)):
            return str(port)
    raise RuntimeError("no free port for a Kafka broker in 9092 or 19092-19191")


def _in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"perfledger_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    _drop_database(admin, name)
    admin.dispose()


def _drop_database(admin: Any, name: str) -> None:
    """Drop a test database. An autovacuum worker of the server's own role can hold it for a
    moment (and only a superuser may end that), so try again briefly; a database left behind
    is harmless, so the last failure is not an error of the test."""
    for _ in range(20):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            time.sleep(0.25)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store: a SQLite file, then a PostgreSQL database (each scenario runs on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file store."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


class Cli:
    """Runs `perfledger --db URL …` in a subprocess, as a user would."""

    def __init__(self, database_url: str, cwd: Path) -> None:
        self.database_url = database_url
        self.cwd = cwd

    def run(self, *args: str, stdin: str | None = None, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        """Run a command; with `check`, fail the test on a non-zero exit."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERFLEDGER_")}
        done = subprocess.run(
            [sys.executable, "-m", "perfledger", "--db", self.database_url, *args], check=False,
            input=stdin, capture_output=True, text=True, cwd=self.cwd, env=env, timeout=300)
        if check and done.returncode != 0:
            raise AssertionError(f"perfledger {' '.join(args)} exited {done.returncode}:\n"
                                 f"{done.stderr}")
        return done

    def json(self, *args: str, stdin: str | None = None) -> Any:
        """Run a command with --json and decode its standard output."""
        return orjson.loads(self.run(*args, "--json", stdin=stdin).stdout)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    """The CLI against a fresh store on each backend."""
    return Cli(database_url, tmp_path)


def write_jsonl(path: Path, events: list[dict[str, Any]]) -> Path:
    """Write CloudEvents as JSON Lines."""
    path.write_bytes(b"".join(orjson.dumps(event) + b"\n" for event in events))
    return path
